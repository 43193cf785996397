package org.alphawatch.core.stat;

import org.alphawatch.core.linalg.SquareMatrix;

import java.nio.DoubleBuffer;
import org.alphawatch.core.linalg.LinearAlgebra;
import org.bytedeco.openblas.global.openblas;

/**
 * The hot path of the covariance update: {@code M += T T^T} on the upper triangle, where T is a
 * centred batch staged column-major (row-major d x b). One instance per accumulator (it may own
 * scratch buffers). Two implementations pass the same property tests.
 */
public interface CoMomentKernel {
    String name();

    SquareMatrix allocate(int dims);

    /**
     * Centres a batch ({@code rows} rows of {@code dims} values, row-major from {@code offset};
     * exactly one of {@code d} and {@code f} is non-null), writes its mean as a double-double
     * {@code hi + lo}, and adds the centred outer products to the upper triangle of {@code m}.
     */
    void addBatch(double[] d, float[] f, int offset, int rows, int dims, double[] hi, double[] lo, SquareMatrix m);

    /** The kernels by back-end. */
    enum Kind {
        JAVA, OPENBLAS;

        public CoMomentKernel create(int dims) {
            return this == JAVA ? new JavaKernel() : new OpenBlasKernel();
        }

        /** The process-wide choice of {@link LinearAlgebra#backend()}. */
        public static Kind selected() {
            return LinearAlgebra.backend() == LinearAlgebra.Backend.OPENBLAS ? OPENBLAS : JAVA;
        }
    }

    /** Blocked pure-Java kernel on a heap matrix; the batch is staged column-major so dot products run on contiguous columns. */
    final class JavaKernel implements CoMomentKernel {
        private static final double[] NONE = new double[0];
        private double[] staged = new double[0];

        @Override
        public String name() {
            return "java";
        }

        @Override
        public SquareMatrix allocate(int dims) {
            return SquareMatrix.heap(dims);
        }

        @Override
        public void addBatch(double[] d, float[] f, int offset, int rows, int dims, double[] hi, double[] lo,
                             SquareMatrix m) {
            int n = rows * dims;
            if (staged.length < n) {
                staged = new double[n];
            }
            if (d != null) {
                Kernels.stage(d, offset, rows, dims, staged);
            } else {
                Kernels.stage(f, offset, rows, dims, staged);
            }
            Kernels.center(staged, rows, dims, hi, lo);
            Kernels.addCoMoment(staged, staged, rows, dims, m.heapArray(), NONE, NONE, 0, true);
        }
    }

    /**
     * OpenBLAS {@code cblas_dsyrk} (transposed: {@code M += X_c^T X_c}) on an off-heap matrix. The
     * batch keeps its row-major layout: two passes compute the double-double column means, a third
     * writes the centred rows into a direct buffer (O(b d)); the update itself (O(b d^2)) runs in
     * native code without copying M.
     */
    final class OpenBlasKernel implements CoMomentKernel {
        private static final int ROW_MAJOR = 101;
        private static final int UPPER = 121;
        private static final int TRANS = 112;
        private DoubleBuffer batch = LinearAlgebra.direct(0);
        private double[] row = new double[0];

        @Override
        public String name() {
            return "openblas";
        }

        @Override
        public SquareMatrix allocate(int dims) {
            return SquareMatrix.direct(dims);
        }

        @Override
        public void addBatch(double[] d, float[] f, int offset, int rows, int dims, double[] hi, double[] lo,
                             SquareMatrix m) {
            int n = rows * dims;
            if (batch.capacity() < n) {
                batch = LinearAlgebra.direct(n);
            }
            if (row.length < dims) {
                row = new double[dims];
            }
            if (d != null) {
                centerRows(d, offset, rows, dims, hi, lo);
            } else {
                centerRows(f, offset, rows, dims, hi, lo);
            }
            batch.clear();
            openblas.cblas_dsyrk(ROW_MAJOR, UPPER, TRANS, dims, rows, 1.0, batch, dims, 1.0, m.directBuffer(), dims);
        }

        // Separate loops per element type keep the inner loops simple enough to vectorize.
        private void centerRows(double[] x, int offset, int rows, int dims, double[] hi, double[] lo) {
            java.util.Arrays.fill(hi, 0, dims, 0);
            java.util.Arrays.fill(lo, 0, dims, 0);
            for (int r = 0; r < rows; r++) {
                int base = offset + r * dims;
                for (int j = 0; j < dims; j++) {
                    hi[j] += x[base + j];
                }
            }
            for (int j = 0; j < dims; j++) {
                hi[j] /= rows;
            }
            for (int r = 0; r < rows; r++) {
                int base = offset + r * dims;
                for (int j = 0; j < dims; j++) {
                    lo[j] += x[base + j] - hi[j];
                }
            }
            for (int j = 0; j < dims; j++) {
                lo[j] /= rows;
            }
            batch.clear();
            for (int r = 0; r < rows; r++) {
                int base = offset + r * dims;
                for (int j = 0; j < dims; j++) {
                    row[j] = (x[base + j] - hi[j]) - lo[j];
                }
                batch.put(row, 0, dims);
            }
        }

        private void centerRows(float[] x, int offset, int rows, int dims, double[] hi, double[] lo) {
            java.util.Arrays.fill(hi, 0, dims, 0);
            java.util.Arrays.fill(lo, 0, dims, 0);
            for (int r = 0; r < rows; r++) {
                int base = offset + r * dims;
                for (int j = 0; j < dims; j++) {
                    hi[j] += x[base + j];
                }
            }
            for (int j = 0; j < dims; j++) {
                hi[j] /= rows;
            }
            for (int r = 0; r < rows; r++) {
                int base = offset + r * dims;
                for (int j = 0; j < dims; j++) {
                    lo[j] += x[base + j] - hi[j];
                }
            }
            for (int j = 0; j < dims; j++) {
                lo[j] /= rows;
            }
            batch.clear();
            for (int r = 0; r < rows; r++) {
                int base = offset + r * dims;
                for (int j = 0; j < dims; j++) {
                    row[j] = (x[base + j] - hi[j]) - lo[j];
                }
                batch.put(row, 0, dims);
            }
        }
    }
}
