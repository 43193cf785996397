package org.alphawatch.core.analysis;

import java.util.List;
import org.alphawatch.core.code.Capacity;
import org.alphawatch.core.code.CodeMetrics;
import org.alphawatch.core.fit.FitWindow;
import org.alphawatch.core.fit.Jackknife;
import org.alphawatch.core.fit.PowerLawFit;
import org.alphawatch.core.fit.PowerLawFitter;
import org.alphawatch.core.spectrum.CrossValidatedSpectrum;
import org.alphawatch.core.spectrum.PartialEigenSolver;
import org.alphawatch.core.spectrum.Spectrum;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.core.stat.CovarianceSnapshot;
import org.alphawatch.core.stat.CrossCovarianceSnapshot;

/**
 * Turns covariance estimates into a {@link SpectrumReport}. The jackknife interval on alpha comes
 * from G disjoint shards of the samples: alpha is refitted, over the full fit's window, on each
 * leave-one-shard-out covariance (G extra eigen-decompositions). Stateless and thread-safe.
 */
public final class SpectrumAnalyzer {
    private SpectrumAnalyzer() {}

    /** Analyzes one covariance without an interval. */
    public static SpectrumReport analyze(CovarianceSnapshot cov, AnalysisOptions options) {
        Spectrum spectrum = spectrum(cov, options);
        return report(spectrum, PowerLawFitter.fit(spectrum, options.fitWindow()), null, options);
    }

    /**
     * Analyzes the union of {@code shards} (each a disjoint part of the samples; none modified),
     * with a jackknife interval when there are at least two non-empty shards.
     */
    public static SpectrumReport analyze(List<CovarianceAccumulator> shards, AnalysisOptions options) {
        if (shards.isEmpty()) {
            throw new IllegalArgumentException("no shards");
        }
        CovarianceAccumulator total = CovarianceAccumulator.create(shards.get(0).dims());
        int nonEmpty = 0;
        for (CovarianceAccumulator s : shards) {
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
            for (int i = 0; i < shards.size(); i++) {
                if (shards.get(i).count() == 0) {
                    continue;
                }
                rest.reset();
                for (int j = 0; j < shards.size(); j++) {
                    if (j != i) {
                        rest.merge(shards.get(j));
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
