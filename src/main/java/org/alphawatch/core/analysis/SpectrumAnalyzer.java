package org.alphawatch.core.analysis;

import java.util.List;
import org.alphawatch.core.code.Capacity;
import org.alphawatch.core.code.CodeMetrics;
import org.alphawatch.core.fit.FitWindow;
import org.alphawatch.core.fit.Jackknife;
import org.alphawatch.core.fit.PowerLawFit;
import org.alphawatch.core.fit.PowerLawFitter;
import org.alphawatch.core.linalg.SquareMatrix;
import org.alphawatch.core.spectrum.CrossValidatedSpectrum;
import org.alphawatch.core.spectrum.PartialEigenSolver;
import org.alphawatch.core.spectrum.Spectrum;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.core.stat.CovarianceSnapshot;
import org.alphawatch.core.stat.CrossCovarianceSnapshot;

/**
 * Turns covariance estimates into a {@link SpectrumReport}. Stateless and thread-safe; the
 * workspace passed in is not.
 *
 * <p>The alpha interval is a delete-one-group jackknife over G disjoint groups of the samples
 * (the panes of a sliding window, the interleaved row groups of cumulative and decay windows and
 * of {@code analyze}), computed to first order from the one eigen-decomposition of the whole
 * (docs/metrics.md, "interval"). alpha is a fixed linear combination of log-eigenvalues over the
 * fit window, {@code alpha = sum_r c_r log lambda_r}, so leaving group g out changes it by
 * {@code tr(C_{-g} B)} with {@code B = sum_r (c_r / lambda_r) u_r u_r^T} (first-order eigenvalue
 * perturbation; {@code tr(C B) = sum c_r = 0}). With Chan's decomposition of the co-moments,
 * {@code C_{-g} = (M - M_g - (w_g w_{-g} / w) d d^T) / (w_{-g} - 1)}, each group costs one pass over
 * its d x d co-moments instead of an eigen-decomposition. The exact leave-one-out solves remain
 * available ({@link #analyzeExactJackknife}) and agree to within the interval's own noise.
 */
public final class SpectrumAnalyzer {
    private SpectrumAnalyzer() {}

    /** Analyzes one covariance without an interval. */
    public static SpectrumReport analyze(CovarianceSnapshot cov, AnalysisOptions options) {
        Spectrum spectrum = spectrum(cov, options);
        return report(spectrum, PowerLawFitter.fit(spectrum, options.fitWindow()), null, options);
    }

    /** As {@link #analyze(List, AnalysisOptions, AnalysisWorkspace)} with a workspace of its own. */
    public static SpectrumReport analyze(List<CovarianceAccumulator> groups, AnalysisOptions options) {
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("no groups");
        }
        return analyze(groups, options, new AnalysisWorkspace(groups.get(0).dims(), options));
    }

    /**
     * Analyzes the union of {@code groups} (disjoint parts of the samples; not modified), with a
     * first-order jackknife interval when at least two groups hold samples. Allocates no d x d
     * array: everything lives in {@code ws}.
     */
    public static SpectrumReport analyze(List<CovarianceAccumulator> groups, AnalysisOptions options,
                                         AnalysisWorkspace ws) {
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("no groups");
        }
        int d = groups.get(0).dims();
        if (options.topK() > 0 && options.topK() < d && PartialEigenSolver.available()) {
            return analyzeExactJackknife(groups, options);
        }
        CovarianceAccumulator merged = ws.merged(d);
        merged.reset();
        int nonEmpty = 0;
        for (CovarianceAccumulator g : groups) {
            merged.merge(g);
            if (g.weight() > 0) {
                nonEmpty++;
            }
        }
        long n = merged.count();
        double weight = merged.weight();
        int k = (int) Math.max(0, Math.min(d, n - 1));
        int vectors = PowerLawFitter.windowEnd(k, options.fitWindow());
        merged.meanInto(ws.mean);
        // The solve destroys the merged co-moments; from here on the matrix is scratch.
        if (!ws.eigen.solve(merged.comoments(), vectors, options.solver())) {
            throw new ArithmeticException(ws.eigen.solverName() + " eigen-solver did not converge on a " + d + "x" + d
                    + " covariance");
        }
        double scale = weight > 1 ? 1 / (weight - 1) : 0;
        double[] raw = ws.eigen.values();
        for (int i = 0; i < d; i++) {
            ws.values[i] = raw[i] * scale;
        }
        Spectrum spectrum = Spectrum.of(ws.values, n, d);
        PowerLawFit fit = PowerLawFitter.fit(spectrum, options.fitWindow());
        Jackknife.Interval interval = null;
        if (nonEmpty >= 2 && fit.ok() && fit.window().hi() <= vectors) {
            interval = firstOrderInterval(groups, fit, spectrum, weight, ws, merged.comoments());
        }
        SpectrumReport report = report(spectrum, fit, interval, options);
        if (interval != null) {
            report = report.withChange(ChangeStatisticsCalculator.compute(groups, fit, interval, spectrum, weight, ws,
                    merged.comoments()));
        }
        return report;
    }

    private static Jackknife.Interval firstOrderInterval(List<CovarianceAccumulator> groups, PowerLawFit fit,
                                                         Spectrum spectrum, double weight, AnalysisWorkspace ws,
                                                         SquareMatrix scratch) {
        FitWindow window = fit.window();
        double[] c = PowerLawFitter.slopeCoefficients(window);
        for (int r = window.lo(); r <= window.hi(); r++) {
            c[r - window.lo()] /= spectrum.eigenvalue(r);
        }
        SquareMatrix b = scratch;
        ws.eigen.projector(window.lo(), window.hi(), c, b);
        int d = spectrum.dims();
        double[] loo = new double[groups.size()];
        int used = 0;
        for (CovarianceAccumulator g : groups) {
            double wg = g.weight();
            double rest = weight - wg;
            if (wg <= 0 || rest <= 1) {
                continue;
            }
            g.meanInto(ws.delta);
            // d = mean_g - mean_{-g} = (mean_g - mean) w / w_{-g}
            for (int j = 0; j < d; j++) {
                ws.delta[j] = (ws.delta[j] - ws.mean[j]) * weight / rest;
            }
            double trace = g.comoments().symmetricDot(b);
            double quadratic = b.quadraticForm(ws.delta);
            loo[used++] = fit.alpha() - (trace + wg * rest / weight * quadratic) / (rest - 1);
        }
        return Jackknife.interval(fit.alpha(), java.util.Arrays.copyOf(loo, used));
    }

    /**
     * The union of {@code groups} with the jackknife computed by G further eigen-decompositions of
     * the leave-one-group-out covariances (the reference the first-order interval is checked
     * against; also the path of partial spectra).
     */
    public static SpectrumReport analyzeExactJackknife(List<CovarianceAccumulator> groups, AnalysisOptions options) {
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("no groups");
        }
        CovarianceAccumulator total = CovarianceAccumulator.create(groups.get(0).dims());
        int nonEmpty = 0;
        for (CovarianceAccumulator s : groups) {
            total.merge(s);
            if (s.count() > 0) {
                nonEmpty++;
            }
        }
        Spectrum spectrum = spectrum(total.snapshot(), options);
        PowerLawFit fit = PowerLawFitter.fit(spectrum, options.fitWindow());
        Jackknife.Interval interval = null;
        if (nonEmpty >= 2 && fit.ok()) {
            FitWindow window = fit.window();
            double[] loo = new double[nonEmpty];
            int g = 0;
            CovarianceAccumulator rest = CovarianceAccumulator.create(total.dims());
            for (int i = 0; i < groups.size(); i++) {
                if (groups.get(i).count() == 0) {
                    continue;
                }
                rest.reset();
                for (int j = 0; j < groups.size(); j++) {
                    if (j != i) {
                        rest.merge(groups.get(j));
                    }
                }
                Spectrum s = spectrum(rest.snapshot(), options);
                PowerLawFit f = PowerLawFitter.fit(s.eigenvalues(), s.numericalRank(), s.samples(), s.dims(), window);
                loo[g++] = f.ok() ? f.alpha() : Double.NaN;
            }
            interval = Jackknife.interval(fit.alpha(), loo);
        }
        return report(spectrum, fit, interval, options);
    }

    /** Full spectrum, or the top {@code topK} when asked for and K is larger. */
    static Spectrum spectrum(CovarianceSnapshot cov, AnalysisOptions options) {
        if (options.topK() > 0 && PartialEigenSolver.available()) {
            return Spectrum.top(cov, options.topK(), PartialEigenSolver.defaults(), options.solver());
        }
        return Spectrum.compute(cov, options.solver());
    }

    static SpectrumReport report(Spectrum spectrum, PowerLawFit fit, Jackknife.Interval interval,
                                 AnalysisOptions options) {
        CodeMetrics metrics = CodeMetrics.of(spectrum);
        double alpha = fit.alpha();
        int m = spectrum.dims();
        double margin = options.inputDim() > 0 && fit.ok()
                ? CodeMetrics.smoothnessMargin(alpha, options.inputDim()) : Double.NaN;
        double dropoutCapacity = Double.isNaN(options.dropout()) ? Double.NaN
                : Capacity.dropoutCapacityBits(options.dropout(), m, options.bits());
        double entropy = fit.ok() ? Capacity.entropyBoundBits(alpha, m, options.bits()) : Double.NaN;
        double redundancy = fit.ok() ? Capacity.redundancy(alpha, m, options.bits()) : Double.NaN;
        return new SpectrumReport(spectrum, fit, interval, metrics, options.inputDim(), margin, options.bits(),
                options.dropout(), dropoutCapacity, entropy, redundancy, null);
    }

    /** cvPCA: the shared-variance spectrum of two repeats, fitted like a plain spectrum on |ss|. */
    public static SpectrumReport.CrossValidatedReport crossValidated(CrossCovarianceSnapshot snap,
                                                                     AnalysisOptions options) {
        CrossValidatedSpectrum cv = CrossValidatedSpectrum.compute(snap, options.solver());
        Spectrum plain = cv.repeatA();
        PowerLawFit plainFit = PowerLawFitter.fit(plain, options.fitWindow());
        PowerLawFit cvFit = PowerLawFitter.fit(cv.shared(), plain.numericalRank(), plain.samples(), plain.dims(),
                options.fitWindow());
        return new SpectrumReport.CrossValidatedReport(cv.shared(), cvFit, plainFit);
    }
}
