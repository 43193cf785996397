package org.alphawatch.report;

import static org.alphawatch.report.JsonFields.*;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.alphawatch.core.analysis.SpectrumReport;
import org.alphawatch.core.code.CodeMetrics;
import org.alphawatch.core.fit.FitFlag;
import org.alphawatch.core.fit.Jackknife;
import org.alphawatch.core.fit.PowerLawFit;
import org.alphawatch.core.spectrum.Spectrum;

/**
 * The JSON document of a {@link SpectrumReport} as ordered maps and lists (for Jackson). NaN
 * becomes null: JSON has no NaN, and a missing value must not look like a number.
 */
public final class ReportJson {
    /** States the alpha convention wherever capacity numbers are shown. */
    public static final String CAPACITY_CONVENTION =
            "alpha of the variance spectrum (lambda_n ~ n^-alpha), b bits per unit; H <= m*b - alpha*m*log2(m/e)";

    private ReportJson() {}

    public static Map<String, Object> toMap(SpectrumReport report, String solver) {
        Spectrum s = report.spectrum();
        PowerLawFit fit = report.fit();
        CodeMetrics metrics = report.metrics();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(SAMPLES, s.samples());
        m.put(DIMS, s.dims());
        m.put(ALPHA, num(fit.alpha()));
        m.put(ALPHA_R2, num(fit.r2()));
        Jackknife.Interval ci = report.alphaInterval();
        m.put(ALPHA_CI, ci != null && ci.defined() ? List.of(ci.lo(), ci.hi()) : null);
        m.put(ALPHA_SE, ci != null ? num(ci.standardError()) : null);
        m.put(INTERCEPT, num(fit.intercept()));
        m.put(FIT_RANGE, List.of(fit.window().lo(), fit.window().hi()));
        m.put(FIT_RANGE_REQUESTED, List.of(fit.requested().lo(), fit.requested().hi()));
        m.put(FLAGS, flags(fit));
        m.put(SAMPLES_PER_DIM, fit.samplesPerDim());
        m.put(EFFECTIVE_RANK, metrics.effectiveRank());
        m.put(PARTICIPATION_RATIO, metrics.participationRatio());
        m.put(STABLE_RANK, metrics.stableRank());
        Map<String, Object> explained = new LinkedHashMap<>();
        int[] at = metrics.explainedVarianceAt();
        double[] ev = metrics.explainedVariance();
        for (int i = 0; i < at.length; i++) {
            explained.put(Integer.toString(at[i]), ev[i]);
        }
        m.put(EXPLAINED_VARIANCE, explained);
        m.put(NUMERICAL_RANK, s.numericalRank());
        m.put(PARTIAL_SPECTRUM, s.partial());
        m.put(EIGENVALUES_TOTAL, s.fullSize());
        m.put(CLAMPED_NEGATIVE, s.clampedNegatives());
        m.put(TRACE, s.trace());
        if (report.inputDim() > 0) {
            m.put(INPUT_DIM, report.inputDim());
            m.put(SMOOTHNESS_THRESHOLD, CodeMetrics.smoothnessThreshold(report.inputDim()));
            m.put(SMOOTHNESS_MARGIN, num(report.smoothnessMargin()));
        }
        Map<String, Object> capacity = new LinkedHashMap<>();
        capacity.put(BITS, report.bits());
        capacity.put(CONVENTION, CAPACITY_CONVENTION);
        capacity.put(ENTROPY_BOUND_BITS, num(report.entropyBoundBits()));
        capacity.put(REDUNDANCY, num(report.redundancy()));
        if (!Double.isNaN(report.dropout())) {
            capacity.put(DROPOUT, report.dropout());
            capacity.put(DROPOUT_CAPACITY_BITS, report.dropoutCapacityBits());
        }
        m.put(CAPACITY, capacity);
        if (report.crossValidated() != null) {
            SpectrumReport.CrossValidatedReport cv = report.crossValidated();
            Map<String, Object> c = new LinkedHashMap<>();
            c.put(ALPHA, num(cv.fit().alpha()));
            c.put(ALPHA_R2, num(cv.fit().r2()));
            c.put(FIT_RANGE, List.of(cv.fit().window().lo(), cv.fit().window().hi()));
            c.put(FLAGS, flags(cv.fit()));
            c.put(PLAIN_ALPHA, num(cv.plainFit().alpha()));
            c.put(SHARED_VARIANCE, normalized(cv.shared()));
            m.put(CVPCA, c);
        }
        m.put(SOLVER, solver);
        m.put(EIGENVALUES, toList(s.normalized()));
        return m;
    }

    public static List<String> flags(PowerLawFit fit) {
        List<String> out = new ArrayList<>();
        for (FitFlag f : fit.flags()) {
            out.add(f.name().toLowerCase(java.util.Locale.ROOT));
        }
        return out;
    }

    /** A finite double, or null. */
    public static Double num(double v) {
        return Double.isFinite(v) ? v : null;
    }

    static List<Double> normalized(double[] values) {
        double sum = 0;
        for (double v : values) {
            sum += Math.abs(v);
        }
        double[] out = new double[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = sum > 0 ? values[i] / sum : 0;
        }
        return toList(out);
    }

    public static List<Double> toList(double[] values) {
        List<Double> out = new ArrayList<>(values.length);
        for (double v : values) {
            out.add(v);
        }
        return out;
    }
}
