package org.alphawatch.alert;

import java.util.List;

/**
 * One alert. {@code value} and {@code baseline} are the quantity that triggered it and what it was
 * compared with (alpha, effective rank, threshold, seconds without data, refusals per minute).
 * Run and layer are {@code "*"} for monitor-wide alerts. A spectrum change of a run names every
 * layer that showed it in {@code evidence}, strongest first (empty for the other kinds).
 */
public record Alert(AlertKind kind, String run, String layer, long step, long timeMillis, double value,
                    double baseline, String message, List<Evidence> evidence) {
    public static final String ALL = "*";

    /**
     * What one layer showed: a statistic's value in the newest window and in the reference window,
     * the standard deviation of their difference under no change ({@code noise}), the difference in
     * those units ({@code sigmas}; for the subspace, the distance beyond what noise explains), and
     * the accumulated evidence relative to the alarm threshold ({@code evidence}, 1 = threshold).
     */
    public record Evidence(String layer, String statistic, double value, double baseline, double noise, double sigmas,
                           double evidence) {}

    public Alert {
        evidence = List.copyOf(evidence);
    }

    public Alert(AlertKind kind, String run, String layer, long step, long timeMillis, double value, double baseline,
                 String message) {
        this(kind, run, layer, step, timeMillis, value, baseline, message, List.of());
    }
}
