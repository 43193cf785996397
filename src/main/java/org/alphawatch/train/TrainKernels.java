package org.alphawatch.train;

/**
 * The three dense products of a fully connected layer, row-major, written so that the innermost
 * loop is a contiguous axpy the JIT vectorizes. Nothing allocates.
 */
final class TrainKernels {
    private TrainKernels() {}

    /** y(rows x out) = x(rows x in) w(in x out) + b. */
    static void affine(double[] x, int rows, int in, double[] w, double[] b, int out, double[] y) {
        for (int r = 0; r < rows; r++) {
            int yr = r * out;
            System.arraycopy(b, 0, y, yr, out);
            int xr = r * in;
            for (int k = 0; k < in; k++) {
                double a = x[xr + k];
                if (a == 0) {
                    continue; // ReLU and dropout zeros are common
                }
                int wk = k * out;
                for (int j = 0; j < out; j++) {
                    y[yr + j] += a * w[wk + j];
                }
            }
        }
    }

    /** dw(in x out) = x^T g; db = column sums of g(rows x out). */
    static void gradients(double[] x, int rows, int in, double[] g, int out, double[] dw, double[] db) {
        java.util.Arrays.fill(dw, 0, in * out, 0);
        java.util.Arrays.fill(db, 0, out, 0);
        for (int r = 0; r < rows; r++) {
            int gr = r * out;
            for (int j = 0; j < out; j++) {
                db[j] += g[gr + j];
            }
            int xr = r * in;
            for (int k = 0; k < in; k++) {
                double a = x[xr + k];
                if (a == 0) {
                    continue;
                }
                int wk = k * out;
                for (int j = 0; j < out; j++) {
                    dw[wk + j] += a * g[gr + j];
                }
            }
        }
    }

    /** dx(rows x in) = g(rows x out) w^T, with w (in x out). */
    static void backprop(double[] g, int rows, int out, double[] w, int in, double[] dx) {
        for (int r = 0; r < rows; r++) {
            int gr = r * out;
            int dr = r * in;
            for (int k = 0; k < in; k++) {
                int wk = k * out;
                double s0 = 0;
                double s1 = 0;
                int j = 0;
                for (; j + 1 < out; j += 2) {
                    s0 += g[gr + j] * w[wk + j];
                    s1 += g[gr + j + 1] * w[wk + j + 1];
                }
                for (; j < out; j++) {
                    s0 += g[gr + j] * w[wk + j];
                }
                dx[dr + k] = s0 + s1;
            }
        }
    }
}
