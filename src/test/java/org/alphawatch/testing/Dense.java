package org.alphawatch.testing;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Random;

/** Exact or dense references and generated data for tests. */
public final class Dense {
    private Dense() {}

    /**
     * Two-pass covariance (row-major n x m data): the mean summed exactly in BigDecimal, then
     * centred products summed in float64. The reference every streaming estimate is checked against.
     */
    public static double[] twoPassCovariance(double[] x, int n, int m) {
        double[] mean = exactMean(x, n, m);
        double[] c = new double[m * m];
        double[] d = new double[m];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < m; j++) {
                d[j] = x[r * m + j] - mean[j];
            }
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < m; j++) {
                    c[i * m + j] += d[i] * d[j];
                }
            }
        }
        for (int k = 0; k < c.length; k++) {
            c[k] /= (n - 1);
        }
        return c;
    }

    public static double[] exactMean(double[] x, int n, int m) {
        double[] mean = new double[m];
        for (int j = 0; j < m; j++) {
            BigDecimal s = BigDecimal.ZERO;
            for (int r = 0; r < n; r++) {
                s = s.add(new BigDecimal(x[r * m + j]));
            }
            mean[j] = s.divide(BigDecimal.valueOf(n), MathContext.DECIMAL128).doubleValue();
        }
        return mean;
    }

    /** Two-pass cross-covariance of paired rows of a and b. */
    public static double[] twoPassCross(double[] a, double[] b, int n, int m) {
        double[] ma = exactMean(a, n, m);
        double[] mb = exactMean(b, n, m);
        double[] c = new double[m * m];
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < m; i++) {
                double da = a[r * m + i] - ma[i];
                for (int j = 0; j < m; j++) {
                    c[i * m + j] += da * (b[r * m + j] - mb[j]);
                }
            }
        }
        for (int k = 0; k < c.length; k++) {
            c[k] /= (n - 1);
        }
        return c;
    }

    /** ||a - b||_F / ||b||_F. */
    public static double relativeError(double[] a, double[] b) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (a[i] - b[i]);
            den += b[i] * b[i];
        }
        return Math.sqrt(num / den);
    }

    public static double[] gaussian(Random random, int n, int m) {
        double[] x = new double[n * m];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextGaussian();
        }
        return x;
    }

    /**
     * n samples of m units with population covariance spectrum lambda_r = r^-a (axis-aligned; the
     * eigenvalues do not depend on a rotation).
     */
    public static double[] powerLawSamples(Random random, int n, int m, double a) {
        double[] scale = new double[m];
        for (int j = 0; j < m; j++) {
            scale[j] = Math.pow(j + 1, -a / 2);
        }
        double[] x = new double[n * m];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < m; j++) {
                x[r * m + j] = random.nextGaussian() * scale[j];
            }
        }
        return x;
    }

    /** A random orthogonal matrix (row-major m x m) by Gram-Schmidt on Gaussian columns. */
    public static double[] randomOrthogonal(Random random, int m) {
        double[] q = gaussian(random, m, m);
        for (int c = 0; c < m; c++) {
            for (int p = 0; p < c; p++) {
                double dot = 0;
                for (int i = 0; i < m; i++) {
                    dot += q[i * m + c] * q[i * m + p];
                }
                for (int i = 0; i < m; i++) {
                    q[i * m + c] -= dot * q[i * m + p];
                }
            }
            double norm = 0;
            for (int i = 0; i < m; i++) {
                norm += q[i * m + c] * q[i * m + c];
            }
            norm = Math.sqrt(norm);
            for (int i = 0; i < m; i++) {
                q[i * m + c] /= norm;
            }
        }
        return q;
    }

    /** Q diag(values) Q^T. */
    public static double[] withEigenvalues(double[] q, double[] values) {
        int m = values.length;
        double[] a = new double[m * m];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < m; j++) {
                double s = 0;
                for (int k = 0; k < m; k++) {
                    s += q[i * m + k] * values[k] * q[j * m + k];
                }
                a[i * m + j] = s;
            }
        }
        return a;
    }

    /**
     * A dense symmetric matrix with the given eigenvalues: diag(values) rotated by a product of
     * random Householder reflections (O(n^2) each, so large test matrices are cheap).
     */
    public static double[] rotatedDiagonal(double[] values, int reflections, Random random) {
        int n = values.length;
        double[] c = new double[n * n];
        for (int i = 0; i < n; i++) {
            c[i * n + i] = values[i];
        }
        double[] v = new double[n];
        double[] cv = new double[n];
        for (int h = 0; h < reflections; h++) {
            double norm = 0;
            for (int i = 0; i < n; i++) {
                v[i] = random.nextGaussian();
                norm += v[i] * v[i];
            }
            norm = Math.sqrt(norm);
            for (int i = 0; i < n; i++) {
                v[i] /= norm;
            }
            double vcv = 0;
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int j = 0; j < n; j++) {
                    s += c[i * n + j] * v[j];
                }
                cv[i] = s;
                vcv += v[i] * s;
            }
            // H C H with H = I - 2 v v^T, C symmetric: C - 2 v (Cv)^T - 2 (Cv) v^T + 4 (v^T C v) v v^T
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    c[i * n + j] += -2 * v[i] * cv[j] - 2 * cv[i] * v[j] + 4 * vcv * v[i] * v[j];
                }
            }
        }
        return c;
    }

    public static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
