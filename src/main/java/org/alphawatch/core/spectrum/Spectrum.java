package org.alphawatch.core.spectrum;

import java.util.Arrays;
import org.alphawatch.core.stat.CovarianceSnapshot;

/**
 * Immutable eigenspectrum of a sample covariance: {@code K = min(m, n - 1)} eigenvalues in
 * descending order (the rest are zero by construction). Negative values from round-off are clamped
 * to zero and counted. The numerical rank counts eigenvalues above {@code 10 K eps lambda_1}.
 *
 * <p>A <em>partial</em> spectrum ({@link #top}) holds only the largest eigenvalues; the trace and
 * the sum of squares still describe the whole matrix (they come from its entries), so normalized
 * values, participation ratio and stable rank stay exact.
 */
public final class Spectrum {
    private final double[] eigenvalues;
    private final long samples;
    private final int dims;
    private final int clampedNegatives;
    private final int numericalRank;
    private final double trace;
    private final double sumOfSquares;
    private final int fullSize;

    private Spectrum(double[] eigenvalues, long samples, int dims, int clampedNegatives) {
        this(eigenvalues, samples, dims, clampedNegatives, Double.NaN, Double.NaN, eigenvalues.length);
    }

    private Spectrum(double[] eigenvalues, long samples, int dims, int clampedNegatives, double trace,
                     double sumOfSquares, int fullSize) {
        this.eigenvalues = eigenvalues;
        this.samples = samples;
        this.dims = dims;
        this.clampedNegatives = clampedNegatives;
        this.fullSize = fullSize;
        double sum = 0;
        double squares = 0;
        for (double v : eigenvalues) {
            sum += v;
            squares += v * v;
        }
        this.trace = Double.isNaN(trace) ? sum : trace;
        this.sumOfSquares = Double.isNaN(sumOfSquares) ? squares : sumOfSquares;
        int k = eigenvalues.length;
        double tol = k == 0 ? 0 : 10.0 * k * Math.ulp(1.0) * eigenvalues[0];
        int rank = 0;
        while (rank < k && eigenvalues[rank] > tol) {
            rank++;
        }
        this.numericalRank = rank;
    }

    /**
     * Builds a spectrum from raw eigenvalues of an m x m covariance estimated from {@code samples}
     * samples. {@code raw}: not modified; any order.
     */
    public static Spectrum of(double[] raw, long samples, int dims) {
        if (raw.length != dims) {
            throw new IllegalArgumentException(raw.length + " eigenvalues for " + dims + " dims");
        }
        double[] sorted = raw.clone();
        Arrays.sort(sorted);
        int k = (int) Math.max(0, Math.min(dims, samples - 1));
        double[] kept = new double[k];
        int clamped = 0;
        for (int i = 0; i < k; i++) {
            double v = sorted[dims - 1 - i];
            if (v < 0) {
                v = 0;
                clamped++;
            }
            kept[i] = v;
        }
        return new Spectrum(kept, samples, dims, clamped);
    }

    /**
     * The {@code k} largest eigenvalues of a covariance (randomized subspace iteration), with the
     * whole matrix's trace and sum of squared entries. Falls back to a full solve when k is not
     * well below K.
     */
    public static Spectrum top(CovarianceSnapshot cov, int k, PartialEigenSolver partial, EigenSolver full) {
        int m = cov.dims();
        int fullSize = (int) Math.max(0, Math.min(m, cov.count() - 1));
        if (k >= fullSize) {
            return compute(cov, full);
        }
        double[] c = cov.covariance();
        double trace = 0;
        double squares = 0;
        for (int i = 0; i < m; i++) {
            trace += c[i * m + i];
            for (int j = 0; j < m; j++) {
                squares += c[i * m + j] * c[i * m + j];
            }
        }
        double[] values = new double[k];
        if (!partial.topEigenvalues(c, m, k, values)) {
            throw new ArithmeticException("partial eigen-solver failed on a " + m + "x" + m + " covariance");
        }
        int clamped = 0;
        for (int i = 0; i < k; i++) {
            if (values[i] < 0) {
                values[i] = 0;
                clamped++;
            }
        }
        return new Spectrum(values, cov.count(), m, clamped, trace, squares, fullSize);
    }

    /** Eigen-decomposes a covariance snapshot; throws {@link ArithmeticException} if the solver fails. */
    public static Spectrum compute(CovarianceSnapshot cov, EigenSolver solver) {
        int m = cov.dims();
        double[] values = new double[m];
        if (!solver.eigenvalues(cov.covariance(), m, values)) {
            throw new ArithmeticException(solver.name() + " eigen-solver did not converge on a " + m + "x" + m
                    + " covariance");
        }
        return of(values, cov.count(), m);
    }

    /** Descending eigenvalues, a copy. */
    public double[] eigenvalues() {
        return eigenvalues.clone();
    }

    public double eigenvalue(int rank) {
        return eigenvalues[rank - 1];
    }

    /** Eigenvalues held: K = min(m, n - 1), or fewer for a partial spectrum. */
    public int size() {
        return eigenvalues.length;
    }

    /** K = min(m, n - 1), the number of eigenvalues that can be non-zero. */
    public int fullSize() {
        return fullSize;
    }

    /** Whether only the largest eigenvalues were computed. */
    public boolean partial() {
        return fullSize > eigenvalues.length;
    }

    /** Sum of squared eigenvalues (the squared Frobenius norm), exact also for partial spectra. */
    public double sumOfSquares() {
        return sumOfSquares;
    }

    public long samples() {
        return samples;
    }

    public int dims() {
        return dims;
    }

    public int clampedNegatives() {
        return clampedNegatives;
    }

    public int numericalRank() {
        return numericalRank;
    }

    /** Sum of the eigenvalues (total variance). */
    public double trace() {
        return trace;
    }

    /** Eigenvalues divided by their sum (all zero when the trace is zero). */
    public double[] normalized() {
        double[] p = new double[eigenvalues.length];
        if (trace > 0) {
            for (int i = 0; i < p.length; i++) {
                p[i] = eigenvalues[i] / trace;
            }
        }
        return p;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Spectrum s && s.samples == samples && s.dims == dims
                && s.clampedNegatives == clampedNegatives && Arrays.equals(s.eigenvalues, eigenvalues);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(eigenvalues) * 31 + Long.hashCode(samples);
    }

    @Override
    public String toString() {
        return "Spectrum[K=" + eigenvalues.length + ", n=" + samples + ", m=" + dims + ", rank=" + numericalRank + "]";
    }
}
