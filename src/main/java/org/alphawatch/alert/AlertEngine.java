package org.alphawatch.alert;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.alphawatch.core.code.CodeMetrics;
import org.alphawatch.pipeline.LayerKey;

/**
 * Spectrum-change detection over each layer's mature snapshots (docs/alerting.md). Pure logic with
 * explicit times, tested on synthetic sequences; {@link AlertService} wires it to the monitor.
 *
 * <p>Consecutive snapshots of a sliding window share most of their samples, so comparing them
 * says little. Each snapshot is instead compared with the newest earlier snapshot whose window
 * ends where (or before) its own begins: two estimates from disjoint samples. alpha shifted when
 * {@code |alpha - alpha_ref| > max(minShift, shiftSigmas * sqrt(se^2 + se_ref^2))}, se being each
 * window's jackknife standard error, on {@code confirm} consecutive snapshots in the same
 * direction. The effective rank collapsed when it fell below {@code collapseFraction} of the
 * reference's; the numerical rank dropped when it fell by more than {@code rankDropFraction}
 * (dead units, directions that lost all variance). After an alarm only windows that begin after
 * the alarming window ends serve as references for that test, so one change raises each kind of
 * alarm at most once (a step of alpha may also collapse the effective rank). The first
 * {@code warmup} mature snapshots are never tested (early training moves fast by design).
 *
 * <p>Thread-safe (synchronized): snapshots arrive from the detector thread, ticks from a timer.
 */
public final class AlertEngine {
    /** How many past snapshots a layer keeps to find disjoint references. */
    private static final int KEPT = 512;

    private final AlertConfig defaults;
    private final int inputDim;
    private final Map<String, AlertConfig> perRun = new ConcurrentHashMap<>();
    private final Map<LayerKey, LayerState> layers = new HashMap<>();
    private final ArrayDeque<Long> rejections = new ArrayDeque<>();
    private boolean surgeActive;

    /**
     * What the detector reads of a mature snapshot.
     *
     * @param windowFirst the window covers the layer's samples [windowFirst, windowEnd)
     * @param alphaSe     jackknife standard error of alpha (NaN without an interval)
     */
    public record Observation(long step, long timeMillis, long windowFirst, long windowEnd, double alpha,
                              double alphaSe, double effectiveRank, int numericalRank) {}

    private static final class LayerState {
        final ArrayDeque<Observation> recent = new ArrayDeque<>();
        int seen;
        /** Per test (shift, collapse, rank): after its alarm, references must begin after this sample. */
        long shiftFrom;
        long collapseFrom;
        long rankFrom;
        int shiftRun;
        int shiftSign;
        int collapseRun;
        int rankRun;
        double lastAlpha = Double.NaN;
        boolean staleAlerted;
    }

    public AlertEngine(AlertConfig defaults, int inputDim) {
        this.defaults = defaults;
        this.inputDim = inputDim;
    }

    /** Thresholds for one run (replacing the defaults for it). */
    public void configure(String run, AlertConfig config) {
        perRun.put(run, config);
    }

    public AlertConfig config(String run) {
        return perRun.getOrDefault(run, defaults);
    }

    public synchronized void forget(String run) {
        layers.keySet().removeIf(k -> k.run().equals(run));
        perRun.remove(run);
    }

    /** A mature snapshot of a layer; returns the alerts it raises (usually none). */
    public synchronized List<Alert> onSnapshot(LayerKey key, Observation o) {
        AlertConfig c = config(key.run());
        LayerState s = layers.computeIfAbsent(key, k -> new LayerState());
        s.staleAlerted = false;
        List<Alert> out = new ArrayList<>();
        smoothness(key, o, s, out);
        boolean tested = s.seen >= c.warmup();
        s.seen++;
        Observation ref = tested ? reference(s, o, s.shiftFrom) : null;
        if (ref != null && shift(key, o, ref, s, c, out)) {
            s.shiftFrom = o.windowEnd();
        }
        ref = tested ? reference(s, o, s.collapseFrom) : null;
        if (ref != null && Double.isFinite(o.effectiveRank()) && Double.isFinite(ref.effectiveRank())
                && o.effectiveRank() < c.collapseFraction() * ref.effectiveRank()) {
            if (++s.collapseRun >= c.confirm()) {
                out.add(new Alert(AlertKind.EFFECTIVE_RANK_COLLAPSE, key.run(), key.layer(), o.step(), o.timeMillis(),
                        o.effectiveRank(), ref.effectiveRank(), String.format(Locale.ROOT,
                                "%s: effective rank fell to %.2f, below %.0f%% of %.2f in the window before (samples "
                                        + "%d..%d)", key, o.effectiveRank(), 100 * c.collapseFraction(),
                                ref.effectiveRank(), ref.windowFirst(), ref.windowEnd())));
                s.collapseFrom = o.windowEnd();
                s.collapseRun = 0;
            }
        } else {
            s.collapseRun = 0;
        }
        ref = tested ? reference(s, o, s.rankFrom) : null;
        if (ref != null && o.numericalRank() < (1 - c.rankDropFraction()) * ref.numericalRank()) {
            if (++s.rankRun >= c.confirm()) {
                out.add(new Alert(AlertKind.RANK_DROP, key.run(), key.layer(), o.step(), o.timeMillis(),
                        o.numericalRank(), ref.numericalRank(), String.format(Locale.ROOT,
                                "%s: numerical rank fell from %d to %d: %d directions carry no variance any more "
                                        + "(dead units?)", key, ref.numericalRank(), o.numericalRank(),
                                ref.numericalRank() - o.numericalRank())));
                s.rankFrom = o.windowEnd();
                s.rankRun = 0;
            }
        } else {
            s.rankRun = 0;
        }
        remember(s, o);
        return out;
    }

    /** The alpha test; true when it raised an alarm. */
    private boolean shift(LayerKey key, Observation o, Observation ref, LayerState s, AlertConfig c, List<Alert> out) {
        if (!Double.isFinite(o.alpha()) || !Double.isFinite(ref.alpha())) {
            s.shiftRun = 0;
            return false;
        }
        double d = o.alpha() - ref.alpha();
        double noise = Math.sqrt(sq(o.alphaSe()) + sq(ref.alphaSe()));
        double threshold = Double.isFinite(noise) ? Math.max(c.minShift(), c.shiftSigmas() * noise) : c.minShift();
        if (Math.abs(d) <= threshold) {
            s.shiftRun = 0;
            return false;
        }
        int sign = d > 0 ? 1 : -1;
        if (s.shiftRun > 0 && sign != s.shiftSign) {
            s.shiftRun = 0;
        }
        s.shiftSign = sign;
        if (++s.shiftRun >= c.confirm()) {
            boolean up = sign > 0;
            out.add(new Alert(AlertKind.ALPHA_SHIFT, key.run(), key.layer(), o.step(), o.timeMillis(), o.alpha(),
                    ref.alpha(), String.format(Locale.ROOT,
                            "%s: alpha shifted %s from %.3f (+/- %.3f, samples %d..%d) to %.3f (+/- %.3f, samples "
                                    + "%d..%d): the code became %s", key, up ? "up" : "down", ref.alpha(), ref.alphaSe(),
                            ref.windowFirst(), ref.windowEnd(), o.alpha(), o.alphaSe(), o.windowFirst(),
                            o.windowEnd(), up ? "more redundant (faster decay)" : "denser (slower decay)")));
            s.shiftRun = 0;
            return true;
        }
        return false;
    }

    private static double sq(double v) {
        return v * v;
    }

    /** The newest kept snapshot whose window ends at or before {@code o}'s begins and begins at or after {@code from}. */
    private static Observation reference(LayerState s, Observation o, long from) {
        for (Iterator<Observation> it = s.recent.descendingIterator(); it.hasNext(); ) {
            Observation r = it.next();
            if (r.windowEnd() <= o.windowFirst()) {
                return r.windowFirst() >= from ? r : null;
            }
        }
        return null;
    }

    private static void remember(LayerState s, Observation o) {
        s.recent.addLast(o);
        while (s.recent.size() > KEPT) {
            s.recent.removeFirst();
        }
    }

    private void smoothness(LayerKey key, Observation o, LayerState s, List<Alert> out) {
        double alpha = o.alpha();
        if (inputDim > 0 && Double.isFinite(alpha) && Double.isFinite(s.lastAlpha)) {
            double th = CodeMetrics.smoothnessThreshold(inputDim);
            if ((s.lastAlpha - th) * (alpha - th) < 0 || (s.lastAlpha != th && alpha == th)) {
                boolean up = alpha > s.lastAlpha;
                out.add(new Alert(AlertKind.SMOOTHNESS_CROSSING, key.run(), key.layer(), o.step(), o.timeMillis(),
                        alpha, th, String.format(Locale.ROOT,
                                "%s: alpha %s the smoothness threshold 1 + 2/%d = %.3f (%.3f -> %.3f)", key,
                                up ? "rose above" : "fell below", inputDim, th, s.lastAlpha, alpha)));
            }
        }
        if (Double.isFinite(alpha)) {
            s.lastAlpha = alpha;
        }
    }

    /**
     * Stale layers: {@code lastBatchMillis} maps each layer to the time of its last applied batch.
     * One alert per silence; a new snapshot re-arms it.
     */
    public synchronized List<Alert> tick(long nowMillis, Map<LayerKey, Long> lastBatchMillis) {
        List<Alert> out = new ArrayList<>();
        for (Map.Entry<LayerKey, Long> e : lastBatchMillis.entrySet()) {
            LayerKey key = e.getKey();
            AlertConfig c = config(key.run());
            if (c.staleAfter().isZero()) {
                continue;
            }
            LayerState s = layers.computeIfAbsent(key, k -> new LayerState());
            long silent = nowMillis - e.getValue();
            if (silent >= c.staleAfter().toMillis()) {
                if (!s.staleAlerted) {
                    s.staleAlerted = true;
                    out.add(new Alert(AlertKind.STALE_LAYER, key.run(), key.layer(), -1, nowMillis, silent / 1000.0,
                            c.staleAfter().toSeconds(), String.format(Locale.ROOT,
                                    "%s: no batches for %.0f s (stale after %d s)", key, silent / 1000.0,
                                    c.staleAfter().toSeconds())));
                }
            } else {
                s.staleAlerted = false;
            }
        }
        return out;
    }

    /** A refused batch or request; raises a surge alert when a minute holds more than the threshold. */
    public synchronized List<Alert> onRejected(long nowMillis) {
        int limit = defaults.surgePerMinute();
        if (limit == 0) {
            return List.of();
        }
        rejections.addLast(nowMillis);
        while (!rejections.isEmpty() && rejections.peekFirst() <= nowMillis - 60_000) {
            rejections.removeFirst();
        }
        // Bound memory: beyond the threshold only the count matters.
        while (rejections.size() > 2 * limit + 1) {
            rejections.removeFirst();
        }
        if (!surgeActive && rejections.size() > limit) {
            surgeActive = true;
            return List.of(new Alert(AlertKind.REJECTION_SURGE, Alert.ALL, Alert.ALL, -1, nowMillis, rejections.size(),
                    limit, String.format(Locale.ROOT, "more than %d batches or requests refused within a minute "
                            + "(see alphawatch_ingest_rejected_total by reason)", limit)));
        }
        if (surgeActive && rejections.size() <= limit / 2) {
            surgeActive = false;
        }
        return List.of();
    }
}
