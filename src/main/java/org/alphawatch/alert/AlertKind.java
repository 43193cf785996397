package org.alphawatch.alert;

/** What changed; the {@code kind} label of {@code alphawatch_alerts_total}. */
public enum AlertKind {
    /** alpha left its trailing baseline (two-sided CUSUM on robustly standardized alpha). */
    ALPHA_SHIFT,
    /** effective rank fell below a fraction of its baseline: the code collapsed onto few dimensions. */
    EFFECTIVE_RANK_COLLAPSE,
    /** alpha crossed the smoothness threshold 1 + 2/d (either way). */
    SMOOTHNESS_CROSSING,
    /** no batch arrived for the configured time. */
    STALE_LAYER,
    /** many batches were refused within a minute. */
    REJECTION_SURGE;

    public String label() {
        return name().toLowerCase();
    }
}
