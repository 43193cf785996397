package org.alphawatch.core.spectrum;

import java.nio.DoubleBuffer;
import java.util.Random;
import org.alphawatch.core.linalg.LinearAlgebra;
import org.bytedeco.openblas.global.openblas;

/**
 * The top k eigenvalues of a symmetric positive semi-definite matrix by randomized block subspace
 * iteration with Rayleigh-Ritz (Halko, Martinsson and Tropp 2011, algorithm 4.4): a Gaussian block
 * of {@code k + oversample} columns, {@code iterations} rounds of multiply-and-orthonormalize
 * (Householder QR each round, so ill-conditioned power-law spectra stay stable), then the
 * eigenvalues of the small projected matrix. Cost O(n^2 l) per round with l = k + oversample,
 * against O(n^3) for a full solve: the fit window ends at rank 500, so a 8192-unit layer needs
 * 500 of 8192 eigenvalues. Ritz values never exceed the true eigenvalues; their accuracy near
 * rank k is stated in docs/performance.md and tested in {@code PartialEigenSolverTest}.
 *
 * <p>Native (OpenBLAS dgemm, dgeqrf, dorgqr, dsyevd); requires the OpenBLAS back-end.
 */
public final class PartialEigenSolver {
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;

    private final int oversample;
    private final int iterations;
    private final long seed;

    public PartialEigenSolver(int oversample, int iterations, long seed) {
        if (oversample < 0 || iterations < 0) {
            throw new IllegalArgumentException("oversample and iterations must be >= 0");
        }
        this.oversample = oversample;
        this.iterations = iterations;
        this.seed = seed;
    }

    /** Defaults used by analyze and the monitor: 50% oversampling (at least 64 columns) and 4 rounds. */
    public static PartialEigenSolver defaults() {
        return new PartialEigenSolver(-1 >>> 1, 4, 42);
    }

    public static boolean available() {
        return LinearAlgebra.nativeAvailable();
    }

    private int blockSize(int n, int k) {
        int extra = oversample == (-1 >>> 1) ? Math.max(64, k / 2) : oversample;
        return (int) Math.min(n, (long) k + extra);
    }

    /**
     * Writes the {@code k} largest eigenvalues of the n x n row-major {@code a} (not modified) to
     * {@code out[0..k)}, descending. Returns false when LAPACK reports a failure.
     */
    public boolean topEigenvalues(double[] a, int n, int k, double[] out) {
        if (k < 1 || k > n) {
            throw new IllegalArgumentException("k " + k + " outside 1.." + n);
        }
        int l = blockSize(n, k);
        if (l >= n) {
            double[] all = new double[n];
            if (!new OpenBlasEigenSolver().eigenvalues(a, n, all)) {
                return false;
            }
            System.arraycopy(all, 0, out, 0, k);
            return true;
        }
        DoubleBuffer c = LinearAlgebra.direct((long) n * n);
        c.put(a, 0, n * n).clear();
        DoubleBuffer y = LinearAlgebra.direct((long) n * l);
        DoubleBuffer q = LinearAlgebra.direct((long) n * l);
        DoubleBuffer tau = LinearAlgebra.direct(l);
        Random random = new Random(seed);
        for (int i = 0; i < n * l; i++) {
            q.put(i, random.nextGaussian());
        }
        multiply(c, q, y, n, l);
        for (int round = 0; round < iterations; round++) {
            if (!orthonormalize(y, tau, n, l)) {
                return false;
            }
            multiply(c, y, q, n, l);
            DoubleBuffer t = y;
            y = q;
            q = t;
        }
        if (!orthonormalize(y, tau, n, l)) {
            return false;
        }
        multiply(c, y, q, n, l); // q = C Y
        DoubleBuffer b = LinearAlgebra.direct((long) l * l);
        openblas.cblas_dgemm(ROW_MAJOR, TRANS, NO_TRANS, l, l, n, 1.0, y, l, q, l, 0.0, b, l);
        DoubleBuffer w = LinearAlgebra.direct(l);
        if (openblas.LAPACKE_dsyevd(ROW_MAJOR, (byte) 'N', (byte) 'U', l, b, l, w) != 0) {
            return false;
        }
        for (int i = 0; i < k; i++) {
            out[i] = w.get(l - 1 - i);
        }
        return true;
    }

    /** out (n x l) = c (n x n) x in (n x l). */
    private static void multiply(DoubleBuffer c, DoubleBuffer in, DoubleBuffer out, int n, int l) {
        openblas.cblas_dgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, n, l, n, 1.0, c, n, in, l, 0.0, out, l);
    }

    /** Replaces the n x l matrix by an orthonormal basis of its columns (Householder QR). */
    private static boolean orthonormalize(DoubleBuffer m, DoubleBuffer tau, int n, int l) {
        return openblas.LAPACKE_dgeqrf(ROW_MAJOR, n, l, m, l, tau) == 0
                && openblas.LAPACKE_dorgqr(ROW_MAJOR, n, l, l, m, l, tau) == 0;
    }
}
