package org.alphawatch.core.stat;

import java.util.Arrays;

/**
 * Immutable estimate from two repeats: repeat A's covariance {@code C11} and the cross-covariance
 * {@code C12 = M_ab / (n - 1)} (row-major, not symmetric). Array accessors return copies.
 */
public final class CrossCovarianceSnapshot {
    private final int dims;
    private final long count;
    private final double[] covarianceA;
    private final double[] crossCovariance;

    CrossCovarianceSnapshot(int dims, long count, double[] covarianceA, double[] crossCovariance) {
        this.dims = dims;
        this.count = count;
        this.covarianceA = covarianceA;
        this.crossCovariance = crossCovariance;
    }

    public int dims() {
        return dims;
    }

    public long count() {
        return count;
    }

    public double[] covarianceA() {
        return covarianceA.clone();
    }

    public double[] crossCovariance() {
        return crossCovariance.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CrossCovarianceSnapshot s && s.dims == dims && s.count == count
                && Arrays.equals(s.covarianceA, covarianceA) && Arrays.equals(s.crossCovariance, crossCovariance);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(covarianceA) + Arrays.hashCode(crossCovariance);
    }
}
