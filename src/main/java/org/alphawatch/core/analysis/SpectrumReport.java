package org.alphawatch.core.analysis;

import org.alphawatch.core.code.CodeMetrics;
import org.alphawatch.core.fit.Jackknife;
import org.alphawatch.core.fit.PowerLawFit;
import org.alphawatch.core.spectrum.Spectrum;

/**
 * Everything alphawatch says about one covariance: the spectrum, the power-law fit with its
 * jackknife interval (null when no shards were given), the code metrics and the capacity bounds
 * (NaN where an input was unknown or the fit failed), and what a change detector compares between
 * windows ({@code change}: null without groups). Immutable.
 */
public record SpectrumReport(Spectrum spectrum, PowerLawFit fit, Jackknife.Interval alphaInterval,
                             CodeMetrics metrics, int inputDim, double smoothnessMargin, double bits,
                             double dropout, double dropoutCapacityBits, double entropyBoundBits,
                             double redundancy, CrossValidatedReport crossValidated, ChangeStatistics change) {

    public SpectrumReport(Spectrum spectrum, PowerLawFit fit, Jackknife.Interval alphaInterval, CodeMetrics metrics,
                          int inputDim, double smoothnessMargin, double bits, double dropout, double dropoutCapacityBits,
                          double entropyBoundBits, double redundancy, CrossValidatedReport crossValidated) {
        this(spectrum, fit, alphaInterval, metrics, inputDim, smoothnessMargin, bits, dropout, dropoutCapacityBits,
                entropyBoundBits, redundancy, crossValidated, null);
    }

    public double alpha() {
        return fit.alpha();
    }

    /** cvPCA result: the shared-variance spectrum and its fit. */
    public record CrossValidatedReport(double[] shared, PowerLawFit fit, PowerLawFit plainFit) {
        public CrossValidatedReport {
            shared = shared.clone();
        }

        @Override
        public double[] shared() {
            return shared.clone();
        }
    }

    public SpectrumReport withCrossValidated(CrossValidatedReport cv) {
        return new SpectrumReport(spectrum, fit, alphaInterval, metrics, inputDim, smoothnessMargin, bits, dropout,
                dropoutCapacityBits, entropyBoundBits, redundancy, cv, change);
    }

    public SpectrumReport withChange(ChangeStatistics c) {
        return new SpectrumReport(spectrum, fit, alphaInterval, metrics, inputDim, smoothnessMargin, bits, dropout,
                dropoutCapacityBits, entropyBoundBits, redundancy, crossValidated, c);
    }
}
