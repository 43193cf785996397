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

    void clear() {
        if (heap != null) {
            Arrays.fill(heap, 0);
        } else {
            for (int i = 0; i < n * n; i++) {
                direct.put(i, 0);
            }
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

    /** Upper triangle *= f. */
    void scaleUpper(double f) {
        for (int i = 0; i < n; i++) {
            int row = i * n;
            for (int j = i; j < n; j++) {
                set(row + j, get(row + j) * f);
            }
        }
    }
}
