package org.alphawatch.core.linalg;

import java.nio.DoubleBuffer;
import java.util.Arrays;

/**
 * A dense n x n matrix of doubles, row-major, on the heap (pure-Java kernel) or off-heap (native
 * BLAS and LAPACK read and write it in place, without copies). The accumulators keep symmetric
 * matrices in the upper triangle ({@code j >= i}); a row-major upper triangle is the column-major
 * lower triangle, which is how LAPACK is called on it. Mutable, not thread-safe.
 */
public final class SquareMatrix {
    final int n;
    final double[] heap;
    final DoubleBuffer direct;

    private SquareMatrix(int n, double[] heap, DoubleBuffer direct) {
        this.n = n;
        this.heap = heap;
        this.direct = direct;
    }

    public static SquareMatrix heap(int n) {
        return new SquareMatrix(n, new double[n * n], null);
    }

    public static SquareMatrix direct(int n) {
        return new SquareMatrix(n, null, LinearAlgebra.direct((long) n * n));
    }

    public int size() {
        return n;
    }

    public boolean isDirect() {
        return direct != null;
    }

    /** The off-heap storage (for BLAS and LAPACK calls), or null on the heap. */
    public DoubleBuffer directBuffer() {
        return direct;
    }

    /** The heap storage, or null off-heap. */
    public double[] heapArray() {
        return heap;
    }

    /**
     * {@code sum_ij S_ij B_ij} where S is the symmetric matrix whose upper triangle this holds and
     * B is {@code b} read as a full symmetric matrix: the diagonal once, each j > i pair twice.
     * The lower triangle of this matrix is not read.
     */
    public double symmetricDot(SquareMatrix b) {
        double diagonal = 0;
        double upper = 0;
        for (int i = 0; i < n; i++) {
            int row = i * n;
            diagonal += get(row + i) * b.get(row + i);
            double s = 0;
            if (heap != null && b.heap != null) {
                for (int j = i + 1; j < n; j++) {
                    s += heap[row + j] * b.heap[row + j];
                }
            } else {
                for (int j = i + 1; j < n; j++) {
                    s += get(row + j) * b.get(row + j);
                }
            }
            upper += s;
        }
        return diagonal + 2 * upper;
    }

    /** {@code x^T B x} for this matrix read as full (both triangles). */
    public double quadraticForm(double[] x) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            int row = i * n;
            double s = 0;
            if (heap != null) {
                for (int j = 0; j < n; j++) {
                    s += heap[row + j] * x[j];
                }
            } else {
                for (int j = 0; j < n; j++) {
                    s += direct.get(row + j) * x[j];
                }
            }
            total += x[i] * s;
        }
        return total;
    }

    public double get(int i) {
        return heap != null ? heap[i] : direct.get(i);
    }

    public void set(int i, double v) {
        if (heap != null) {
            heap[i] = v;
        } else {
            direct.put(i, v);
        }
    }

    public void add(int i, double v) {
        if (heap != null) {
            heap[i] += v;
        } else {
            direct.put(i, direct.get(i) + v);
        }
    }

    /** This += other, every entry (both triangles; the lower one stays whatever the kernels left, unused). */
    public void addAll(SquareMatrix other) {
        if (heap != null && other.heap != null) {
            for (int i = 0; i < heap.length; i++) {
                heap[i] += other.heap[i];
            }
        } else if (direct != null && other.direct != null) {
            org.bytedeco.openblas.global.openblas.cblas_daxpy(n * n, 1.0, other.direct, 1, direct, 1);
        } else {
            for (int i = 0; i < n * n; i++) {
                add(i, other.get(i));
            }
        }
    }

    /** This = other, every entry. */
    public void copyFrom(SquareMatrix other) {
        if (heap != null && other.heap != null) {
            System.arraycopy(other.heap, 0, heap, 0, heap.length);
        } else if (direct != null && other.direct != null) {
            direct.clear();
            direct.put(other.direct.duplicate().clear());
            direct.clear();
        } else {
            for (int i = 0; i < n * n; i++) {
                set(i, other.get(i));
            }
        }
    }

    public void clear() {
        if (heap != null) {
            Arrays.fill(heap, 0);
        } else {
            // Bulk writes of zeros (BLAS dscal by 0 may keep NaNs, which a reset must not).
            double[] zeros = new double[Math.min(n * n, 4096)];
            direct.clear();
            while (direct.hasRemaining()) {
                direct.put(zeros, 0, Math.min(zeros.length, direct.remaining()));
            }
            direct.clear();
        }
    }

    /** Upper triangle (j >= i) += f * a a^T. */
    public void addOuterUpper(double[] a, double f) {
        if (f == 0) {
            return;
        }
        for (int i = 0; i < n; i++) {
            double fi = f * a[i];
            int row = i * n;
            if (heap != null) {
                for (int j = i; j < n; j++) {
                    heap[row + j] += fi * a[j];
                }
            } else {
                for (int j = i; j < n; j++) {
                    direct.put(row + j, direct.get(row + j) + fi * a[j]);
                }
            }
        }
    }

    /** Every entry *= f (the unused lower triangle is zero or scaled along; f is finite). */
    public void scaleUpper(double f) {
        if (direct != null) {
            org.bytedeco.openblas.global.openblas.cblas_dscal(n * n, f, direct, 1);
            return;
        }
        for (int i = 0; i < n; i++) {
            int row = i * n;
            for (int j = i; j < n; j++) {
                heap[row + j] *= f;
            }
        }
    }
}
