package org.alphawatch.core.projection;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * How well a representation reflects the input: K-fold cross-validated R^2 of an affine
 * least-squares read-out of the input latent from the representation. Folds interleave
 * ({@code i mod K}), which for points ordered along a path tests interpolation between neighbours.
 * R^2 pools squared errors over folds and averages over latent columns; it can be negative when the
 * read-out is worse than predicting the mean.
 */
public final class LinearReadout {
    /** A ridge of this size relative to the mean diagonal keeps collinear features solvable. */
    private static final double RIDGE = 1e-9;

    private LinearReadout() {}

    /**
     * @param features row-major n x p
     * @param latent   row-major n x q
     */
    public static double crossValidatedR2(double[] features, int n, int p, double[] latent, int q, int folds) {
        if (folds < 2 || n < 2 * folds) {
            throw new IllegalArgumentException(n + " points are too few for " + folds + "-fold cross-validation");
        }
        int cols = p + 1;
        double[] sse = new double[q];
        double[] mean = new double[q];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < q; c++) {
                mean[c] += latent[i * q + c] / n;
            }
        }
        double[] sst = new double[q];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < q; c++) {
                double d = latent[i * q + c] - mean[c];
                sst[c] += d * d;
            }
        }
        DMatrixRMaj xtx = new DMatrixRMaj(cols, cols);
        DMatrixRMaj xty = new DMatrixRMaj(cols, q);
        DMatrixRMaj beta = new DMatrixRMaj(cols, q);
        double[] row = new double[cols];
        for (int f = 0; f < folds; f++) {
            xtx.zero();
            xty.zero();
            for (int i = 0; i < n; i++) {
                if (i % folds == f) {
                    continue;
                }
                fill(row, features, i, p);
                for (int a = 0; a < cols; a++) {
                    for (int b = 0; b < cols; b++) {
                        xtx.data[a * cols + b] += row[a] * row[b];
                    }
                    for (int c = 0; c < q; c++) {
                        xty.data[a * q + c] += row[a] * latent[i * q + c];
                    }
                }
            }
            double trace = 0;
            for (int a = 0; a < cols; a++) {
                trace += xtx.data[a * cols + a];
            }
            for (int a = 1; a < cols; a++) {
                xtx.data[a * cols + a] += RIDGE * trace / cols;
            }
            if (!CommonOps_DDRM.solve(xtx, xty, beta)) {
                return Double.NaN;
            }
            for (int i = f; i < n; i += folds) {
                fill(row, features, i, p);
                for (int c = 0; c < q; c++) {
                    double pred = 0;
                    for (int a = 0; a < cols; a++) {
                        pred += row[a] * beta.data[a * q + c];
                    }
                    double d = latent[i * q + c] - pred;
                    sse[c] += d * d;
                }
            }
        }
        double r2 = 0;
        for (int c = 0; c < q; c++) {
            r2 += sst[c] > 0 ? 1 - sse[c] / sst[c] : 0;
        }
        return r2 / q;
    }

    private static void fill(double[] row, double[] features, int i, int p) {
        row[0] = 1;
        System.arraycopy(features, i * p, row, 1, p);
    }
}
