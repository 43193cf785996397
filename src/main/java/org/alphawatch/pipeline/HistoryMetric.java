package org.alphawatch.pipeline;

import java.util.function.ToDoubleFunction;

/**
 * The values a layer's history keeps per refresh, named once: the id its saved state stores
 * (docs/durability.md, layer state v4: {@code {u8 id, f64 value}} per metric, so a metric added here
 * needs no new format), the JSON name of the history document (metrics sharing a name form a list,
 * e.g. the interval's two ends), and how a snapshot gives it (NaN where not available: no fit, no
 * interval, no probes, no repeats). Adding a metric is one constant here and its computation.
 */
public enum HistoryMetric {
    ALPHA(0, "alpha", s -> s.report().alpha()),
    ALPHA_CI_LO(1, "alpha_ci", s -> s.report().alphaInterval() == null ? Double.NaN : s.report().alphaInterval().lo()),
    ALPHA_CI_HI(2, "alpha_ci", s -> s.report().alphaInterval() == null ? Double.NaN : s.report().alphaInterval().hi()),
    ALPHA_R2(3, "alpha_r2", s -> s.report().fit().r2()),
    EFFECTIVE_RANK(4, "effective_rank", s -> s.report().metrics().effectiveRank()),
    PARTICIPATION_RATIO(5, "participation_ratio", s -> s.report().metrics().participationRatio()),
    STABLE_RANK(6, "stable_rank", s -> s.report().metrics().stableRank()),
    ENERGY_SLOPE(7, "energy_slope", s -> s.projection() == null ? Double.NaN : s.projection().slopeOrNaN()),
    CVPCA_ALPHA(8, "cvpca_alpha", s -> s.report().crossValidated() == null ? Double.NaN
            : s.report().crossValidated().fit().alpha());

    private final int id;
    private final String json;
    private final ToDoubleFunction<LayerSnapshot> of;

    HistoryMetric(int id, String json, ToDoubleFunction<LayerSnapshot> of) {
        this.id = id;
        this.json = json;
        this.of = of;
    }

    /** Stored in saved state: fixed, whatever the order of the constants. */
    public int id() {
        return id;
    }

    /** Its name in the history document. */
    public String json() {
        return json;
    }

    public double of(LayerSnapshot s) {
        return of.applyAsDouble(s);
    }

    /** The metric stored as {@code id}, or null (a newer version's: skipped when read). */
    public static HistoryMetric fromId(int id) {
        for (HistoryMetric m : values()) {
            if (m.id == id) {
                return m;
            }
        }
        return null;
    }
}
