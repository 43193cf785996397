package org.alphawatch.core.linalg;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.openblas.global.openblas;

/**
 * Tests whether a symmetric matrix is positive semi-definite, as every co-moment and every
 * covariance of paired passes is: {@code M} passes when the Cholesky factorization of
 * {@code M + tau I} exists, {@code tau = RELATIVE_TOLERANCE * trace(M)}, i.e. (up to the
 * factorization's own backward error, about {@code n * 2^-53 * ||M||}) when its smallest eigenvalue
 * is above {@code -tau}.
 *
 * <p>The tolerance admits rounding, not structure: a Gram matrix formed in float64 of centred rows
 * has eigenvalues down to about {@code -1e-17 trace}, one formed in float32 (a sender's option) down
 * to about {@code -1e-8 trace} (numpy, rank-deficient batches of 8..128 rows, 64..1024 units); a
 * matrix that is not a co-moment (say a 3 x 3 block with pairwise correlations 0.9, 0.9 and -0.9,
 * smallest eigenvalue -0.8 of a trace of 3) is far outside it.
 *
 * <p>Cost: one Cholesky factorization, {@code n^3 / 3} flops: LAPACK {@code dpotrf} on a transient
 * native copy ({@code 8 n^2} bytes, freed before returning) with the OpenBLAS back-end, a packed
 * Crout factorization on the heap ({@code 4 n^2} bytes) otherwise. Stateless and thread-safe.
 */
public final class Semidefinite {
    /** {@code tau / trace(M)}. */
    public static final double RELATIVE_TOLERANCE = 1e-6;

    private static final int COL_MAJOR = 102;

    /** The upper triangle of a symmetric matrix, entry by entry ({@code j >= i}). */
    @FunctionalInterface
    public interface Upper {
        double get(int i, int j);
    }

    private Semidefinite() {}

    /**
     * Whether the symmetric {@code n x n} matrix whose upper triangle {@code upper} gives is
     * positive semi-definite within the tolerance. Entries must be finite; a matrix with a zero
     * trace passes only when it is zero.
     */
    public static boolean holds(int n, Upper upper) {
        double trace = 0;
        for (int i = 0; i < n; i++) {
            double v = upper.get(i, i);
            if (v < 0) {
                return false;
            }
            trace += v;
        }
        if (trace == 0) {
            for (int i = 0; i < n; i++) {
                for (int j = i + 1; j < n; j++) {
                    if (upper.get(i, j) != 0) {
                        return false;
                    }
                }
            }
            return true;
        }
        double shift = RELATIVE_TOLERANCE * trace;
        return LinearAlgebra.backend() == LinearAlgebra.Backend.OPENBLAS ? nativeCholesky(n, upper, shift)
                : javaCholesky(n, upper, shift);
    }

    /** Whether the symmetric matrix with this packed upper triangle (row by row) is semi-definite. */
    public static boolean holdsPacked(int n, double[] upperRowByRow) {
        int[] rowStart = new int[n];
        for (int i = 1; i < n; i++) {
            rowStart[i] = rowStart[i - 1] + n - (i - 1);
        }
        return holds(n, (i, j) -> upperRowByRow[rowStart[i] + j - i]);
    }

    /** dpotrf on the lower triangle in column-major order, which is the upper one row by row. */
    private static boolean nativeCholesky(int n, Upper upper, double shift) {
        double[] row = new double[n];
        try (DoublePointer a = new DoublePointer((long) n * n)) {
            for (int i = 0; i < n; i++) {
                for (int j = i; j < n; j++) {
                    row[j] = upper.get(i, j) + (i == j ? shift : 0);
                }
                a.position((long) i * n + i).put(row, i, n - i);
            }
            a.position(0);
            return openblas.LAPACKE_dpotrf(COL_MAJOR, (byte) 'L', n, a, n) == 0;
        }
    }

    /** Crout on the lower triangle, packed row by row: row i holds L[i][0..i]. */
    private static boolean javaCholesky(int n, Upper upper, double shift) {
        double[] l = new double[(int) ((long) n * (n + 1) / 2)];
        for (int i = 0; i < n; i++) {
            int ri = (int) ((long) i * (i + 1) / 2);
            for (int j = 0; j <= i; j++) {
                int rj = (int) ((long) j * (j + 1) / 2);
                double s = upper.get(j, i) + (i == j ? shift : 0) - dot(l, ri, rj, j);
                if (j < i) {
                    l[ri + j] = s / l[rj + j];
                } else if (s > 0) {
                    l[ri + i] = Math.sqrt(s);
                } else {
                    return false;
                }
            }
        }
        return true;
    }

    private static double dot(double[] l, int a, int b, int len) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int k = 0;
        for (; k + 3 < len; k += 4) {
            s0 += l[a + k] * l[b + k];
            s1 += l[a + k + 1] * l[b + k + 1];
            s2 += l[a + k + 2] * l[b + k + 2];
            s3 += l[a + k + 3] * l[b + k + 3];
        }
        for (; k < len; k++) {
            s0 += l[a + k] * l[b + k];
        }
        return (s0 + s1) + (s2 + s3);
    }
}
