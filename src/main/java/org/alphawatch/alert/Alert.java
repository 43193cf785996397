package org.alphawatch.alert;

/**
 * One alert. {@code value} and {@code baseline} are the quantity that triggered it and what it was
 * compared with (alpha, effective rank, threshold, seconds without data, refusals per minute).
 * Run and layer are {@code "*"} for monitor-wide alerts.
 */
public record Alert(AlertKind kind, String run, String layer, long step, long timeMillis, double value,
                    double baseline, String message) {
    public static final String ALL = "*";
}
