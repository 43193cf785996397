package org.alphawatch.pipeline;

/**
 * One refresh of a layer, as kept in its bounded history (NaN where a value was not available:
 * no fit, no interval, no probe, no repeats).
 */
public record HistoryPoint(long step, long timeMillis, double alpha, double alphaLo, double alphaHi, double r2,
                           double effectiveRank, double participationRatio, double stableRank, long windowSamples,
                           double energySlope, double cvAlpha) {}
