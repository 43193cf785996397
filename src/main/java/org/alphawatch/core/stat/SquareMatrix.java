package org.alphawatch.core.stat;

import java.nio.DoubleBuffer;
import java.util.Arrays;
import org.alphawatch.core.linalg.LinearAlgebra;

/**
 * A dense n x n matrix of doubles, row-major, on the heap (pure-Java kernel) or off-heap (native
 * BLAS reads and writes it in place, without copies). Mutable, not thread-safe.
 */
final class SquareMatrix {
    final int n;
    final double[] heap;
    final DoubleBuffer direct;

    private SquareMatrix(int n, double[] heap, DoubleBuffer direct) {
        this.n = n;
        this.heap = heap;
        this.direct = direct;
    }

    static SquareMatrix heap(int n) {
        return new SquareMatrix(n, new double[n * n], null);
    }

    static SquareMatrix direct(int n) {
        return new SquareMatrix(n, null, LinearAlgebra.direct((long) n * n));
    }

    double get(int i) {
        return heap != null ? heap[i] : direct.get(i);
    }

    void set(int i, double v) {
        if (heap != null) {
            heap[i] = v;
        } else {
            direct.put(i, v);
        }
    }

    void add(int i, double v) {
        if (heap != null) {
            heap[i] += v;
        } else {
            direct.put(i, direct.get(i) + v);
        }
    }

    /** This += other, every entry (both triangles; the lower one stays whatever the kernels left, unused). */
    void addAll(SquareMatrix other) {
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
    void copyFrom(SquareMatrix other) {
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

    void clear() {
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
    void addOuterUpper(double[] a, double f) {
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
    void scaleUpper(double f) {
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
