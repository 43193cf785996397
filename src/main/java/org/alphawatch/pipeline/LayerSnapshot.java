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
