package org.alphawatch.core.analysis;

import java.util.List;
import org.alphawatch.core.fit.FitWindow;
import org.alphawatch.core.fit.Jackknife;
import org.alphawatch.core.fit.PowerLawFit;
import org.alphawatch.core.linalg.SquareMatrix;
import org.alphawatch.core.spectrum.Spectrum;
import org.alphawatch.core.stat.CovarianceAccumulator;

/**
 * Computes {@link ChangeStatistics} of a window from its groups and the one eigen-decomposition of
 * their union (held in the workspace), after the alpha interval. Leaving group g out gives
 * {@code C_{-g} = (M - M_g - kappa_g d_g d_g^T) / (w_{-g} - 1)} with {@code kappa_g = w_g w_{-g} / w}
 * and d_g the group's mean minus the rest's (Chan), so every replicate costs passes over the groups'
 * co-moments, never another decomposition:
 *
 * <ul>
 * <li>curvature: linear in log-eigenvalues like alpha, replicate {@code tr((C_{-g} - C) B)} with
 * {@code B = sum_r (a_r / lambda_r) u_r u_r^T};</li>
 * <li>ln PR: exact, from traces and Frobenius norms of C_{-g}, which need {@code <M, M_g>},
 * {@code <M_g, M_g>} and quadratic forms of M (M itself is destroyed by the solve, but
 * {@code M = sum M_a + sum w_a e_a e_a^T}, e_a the group mean minus the window's, is rebuilt once
 * in the scratch matrix);</li>
 * <li>subspace: eigenvector i turns toward j by {@code u_j^T (C_{-g} - C) u_i / (lambda_i - lambda_j)};
 * for the ranks beyond the computed eigenvectors the rest of the perturbation is divided by
 * {@code lambda_i - lambda_{h+1}}, an upper bound.</li>
 * </ul>
 *
 * <p>Cost (d units, G groups, k vectors, h computed vectors): one d x d x |fit window| product (as the
 * alpha interval), one symmetric d x d x k product per group (BLAS off-heap) and about
 * {@code 4 G d^2 + G k h d} further multiply-adds. Scratch lives in
 * the workspace; per call it allocates the result and a few arrays of G or d numbers.
 */
final class ChangeStatisticsCalculator {
    private ChangeStatisticsCalculator() {}

    static ChangeStatistics compute(List<CovarianceAccumulator> all, PowerLawFit fit, Jackknife.Interval alphaInterval,
                                    Spectrum spectrum, double weight, AnalysisWorkspace ws, SquareMatrix scratch) {
        int d = spectrum.dims();
        int n = all.size();
        CovarianceAccumulator[] groups = new CovarianceAccumulator[n];
        int used = 0;
        for (CovarianceAccumulator g : all) {
            if (g.weight() > 0 && weight - g.weight() > 1) {
                groups[used++] = g;
            }
        }
        int gCount = used;
        double[] wg = new double[gCount];
        double[] rest = new double[gCount];
        double[] kappa = new double[gCount];
        double[][] delta = new double[gCount][d];
        double[][] e = new double[gCount][d];
        for (int g = 0; g < gCount; g++) {
            wg[g] = groups[g].weight();
            rest[g] = weight - wg[g];
            kappa[g] = wg[g] * rest[g] / weight;
            groups[g].meanInto(e[g]);
            for (int j = 0; j < d; j++) {
                e[g][j] -= ws.mean[j];
                delta[g][j] = e[g][j] * weight / rest[g];
            }
        }
        double[] values = new double[ChangeStatistics.Scalar.values().length];
        double[] errors = new double[values.length];
        values[ChangeStatistics.Scalar.ALPHA.ordinal()] = fit.alpha();
        errors[ChangeStatistics.Scalar.ALPHA.ordinal()] = alphaInterval == null ? Double.NaN : alphaInterval.standardError();

        curvature(groups, gCount, wg, rest, kappa, delta, fit.window(), spectrum, ws, scratch, values, errors);
        participation(groups, gCount, wg, rest, kappa, delta, e, spectrum, weight, scratch, values, errors);

        int h = ws.eigen.vectors();
        int k = Math.min(ChangeStatistics.MAX_VECTORS, Math.min(h - 1, spectrum.numericalRank() - 1));
        if (k < 1 || gCount < 2) {
            return new ChangeStatistics(values, errors, gCount, d, 0, new float[0], Double.NaN, Double.NaN);
        }
        float[] vectors = new float[k * d];
        double[] u = ws.change(d, k, gCount, h);
        // U as d x k row-major (k contiguous) for the one pass over each group's upper triangle.
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < d; j++) {
                double v = ws.eigen.vector(i + 1, j);
                u[j * k + i] = v;
                vectors[i * d + j] = (float) v;
            }
        }
        double[] noise = subspace(groups, gCount, rest, kappa, delta, spectrum, ws, u, k, h);
        return new ChangeStatistics(values, errors, gCount, d, k, vectors, noise[0], noise[1]);
    }

    /** Quadratic coefficient of the weighted log-log fit (polynomials orthogonal under weights 1/r). */
    static double[] curvatureCoefficients(FitWindow window) {
        int lo = window.lo();
        int hi = window.hi();
        double sw = 0;
        double swx = 0;
        for (int r = lo; r <= hi; r++) {
            sw += 1.0 / r;
            swx += -Math.log(r) / r;
        }
        double xbar = swx / sw;
        double s2 = 0;
        double s3 = 0;
        for (int r = lo; r <= hi; r++) {
            double x = -Math.log(r) - xbar;
            s2 += x * x / r;
            s3 += x * x * x / r;
        }
        double[] p = new double[hi - lo + 1];
        double norm = 0;
        for (int r = lo; r <= hi; r++) {
            double x = -Math.log(r) - xbar;
            double q = x * x - (s2 > 0 ? s3 / s2 * x : 0) - s2 / sw;
            p[r - lo] = q;
            norm += q * q / r;
        }
        for (int r = lo; r <= hi; r++) {
            p[r - lo] = norm > 0 ? p[r - lo] / r / norm : 0;
        }
        return p;
    }

    private static void curvature(CovarianceAccumulator[] groups, int gCount, double[] wg, double[] rest, double[] kappa,
                                  double[][] delta, FitWindow window, Spectrum spectrum, AnalysisWorkspace ws,
                                  SquareMatrix scratch, double[] values, double[] errors) {
        int slot = ChangeStatistics.Scalar.CURVATURE.ordinal();
        if (window.hi() - window.lo() < 2) {
            values[slot] = Double.NaN;
            errors[slot] = Double.NaN;
            return;
        }
        double[] a = curvatureCoefficients(window);
        double value = 0;
        double[] b = new double[a.length];
        for (int r = window.lo(); r <= window.hi(); r++) {
            double lambda = spectrum.eigenvalue(r);
            value += a[r - window.lo()] * Math.log(lambda);
            b[r - window.lo()] = a[r - window.lo()] / lambda;
        }
        values[slot] = value;
        if (gCount < 2) {
            errors[slot] = Double.NaN;
            return;
        }
        ws.eigen.projector(window.lo(), window.hi(), b, scratch);
        double[] loo = new double[gCount];
        for (int g = 0; g < gCount; g++) {
            double trace = groups[g].comoments().symmetricDot(scratch);
            double quadratic = scratch.quadraticForm(delta[g]);
            loo[g] = value - (trace + kappa[g] * quadratic) / (rest[g] - 1);
        }
        errors[slot] = Jackknife.interval(value, loo).standardError();
    }

    private static void participation(CovarianceAccumulator[] groups, int gCount, double[] wg, double[] rest,
                                      double[] kappa, double[][] delta, double[][] e, Spectrum spectrum, double weight,
                                      SquareMatrix scratch, double[] values, double[] errors) {
        int slot = ChangeStatistics.Scalar.LOG_PARTICIPATION.ordinal();
        // M's trace and squared norm from its eigenvalues (scaled back from the covariance's).
        double scale = weight - 1;
        double traceM = spectrum.trace() * scale;
        double normM = spectrum.sumOfSquares() * scale * scale;
        double value = 2 * Math.log(traceM) - Math.log(normM);
        values[slot] = value;
        if (gCount < 2 || !(traceM > 0)) {
            errors[slot] = Double.NaN;
            return;
        }
        int d = spectrum.dims();
        // M = W + S: W = sum_a M_a (within groups), S = sum_a w_a e_a e_a^T (between): built once in scratch.
        scratch.clear();
        for (int a = 0; a < gCount; a++) {
            scratch.addAll(groups[a].comoments()); // upper triangles add; the lower ones are never read
            scratch.addOuterUpper(e[a], wg[a]);
        }
        double[] loo = new double[gCount];
        for (int g = 0; g < gCount; g++) {
            SquareMatrix mg = groups[g].comoments();
            double traceG = 0;
            for (int i = 0; i < d; i++) {
                traceG += mg.get(i * d + i);
            }
            double withM = upperDot(scratch, mg, d);
            double self = upperDot(mg, mg, d);
            double[] dg = delta[g];
            double dMd = upperQuadratic(scratch, dg, d);
            double dMgd = upperQuadratic(mg, dg, d);
            double dd = 0;
            for (int j = 0; j < d; j++) {
                dd += dg[j] * dg[j];
            }
            double tr = traceM - traceG - kappa[g] * dd;
            double norm = normM - 2 * withM + self - 2 * kappa[g] * (dMd - dMgd) + kappa[g] * kappa[g] * dd * dd;
            loo[g] = tr > 0 && norm > 0 ? 2 * Math.log(tr) - Math.log(norm) : Double.NaN;
        }
        errors[slot] = Jackknife.interval(value, loo).standardError();
    }

    /**
     * Jackknife noise of the leading k-dimensional subspace: {ssum of c, sqrt(sum c^2)} over the
     * perturbation components c (centred over groups within the computed ranks).
     */
    private static double[] subspace(CovarianceAccumulator[] groups, int gCount, double[] rest, double[] kappa,
                                     double[][] delta, Spectrum spectrum, AnalysisWorkspace ws, double[] u, int k, int h) {
        int d = spectrum.dims();
        int cols = gCount * k;
        double[] r = ws.changeResiduals;   // cols x d: r_{g,i} = -(M_g u_i) - kappa_g (d_g . u_i) d_g
        double[] p = ws.changeProjections; // h x cols: u_j . r_{g,i}
        double[] y = ws.changeProduct;     // d x k
        double[] norms = new double[cols];
        for (int g = 0; g < gCount; g++) {
            SquareMatrix mg = groups[g].comoments();
            if (mg.isDirect()) {
                // One BLAS dsymm: the row-major upper triangle is the column-major lower one.
                ws.changeBlas(d, k);
                for (int i = 0; i < k; i++) {
                    for (int j = 0; j < d; j++) {
                        ws.changeU.put(i * d + j, u[j * k + i]);
                    }
                }
                org.bytedeco.openblas.global.openblas.cblas_dsymm(102, 141, 122, d, k, 1.0, mg.directBuffer(), d,
                        ws.changeU, d, 0.0, ws.changeY, d);
                for (int i = 0; i < k; i++) {
                    for (int j = 0; j < d; j++) {
                        y[j * k + i] = ws.changeY.get(i * d + j);
                    }
                }
            } else {
                upperTimes(mg, u, k, d, y);
            }
            for (int i = 0; i < k; i++) {
                double du = 0;
                for (int j = 0; j < d; j++) {
                    du += delta[g][j] * u[j * k + i];
                }
                int base = (g * k + i) * d;
                double nn = 0;
                for (int j = 0; j < d; j++) {
                    double v = -y[j * k + i] - kappa[g] * du * delta[g][j];
                    r[base + j] = v;
                    nn += v * v;
                }
                norms[g * k + i] = nn;
            }
        }
        double[] uj = ws.changeVector;
        for (int j = 1; j <= h; j++) {
            for (int x = 0; x < d; x++) {
                uj[x] = ws.eigen.vector(j, x);
            }
            int row = (j - 1) * cols;
            for (int c = 0; c < cols; c++) {
                int base = c * d;
                double s = 0;
                for (int x = 0; x < d; x++) {
                    s += uj[x] * r[base + x];
                }
                p[row + c] = s;
            }
        }
        double factor = (gCount - 1.0) / gCount;
        double sum = 0;
        double sumSq = 0;
        double beyond = h < spectrum.size() ? spectrum.eigenvalue(h + 1) : Double.NaN;
        double[] theta = new double[gCount];
        for (int i = 0; i < k; i++) {
            double li = spectrum.eigenvalue(i + 1);
            for (int j = k + 1; j <= h; j++) {
                double gap = li - spectrum.eigenvalue(j);
                if (!(gap > 0)) {
                    return new double[] {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY};
                }
                double mean = 0;
                for (int g = 0; g < gCount; g++) {
                    theta[g] = p[(j - 1) * cols + g * k + i] / ((rest[g] - 1) * gap);
                    mean += theta[g];
                }
                mean /= gCount;
                double c = 0;
                for (int g = 0; g < gCount; g++) {
                    c += (theta[g] - mean) * (theta[g] - mean);
                }
                c *= factor;
                sum += c;
                sumSq += c * c;
            }
            if (Double.isFinite(beyond)) {
                double gap = li - beyond;
                if (!(gap > 0)) {
                    return new double[] {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY};
                }
                double c = 0;
                for (int g = 0; g < gCount; g++) {
                    double inside = 0;
                    for (int j = 1; j <= h; j++) {
                        double v = p[(j - 1) * cols + g * k + i];
                        inside += v * v;
                    }
                    double outside = Math.max(0, norms[g * k + i] - inside);
                    c += outside / ((rest[g] - 1) * (rest[g] - 1) * gap * gap);
                }
                c *= factor;
                sum += c;
                sumSq += c * c;
            }
        }
        return new double[] {sum, Math.sqrt(sumSq)};
    }

    /** {@code sum_ij A_ij B_ij} of two symmetric matrices given by their upper triangles. */
    static double upperDot(SquareMatrix a, SquareMatrix b, int d) {
        double[] ha = a.heapArray();
        double[] hb = b.heapArray();
        double diag = 0;
        double off = 0;
        for (int i = 0; i < d; i++) {
            int row = i * d;
            if (ha != null && hb != null) {
                diag += ha[row + i] * hb[row + i];
                for (int j = i + 1; j < d; j++) {
                    off += ha[row + j] * hb[row + j];
                }
            } else {
                diag += a.get(row + i) * b.get(row + i);
                for (int j = i + 1; j < d; j++) {
                    off += a.get(row + j) * b.get(row + j);
                }
            }
        }
        return diag + 2 * off;
    }

    /** {@code x^T A x} for A symmetric given by its upper triangle. */
    static double upperQuadratic(SquareMatrix a, double[] x, int d) {
        double[] ha = a.heapArray();
        double diag = 0;
        double off = 0;
        for (int i = 0; i < d; i++) {
            int row = i * d;
            double xi = x[i];
            double s = 0;
            if (ha != null) {
                diag += ha[row + i] * xi * xi;
                for (int j = i + 1; j < d; j++) {
                    s += ha[row + j] * x[j];
                }
            } else {
                diag += a.get(row + i) * xi * xi;
                for (int j = i + 1; j < d; j++) {
                    s += a.get(row + j) * x[j];
                }
            }
            off += xi * s;
        }
        return diag + 2 * off;
    }

    /** {@code y = A U} (d x k, row-major) for A symmetric given by its upper triangle; one pass over A. */
    static void upperTimes(SquareMatrix a, double[] u, int k, int d, double[] y) {
        java.util.Arrays.fill(y, 0, d * k, 0);
        double[] ha = a.heapArray();
        for (int i = 0; i < d; i++) {
            int row = i * d;
            int yi = i * k;
            double aii = ha != null ? ha[row + i] : a.get(row + i);
            for (int t = 0; t < k; t++) {
                y[yi + t] += aii * u[yi + t];
            }
            for (int j = i + 1; j < d; j++) {
                double v = ha != null ? ha[row + j] : a.get(row + j);
                int yj = j * k;
                for (int t = 0; t < k; t++) {
                    y[yi + t] += v * u[yj + t];
                    y[yj + t] += v * u[yi + t];
                }
            }
        }
    }
}
