package org.alphawatch.pipeline;

import java.util.Arrays;
import java.util.Map;
import org.alphawatch.core.format.Records;

/**
 * One refresh of a layer, as kept in its bounded history: when, how many window samples, and the
 * value of each {@link HistoryMetric} (NaN where a value was not available). Immutable.
 */
public record HistoryPoint(long step, long timeMillis, long windowSamples, double[] values) {
    public HistoryPoint {
        if (values.length != HistoryMetric.values().length) {
            throw new IllegalArgumentException(values.length + " values for " + HistoryMetric.values().length
                    + " history metrics");
        }
        values = values.clone();
    }

    /** The point of a snapshot: every metric as the snapshot gives it. */
    public static HistoryPoint of(LayerSnapshot s) {
        double[] v = new double[HistoryMetric.values().length];
        for (HistoryMetric m : HistoryMetric.values()) {
            v[m.ordinal()] = m.of(s);
        }
        return new HistoryPoint(s.step(), s.refreshedAtMillis(), s.windowSamples(), v);
    }

    /** A point from stored values by metric (those missing are NaN). */
    public static HistoryPoint of(long step, long timeMillis, long windowSamples, Map<HistoryMetric, Double> stored) {
        double[] v = new double[HistoryMetric.values().length];
        Arrays.fill(v, Double.NaN);
        stored.forEach((m, x) -> v[m.ordinal()] = x);
        return new HistoryPoint(step, timeMillis, windowSamples, v);
    }

    public double value(HistoryMetric m) {
        return values[m.ordinal()];
    }

    @Override
    public double[] values() {
        return values.clone();
    }

    public double alpha() {
        return value(HistoryMetric.ALPHA);
    }

    public double alphaLo() {
        return value(HistoryMetric.ALPHA_CI_LO);
    }

    public double alphaHi() {
        return value(HistoryMetric.ALPHA_CI_HI);
    }

    @Override
    public boolean equals(Object o) {
        return Records.equal(this, o);
    }

    @Override
    public int hashCode() {
        return Records.hash(this);
    }
}
