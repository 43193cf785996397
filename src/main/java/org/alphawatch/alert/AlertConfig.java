package org.alphawatch.alert;

import java.time.Duration;

/**
 * Detector thresholds (defaults in {@link #defaults()}, documented in docs/alerting.md).
 *
 * @param warmup            snapshots that only build the baseline before any alpha or rank alert
 * @param baselineWeight    EWMA weight of a new snapshot in the baseline mean and scale
 * @param cusumSlack        CUSUM allowance k, in robust standard deviations
 * @param cusumThreshold    CUSUM decision interval h, in robust standard deviations
 * @param minScale          floor of the robust scale of alpha (absolute), so that a perfectly
 *                          steady alpha does not turn round-off into alarms
 * @param collapseFraction  effective rank below this fraction of its baseline raises a collapse
 * @param staleAfter        a layer without batches for this long is stale (zero: off)
 * @param surgePerMinute    refusals within one minute that raise a surge alert (0: off)
 */
public record AlertConfig(int warmup, double baselineWeight, double cusumSlack, double cusumThreshold, double minScale,
                          double collapseFraction, Duration staleAfter, int surgePerMinute) {
    public AlertConfig {
        if (warmup < 2) {
            throw new IllegalArgumentException("warmup " + warmup + " must be >= 2");
        }
        if (!(baselineWeight > 0 && baselineWeight < 1)) {
            throw new IllegalArgumentException("baseline-weight " + baselineWeight + " outside (0, 1)");
        }
        if (!(cusumSlack >= 0) || !(cusumThreshold > 0)) {
            throw new IllegalArgumentException("cusum slack must be >= 0 and threshold > 0");
        }
        if (!(minScale > 0)) {
            throw new IllegalArgumentException("min-scale must be > 0");
        }
        if (!(collapseFraction > 0 && collapseFraction < 1)) {
            throw new IllegalArgumentException("collapse-fraction " + collapseFraction + " outside (0, 1)");
        }
        if (staleAfter == null || staleAfter.isNegative()) {
            throw new IllegalArgumentException("stale-after must be >= 0");
        }
        if (surgePerMinute < 0) {
            throw new IllegalArgumentException("surge-per-minute must be >= 0");
        }
    }

    public static AlertConfig defaults() {
        return new AlertConfig(8, 0.1, 0.5, 10, 0.01, 0.5, Duration.ofMinutes(5), 100);
    }
}
