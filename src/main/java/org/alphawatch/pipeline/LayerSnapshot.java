package org.alphawatch.pipeline;

import org.alphawatch.core.analysis.SpectrumReport;
import org.alphawatch.core.window.WindowSpec;

/**
 * An immutable view of one layer after a refresh: the spectrum report of its window, the steps and
 * samples it covers and the latest probe projection (null when no probe was sent).
 *
 * <p>A snapshot is <em>mature</em> when its window holds at least {@code minSamples} samples
 * (alpha of fewer samples is biased upward; docs/reading-the-metrics.md). Only mature snapshots
 * become the layer's current spectrum, enter its history and metrics, and reach the detector.
 *
 * @param sequence       refresh number of this layer, from 1
 * @param windowSamples  samples in the window the report describes (decay: the sum of weights)
 * @param windowFirst    the window covers the layer's samples [windowFirst, windowEnd), counted
 *                       from the layer's first sample
 * @param totalSamples   samples the layer accepted since it was created
 * @param refreshSeconds wall time of the refresh (eigen-decompositions included)
 */
public record LayerSnapshot(LayerKey key, int dims, long sequence, long step, long stepMin, long stepMax,
                            WindowSpec window, long windowSamples, long windowFirst, long windowEnd, long minSamples,
                            long totalSamples, long refreshedAtMillis, double refreshSeconds, SpectrumReport report,
                            ProjectionSnapshot projection) {

    /** A snapshot of {@code key}, its values named as they are set (no positional long to swap). */
    public static Builder builder(LayerKey key, int dims) {
        return new Builder(key, dims);
    }

    /** Names every value of a snapshot; {@link #build} checks that each was set. */
    public static final class Builder {
        private final LayerKey key;
        private final int dims;
        private long sequence = -1;
        private long stepMin = -1;
        private long stepMax = -1;
        private WindowSpec window;
        private long windowSamples = -1;
        private long windowFirst = -1;
        private long windowEnd = -1;
        private long minSamples = -1;
        private long totalSamples = -1;
        private long refreshedAtMillis = -1;
        private double refreshSeconds = Double.NaN;
        private SpectrumReport report;
        private ProjectionSnapshot projection;

        private Builder(LayerKey key, int dims) {
            this.key = key;
            this.dims = dims;
        }

        public Builder sequence(long v) {
            sequence = v;
            return this;
        }

        /** The training steps of the window's samples (the snapshot's step is the last). */
        public Builder steps(long min, long max) {
            stepMin = min;
            stepMax = max;
            return this;
        }

        /** The window: its shape, the samples it holds, and which of the layer's samples [first, end). */
        public Builder window(WindowSpec spec, long samples, long first, long end) {
            window = spec;
            windowSamples = samples;
            windowFirst = first;
            windowEnd = end;
            return this;
        }

        public Builder minSamples(long v) {
            minSamples = v;
            return this;
        }

        public Builder totalSamples(long v) {
            totalSamples = v;
            return this;
        }

        public Builder refreshed(long atMillis, double seconds) {
            refreshedAtMillis = atMillis;
            refreshSeconds = seconds;
            return this;
        }

        public Builder report(SpectrumReport r) {
            report = r;
            return this;
        }

        /** Probe projections (optional: none before the first probe). */
        public Builder projection(ProjectionSnapshot p) {
            projection = p;
            return this;
        }

        public LayerSnapshot build() {
            if (sequence < 0 || window == null || windowSamples < 0 || minSamples < 0 || totalSamples < 0
                    || refreshedAtMillis < 0 || Double.isNaN(refreshSeconds) || report == null) {
                throw new IllegalStateException("snapshot of " + key + ": a value was not set");
            }
            return new LayerSnapshot(key, dims, sequence, stepMax, stepMin, stepMax, window, windowSamples, windowFirst,
                    windowEnd, minSamples, totalSamples, refreshedAtMillis, refreshSeconds, report, projection);
        }
    }

    public boolean mature() {
        return windowSamples >= minSamples;
    }

    public HistoryPoint toHistoryPoint() {
        return HistoryPoint.of(this);
    }

    /** The same spectrum with newer probe sweeps (a refresh where only the probes changed). */
    LayerSnapshot withProjection(long newSequence, long time, ProjectionSnapshot p, double seconds) {
        return new LayerSnapshot(key, dims, newSequence, step, stepMin, stepMax, window, windowSamples, windowFirst,
                windowEnd, minSamples, totalSamples, time, seconds, report, p);
    }
}
