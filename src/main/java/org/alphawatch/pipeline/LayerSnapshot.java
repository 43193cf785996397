package org.alphawatch.pipeline;

import org.alphawatch.core.analysis.SpectrumReport;

/**
 * An immutable view of one layer after a refresh: the spectrum report of its current window, the
 * steps and samples it covers and the latest probe projection (null when no probe was sent).
 *
 * @param sequence       refresh number of this layer, from 1
 * @param windowSamples  samples in the window the report describes
 * @param totalSamples   samples the layer accepted since it was created
 * @param refreshSeconds wall time of the refresh (eigen-decompositions included)
 */
public record LayerSnapshot(LayerKey key, int dims, long sequence, long step, long stepMin, long stepMax,
                            WindowMode window, long windowSize, long windowSamples, long totalSamples,
                            long refreshedAtMillis, double refreshSeconds, SpectrumReport report,
                            ProjectionSnapshot projection) {

    public HistoryPoint toHistoryPoint() {
        var ci = report.alphaInterval();
        return new HistoryPoint(step, refreshedAtMillis, report.alpha(), ci != null ? ci.lo() : Double.NaN,
                ci != null ? ci.hi() : Double.NaN, report.fit().r2(), report.metrics().effectiveRank(),
                report.metrics().participationRatio(), report.metrics().stableRank(), windowSamples,
                projection == null ? Double.NaN : projection.slopeOrNaN(),
                report.crossValidated() == null ? Double.NaN : report.crossValidated().fit().alpha());
    }
}
