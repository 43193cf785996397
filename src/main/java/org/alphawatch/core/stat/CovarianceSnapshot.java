package org.alphawatch.core.stat;

import java.util.Arrays;

/**
 * Immutable covariance estimate: the sample mean and the full symmetric covariance
 * {@code C = M / (weight - 1)} (row-major, {@code dims x dims}; all zero while weight <= 1).
 * Array accessors return copies.
 */
public final class CovarianceSnapshot {
    private final int dims;
    private final long count;
    private final double weight;
    private final double[] mean;
    private final double[] covariance;

    CovarianceSnapshot(int dims, long count, double weight, double[] mean, double[] covariance) {
        this.dims = dims;
        this.count = count;
        this.weight = weight;
        this.mean = mean;
        this.covariance = covariance;
    }

    public int dims() {
        return dims;
    }

    /** Samples that went into the estimate (before decay). */
    public long count() {
        return count;
    }

    /** Effective sample size: {@link #count} unless decay was applied. */
    public double weight() {
        return weight;
    }

    public double[] mean() {
        return mean.clone();
    }

    /** A fresh row-major copy of the covariance matrix. */
    public double[] covariance() {
        return covariance.clone();
    }

    public double covariance(int i, int j) {
        return covariance[i * dims + j];
    }

    public double trace() {
        double t = 0;
        for (int i = 0; i < dims; i++) {
            t += covariance[i * dims + i];
        }
        return t;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CovarianceSnapshot s && s.dims == dims && s.count == count
                && Double.compare(s.weight, weight) == 0 && Arrays.equals(s.mean, mean)
                && Arrays.equals(s.covariance, covariance);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Long.hashCode(count) + Arrays.hashCode(mean)) + Arrays.hashCode(covariance);
    }

    @Override
    public String toString() {
        return "CovarianceSnapshot[dims=" + dims + ", count=" + count + ", weight=" + weight + "]";
    }
}
