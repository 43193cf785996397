package org.alphawatch.core.spectrum;

import java.nio.DoubleBuffer;
import org.alphawatch.core.linalg.LinearAlgebra;
import org.bytedeco.openblas.global.openblas;

/**
 * LAPACK's divide-and-conquer symmetric eigen-solver ({@code dsyevd}, as numpy's {@code eigvalsh})
 * through the bundled OpenBLAS. The input is copied to an off-heap buffer (LAPACK overwrites it);
 * thread-safe.
 */
public final class OpenBlasEigenSolver implements EigenSolver {
    private static final int ROW_MAJOR = 101;

    @Override
    public String name() {
        return "openblas";
    }

    @Override
    public boolean eigenvalues(double[] a, int n, double[] values) {
        return solve(a, n, values, null);
    }

    @Override
    public boolean decompose(double[] a, int n, double[] values, double[] vectors) {
        return solve(a, n, values, vectors);
    }

    private static boolean solve(double[] a, int n, double[] values, double[] vectors) {
        DoubleBuffer m = LinearAlgebra.direct((long) n * n);
        m.put(a, 0, n * n).clear();
        DoubleBuffer w = LinearAlgebra.direct(n);
        int info = openblas.LAPACKE_dsyevd(ROW_MAJOR, (byte) (vectors == null ? 'N' : 'V'), (byte) 'U', n, m, n, w);
        if (info != 0) {
            return false;
        }
        // LAPACK returns ascending eigenvalues; column k of m holds the k-th eigenvector.
        for (int k = 0; k < n; k++) {
            values[k] = w.get(n - 1 - k);
        }
        if (vectors != null) {
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < n; k++) {
                    vectors[i * n + k] = m.get(i * n + (n - 1 - k));
                }
            }
        }
        return true;
    }
}
