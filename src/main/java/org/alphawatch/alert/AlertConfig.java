package org.alphawatch.alert;

import java.time.Duration;

/**
 * Detector thresholds (defaults in {@link #defaults()}, documented in docs/alerting.md).
 *
 * @param warmup           mature snapshots of a layer that are never tested (its first moments)
 * @param shiftSigmas      alpha shift threshold in standard errors of the difference of two windows
 * @param minShift         smallest alpha shift that alarms, whatever the errors (absolute)
 * @param confirm          consecutive snapshots that must agree before an alarm
 * @param collapseFraction effective rank below this fraction of the previous window's is a collapse
 * @param rankDropFraction a numerical rank below (1 - this) of the previous window's is a drop
 * @param staleAfter       a layer without batches for this long is stale (zero: off)
 * @param surgePerMinute   refusals within one minute that raise a surge alert (0: off)
 */
public record AlertConfig(int warmup, double shiftSigmas, double minShift, int confirm, double collapseFraction,
                          double rankDropFraction, Duration staleAfter, int surgePerMinute) {
    public AlertConfig {
        if (warmup < 0) {
            throw new IllegalArgumentException("warmup " + warmup + " must be >= 0");
        }
        if (!(shiftSigmas > 0) || !Double.isFinite(shiftSigmas)) {
            throw new IllegalArgumentException("shift-sigmas " + shiftSigmas + " must be > 0");
        }
        if (!(minShift > 0) || !Double.isFinite(minShift)) {
            throw new IllegalArgumentException("min-shift " + minShift + " must be > 0");
        }
        if (confirm < 1) {
            throw new IllegalArgumentException("confirm " + confirm + " must be >= 1");
        }
        if (!(collapseFraction > 0 && collapseFraction < 1)) {
            throw new IllegalArgumentException("collapse-fraction " + collapseFraction + " outside (0, 1)");
        }
        if (!(rankDropFraction > 0 && rankDropFraction < 1)) {
            throw new IllegalArgumentException("rank-drop-fraction " + rankDropFraction + " outside (0, 1)");
        }
        if (staleAfter == null || staleAfter.isNegative()) {
            throw new IllegalArgumentException("stale-after must be >= 0");
        }
        if (surgePerMinute < 0) {
            throw new IllegalArgumentException("surge-per-minute must be >= 0");
        }
    }

    public static AlertConfig defaults() {
        return new AlertConfig(8, 5, 0.1, 2, 0.5, 0.1, Duration.ofMinutes(5), 100);
    }
}
