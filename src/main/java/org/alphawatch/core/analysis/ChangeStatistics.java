package org.alphawatch.core.analysis;

import java.util.Arrays;
import java.util.Locale;

/**
 * What a change detector compares between two disjoint windows of one layer, each number with its
 * own sampling noise from the window's groups (delete-one-group jackknife, docs/alerting.md):
 *
 * <ul>
 * <li>{@link Scalar#ALPHA}: the power-law exponent (first-order jackknife, as the interval);</li>
 * <li>{@link Scalar#CURVATURE}: the bend of the log-log spectrum over the fit range, the quadratic
 * coefficient of the same weighted least squares (log lambda_r on -log r, weights 1/r) with
 * polynomials orthogonal under those weights, so it is independent of alpha's slope and of a common
 * scale (first-order jackknife);</li>
 * <li>{@link Scalar#LOG_PARTICIPATION}: {@code ln((sum lambda)^2 / sum lambda^2)} (exact
 * leave-one-group-out values from the groups' co-moments);</li>
 * <li>the principal subspace: the unit eigenvectors of the {@code k} largest eigenvalues (k at most
 * {@link #MAX_VECTORS}) and the jackknife estimate of how far sampling noise alone moves that
 * subspace ({@link #subspaceNoise()}: the expected {@code ||sin Theta||_F^2} between the estimate and
 * its population value, from first-order eigenvector perturbation by each left-out group).</li>
 * </ul>
 *
 * <p>Immutable. Memory: {@code 4 k d} bytes of vectors (12 KB at d = 384, 64 KB at d = 2048) and a
 * few numbers.
 */
public final class ChangeStatistics {
    /** Largest number of leading eigenvectors kept: bounds a snapshot's memory at {@code 32 d} bytes. */
    public static final int MAX_VECTORS = 8;

    /** Scalar statistics, in the order of {@link #value}. */
    public enum Scalar {
        ALPHA, CURVATURE, LOG_PARTICIPATION;

        public String label() {
            return switch (this) {
                case ALPHA -> "alpha";
                case CURVATURE -> "curvature";
                case LOG_PARTICIPATION -> "participation";
            };
        }
    }

    private final double[] values;
    private final double[] standardErrors;
    private final int groups;
    private final int dims;
    private final int vectorCount;
    private final float[] vectors;
    private final double subspaceNoise;
    private final double subspaceNoiseSpread;

    /**
     * @param values              by {@link Scalar} ordinal (copied)
     * @param standardErrors      jackknife standard errors, same order (copied; NaN when undefined)
     * @param vectors             {@code vectorCount x dims}, row i the unit eigenvector of the (i+1)-th
     *                            largest eigenvalue (copied)
     * @param subspaceNoise       jackknife estimate of {@code E ||sin Theta(U_hat, U)||_F^2}
     * @param subspaceNoiseSpread {@code sqrt(sum c^2)} over the perturbation components c whose sum
     *                            is {@code subspaceNoise} (how concentrated the noise is)
     */
    public ChangeStatistics(double[] values, double[] standardErrors, int groups, int dims, int vectorCount,
                            float[] vectors, double subspaceNoise, double subspaceNoiseSpread) {
        if (values.length != Scalar.values().length || standardErrors.length != values.length) {
            throw new IllegalArgumentException("one value and one error per scalar statistic");
        }
        if (vectorCount < 0 || vectorCount > MAX_VECTORS || vectors.length != vectorCount * dims) {
            throw new IllegalArgumentException(vectorCount + " vectors of " + dims + " in " + vectors.length + " floats");
        }
        this.values = values.clone();
        this.standardErrors = standardErrors.clone();
        this.groups = groups;
        this.dims = dims;
        this.vectorCount = vectorCount;
        this.vectors = vectors.clone();
        this.subspaceNoise = subspaceNoise;
        this.subspaceNoiseSpread = subspaceNoiseSpread;
    }

    public double value(Scalar s) {
        return values[s.ordinal()];
    }

    public double standardError(Scalar s) {
        return standardErrors[s.ordinal()];
    }

    /** Groups the jackknife used. */
    public int groups() {
        return groups;
    }

    public int dims() {
        return dims;
    }

    /** Leading eigenvectors kept (k). */
    public int vectorCount() {
        return vectorCount;
    }

    /** Component {@code j} of the unit eigenvector of the {@code (i+1)}-th largest eigenvalue. */
    public double vector(int i, int j) {
        return vectors[i * dims + j];
    }

    public double subspaceNoise() {
        return subspaceNoise;
    }

    public double subspaceNoiseSpread() {
        return subspaceNoiseSpread;
    }

    /**
     * {@code k - ||U_this^T U_other||_F^2}: the sum of squared sines of the principal angles between
     * the two k-dimensional leading subspaces (0: the same subspace; k: orthogonal). NaN when the two
     * keep a different number of vectors or have different widths.
     */
    public double subspaceDistance(ChangeStatistics other) {
        if (other.dims != dims || other.vectorCount != vectorCount || vectorCount == 0) {
            return Double.NaN;
        }
        double overlap = 0;
        for (int a = 0; a < vectorCount; a++) {
            for (int b = 0; b < vectorCount; b++) {
                double dot = 0;
                int ia = a * dims;
                int ib = b * dims;
                for (int j = 0; j < dims; j++) {
                    dot += (double) vectors[ia + j] * other.vectors[ib + j];
                }
                overlap += dot * dot;
            }
        }
        return Math.max(0, vectorCount - overlap);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChangeStatistics c && groups == c.groups && dims == c.dims && vectorCount == c.vectorCount
                && Arrays.equals(values, c.values) && Arrays.equals(standardErrors, c.standardErrors)
                && Arrays.equals(vectors, c.vectors) && Double.compare(subspaceNoise, c.subspaceNoise) == 0
                && Double.compare(subspaceNoiseSpread, c.subspaceNoiseSpread) == 0;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(values) + Arrays.hashCode(vectors)) + Double.hashCode(subspaceNoise);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "ChangeStatistics[alpha %.4f +/- %.4f, curvature %.4f +/- %.4f, ln PR %.4f "
                        + "+/- %.4f, k %d, subspace noise %.4f]", values[0], standardErrors[0], values[1], standardErrors[1],
                values[2], standardErrors[2], vectorCount, subspaceNoise);
    }
}
