package org.alphawatch.alert;

import java.util.Locale;

/** What changed; the {@code kind} label of {@code alphawatch_alerts_total}. */
public enum AlertKind {
    /** alpha moved: accumulated evidence (CUSUM) of a difference from the previous disjoint window beyond its noise and the minimum shift. */
    ALPHA_SHIFT,
    /** the bend of the log-log spectrum over the fit range moved (same test). */
    CURVATURE_SHIFT,
    /** the participation ratio moved by more than its noise and 10% (same test). */
    PARTICIPATION_SHIFT,
    /** the leading principal subspace turned further than sampling noise turns it (same test). */
    SUBSPACE_SHIFT,
    /** effective rank fell below a fraction of the previous disjoint window's: the code collapsed onto few dimensions. */
    EFFECTIVE_RANK_COLLAPSE,
    /** the numerical rank fell: directions (often whole units) stopped carrying variance. */
    RANK_DROP,
    /** alpha crossed the smoothness threshold 1 + 2/d (either way). */
    SMOOTHNESS_CROSSING,
    /** no batch arrived for the configured time. */
    STALE_LAYER,
    /** many batches were refused within a minute. */
    REJECTION_SURGE;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
