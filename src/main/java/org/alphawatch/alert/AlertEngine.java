package org.alphawatch.alert;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.alphawatch.core.analysis.ChangeStatistics;
import org.alphawatch.core.code.CodeMetrics;
import org.alphawatch.pipeline.LayerKey;

/**
 * Spectrum-change detection over each layer's mature snapshots (docs/alerting.md). Pure logic with
 * explicit times, tested on synthetic sequences; {@link AlertService} wires it to the monitor.
 *
 * <p><b>Shifts.</b> Consecutive snapshots of a sliding window share most of their samples, so each
 * snapshot is compared with a reference whose window ends where (or before) its own begins: two
 * estimates from disjoint samples. Four statistics are compared (alpha, the curvature of the log-log
 * spectrum, ln participation ratio, the leading principal subspace; {@link ChangeStatistics}), each
 * difference in units of its own noise: the larger of the median of the layer's recent pair errors
 * (from the windows' jackknife; the median, because a window that holds a change reads it as noise
 * among its groups, and one lucky small error is no scale) and the spread of the layer's own earlier
 * differences (so a source that varies between windows, or a network whose code drifts as it
 * learns, sets its own scale). Evidence accumulates in a one-sided CUSUM per statistic
 * and direction, {@code S = max(0, S + w (|d| - A) / sigma)}, where w is the share of a window that
 * is new since the layer's previous test (so evidence accrues per sample, however refreshes fall),
 * and the allowance A is the larger of one noise sd and the statistic's minimum shift: differences
 * smaller than that never accumulate. While evidence is positive the reference stays the one it
 * started from (for at most three windows), so a persistent change keeps adding evidence instead of
 * fading as the reference catches up with it. Layers of a run are combined: a statistic alarms when
 * the mean evidence of the run's three strongest layers reaches 60% of {@code shiftSigmas} (two
 * layers: 80%; one: all of it), or a single layer reaches twice it: a change that several layers
 * show together needs less from each, a lone layer (often the embeddings following vocabulary)
 * more. One alert per statistic names every layer with evidence, strongest first. After an alarm every layer of the run
 * resets that statistic and takes references from windows that begin after its newest window ends,
 * so one change raises each kind at most once.
 *
 * <p>The effective-rank collapse and numerical-rank drop keep their fraction tests (confirmed on
 * {@code confirm} consecutive snapshots). The first {@code warmup} mature snapshots of a layer are
 * never tested (early training moves fast by design).
 *
 * <p>Memory: per layer the snapshots that can still serve as references (at most {@value #KEPT},
 * thinned beyond), each with its {@link ChangeStatistics} (at most 32 d bytes of eigenvectors).
 * Thread-safe (synchronized): snapshots arrive from the detector thread, ticks from a timer.
 */
public final class AlertEngine {
    /** Most snapshots a layer keeps as candidate references (thinned evenly beyond). */
    static final int KEPT = 64;
    /** Past differences and noise estimates kept per statistic for the pooled and empirical scales. */
    private static final int HISTORY = 16;
    /** A reference is frozen once evidence reaches one noise sd-window, and released when its end lies this many windows back. */
    private static final double FREEZE_WINDOWS = 2;
    private static final double FREEZE_EVIDENCE = 1;
    /**
     * Combination over a run's layers: the mean evidence of its {@value #AGREE_LAYERS} strongest layers
     * (fewer when the run has fewer) must reach {@code (1 - 0.2 (m - 1))} of the threshold (m layers: 1,
     * 0.8, 0.6); one layer alone alarms at {@value #LONE_LAYER} times the threshold.
     */
    static final int AGREE_LAYERS = 3;
    static final double LONE_LAYER = 2;
    /** Median of chi-square(1): turns a median of squared differences into a variance. */
    private static final double MEDIAN_CHI2_1 = 0.4549;

    /** The statistics compared between disjoint windows, with their minimum shifts. */
    enum Statistic {
        ALPHA(AlertKind.ALPHA_SHIFT), CURVATURE(AlertKind.CURVATURE_SHIFT),
        PARTICIPATION(AlertKind.PARTICIPATION_SHIFT), SUBSPACE(AlertKind.SUBSPACE_SHIFT);

        final AlertKind kind;

        Statistic(AlertKind kind) {
            this.kind = kind;
        }

        String label() {
            return switch (this) {
                case ALPHA -> "alpha";
                case CURVATURE -> "curvature";
                case PARTICIPATION -> "participation ratio";
                case SUBSPACE -> "subspace";
            };
        }

        /** Smallest shift that counts, whatever the noise: alpha from the config; the others fixed (docs/alerting.md). */
        double minShift(AlertConfig c) {
            return switch (this) {
                case ALPHA -> c.minShift();
                case CURVATURE -> MIN_CURVATURE_SHIFT;
                case PARTICIPATION -> MIN_LOG_PARTICIPATION_SHIFT;
                case SUBSPACE -> MIN_SUBSPACE_SHIFT;
            };
        }
    }

    /** Bend of log lambda over the fit range; 0.05 moves the ends of a 11..500 window by about 0.15 against the middle. */
    static final double MIN_CURVATURE_SHIFT = 0.05;
    /** ln PR: a 10% change of the participation ratio. */
    static final double MIN_LOG_PARTICIPATION_SHIFT = 0.1;
    /** Squared sines of the leading 8-dimensional subspace beyond noise: one of its directions turned by 30 degrees, or each by 10. */
    static final double MIN_SUBSPACE_SHIFT = 0.25;

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
     * @param change      the window's change statistics (null: alpha alone is compared)
     */
    public record Observation(long step, long timeMillis, long windowFirst, long windowEnd, double alpha,
                              double alphaSe, double effectiveRank, int numericalRank, ChangeStatistics change) {
        public Observation(long step, long timeMillis, long windowFirst, long windowEnd, double alpha, double alphaSe,
                           double effectiveRank, int numericalRank) {
            this(step, timeMillis, windowFirst, windowEnd, alpha, alphaSe, effectiveRank, numericalRank, null);
        }

        long span() {
            return Math.max(1, windowEnd - windowFirst);
        }
    }

    /** One statistic of one layer: its CUSUMs, frozen reference and recent scales. */
    private static final class Track {
        double up;
        double down;
        /** Reference while evidence is positive (null: the newest disjoint one). */
        Observation frozen;
        /** After an alarm, references must begin at or after this sample. */
        long from;
        final double[] noise = new double[HISTORY];
        int noiseCount;
        final double[] diffs = new double[HISTORY];
        final long[] diffEnds = new long[HISTORY];
        int diffCount;
        /** The last test's numbers, for the alert. */
        double value = Double.NaN;
        double baseline = Double.NaN;
        double sigma = Double.NaN;
        double sigmas = Double.NaN;
        Observation lastRef;

        double evidence() {
            return Math.max(up, down);
        }

        void reset(long newFrom) {
            up = 0;
            down = 0;
            frozen = null;
            from = newFrom;
            diffCount = 0;
        }

        void addNoise(double v) {
            if (Double.isFinite(v) && v > 0) {
                noise[noiseCount++ % HISTORY] = v;
            }
        }

        /** Median of the noise estimates kept (NaN when none). */
        double pooledNoise() {
            return median(noise, Math.min(noiseCount, HISTORY));
        }

        void addDiff(double d, long end) {
            int i = diffCount++ % HISTORY;
            diffs[i] = d * d;
            diffEnds[i] = end;
        }

        /**
         * Variance implied by the earlier differences whose windows end by {@code before}, the
         * reference's end: data older than the reference, so a change under test never sets its own
         * scale (NaN: fewer than 3).
         */
        double empiricalVariance(long before) {
            double[] v = new double[HISTORY];
            int n = 0;
            for (int i = 0; i < Math.min(diffCount, HISTORY); i++) {
                if (diffEnds[i] <= before) {
                    v[n++] = diffs[i];
                }
            }
            return n >= 3 ? median(v, n) / MEDIAN_CHI2_1 : Double.NaN;
        }
    }

    private static final class LayerState {
        final ArrayDeque<Observation> recent = new ArrayDeque<>();
        final Track[] tracks = new Track[Statistic.values().length];
        int seen;
        long collapseFrom;
        long rankFrom;
        int collapseRun;
        int rankRun;
        double lastAlpha = Double.NaN;
        boolean staleAlerted;
        long lastStep;
        long lastTime;
        long lastEnd = -1;
        long firstEnd = -1;

        LayerState() {
            for (int i = 0; i < tracks.length; i++) {
                tracks[i] = new Track();
            }
        }
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
        if (s.firstEnd < 0) {
            s.firstEnd = o.windowEnd();
        }
        // Warm-up: `warmup` snapshots, or `warmup` eighths of a window of data, whichever comes first,
        // so that it does not depend on how often the layer refreshes.
        boolean tested = s.seen >= c.warmup() || o.windowEnd() - s.firstEnd >= c.warmup() * o.span() / 8;
        s.seen++;
        // Evidence accrues per sample: the share of a window that is new since this layer's previous snapshot.
        double weight = s.lastEnd < 0 ? 1 : Math.min(1, Math.max(0, o.windowEnd() - s.lastEnd) / (double) o.span());
        s.lastStep = o.step();
        s.lastTime = o.timeMillis();
        s.lastEnd = o.windowEnd();
        shifts(key, o, s, c, weight, tested, out);
        Observation ref = tested ? reference(s, o, s.collapseFrom) : null;
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

    /** Updates every statistic's evidence for this snapshot, then decides for the run. */
    private void shifts(LayerKey key, Observation o, LayerState s, AlertConfig c, double weight, boolean tested,
                        List<Alert> out) {
        for (Statistic st : Statistic.values()) {
            Track t = s.tracks[st.ordinal()];
            Observation ref = t.frozen != null && t.frozen.windowEnd() <= o.windowFirst()
                    && o.windowEnd() - t.frozen.windowEnd() <= FREEZE_WINDOWS * o.span() ? t.frozen
                    : reference(s, o, t.from);
            if (ref == null) {
                t.frozen = null;
                continue;
            }
            double[] d = difference(st, o, ref, t);
            if (d == null) {
                continue;
            }
            double diff = d[0];
            if (!tested) {
                t.addDiff(diff, o.windowEnd()); // the warm-up's differences still set the empirical scale
                continue;
            }
            double sigma = Math.max(d[1], st.minShift(c) / c.shiftSigmas());
            double allowance = Math.max(sigma, st.minShift(c));
            t.up = Math.max(0, t.up + weight * (diff - allowance) / sigma);
            t.down = st == Statistic.SUBSPACE ? 0 : Math.max(0, t.down + weight * (-diff - allowance) / sigma);
            t.value = d[2];
            t.baseline = d[3];
            t.sigma = sigma;
            t.sigmas = diff / sigma;
            t.lastRef = ref;
            t.addDiff(diff, o.windowEnd());
            if (t.evidence() <= 0) {
                t.frozen = null;
            } else if (t.frozen == null && t.evidence() >= FREEZE_EVIDENCE) {
                t.frozen = ref;
            }
        }
        if (tested) {
            for (Statistic st : Statistic.values()) {
                decide(key, st, c, out);
            }
        }
    }

    /**
     * {difference, its noise sd, value, baseline} of one statistic between a snapshot and its
     * reference (for the subspace: the distance beyond its expected noise, and the distance), or
     * null when either window lacks it. Records the windows' noise for the pooled scale.
     */
    private static double[] difference(Statistic st, Observation o, Observation ref, Track t) {
        ChangeStatistics a = o.change();
        ChangeStatistics b = ref.change();
        double value;
        double baseline;
        double se;
        double seRef;
        switch (st) {
            case ALPHA -> {
                value = o.alpha();
                baseline = ref.alpha();
                se = o.alphaSe();
                seRef = ref.alphaSe();
            }
            case CURVATURE, PARTICIPATION -> {
                if (a == null || b == null) {
                    return null;
                }
                ChangeStatistics.Scalar sc = st == Statistic.CURVATURE ? ChangeStatistics.Scalar.CURVATURE
                        : ChangeStatistics.Scalar.LOG_PARTICIPATION;
                value = a.value(sc);
                baseline = b.value(sc);
                se = a.standardError(sc);
                seRef = b.standardError(sc);
            }
            case SUBSPACE -> {
                if (a == null || b == null) {
                    return null;
                }
                double distance = a.subspaceDistance(b);
                double expected = a.subspaceNoise() + b.subspaceNoise();
                if (!Double.isFinite(distance) || !Double.isFinite(expected)) {
                    return null;
                }
                // Sum of squares of perturbations: sd about sqrt(2 sum c^2) per window; the two add at most linearly.
                double sd = Math.sqrt(2) * (a.subspaceNoiseSpread() + b.subspaceNoiseSpread());
                t.addNoise(sd * sd);
                double sigma = Math.sqrt(t.pooledNoise());
                double empirical = t.empiricalVariance(ref.windowEnd());
                if (Double.isFinite(empirical)) {
                    sigma = Math.max(sigma, Math.sqrt(empirical));
                }
                return new double[] {distance - expected, sigma, distance, expected};
            }
            default -> throw new IllegalStateException(st.name());
        }
        if (!Double.isFinite(value) || !Double.isFinite(baseline)) {
            return null;
        }
        // The median of the layer's recent pair variances, not this pair's: a window that holds a change reads
        // the change as noise among its groups (its jackknife error balloons), and one lucky small error is no scale.
        t.addNoise(sq(se) + sq(seRef));
        double variance = t.pooledNoise();
        double empirical = t.empiricalVariance(ref.windowEnd());
        if (Double.isFinite(empirical)) {
            variance = Double.isFinite(variance) ? Math.max(variance, empirical) : empirical;
        }
        return new double[] {value - baseline, Double.isFinite(variance) ? Math.sqrt(variance) : 0, value, baseline};
    }

    /** One alert for the run when a layer's evidence for {@code st} reached the threshold, or three layers agree. */
    private void decide(LayerKey key, Statistic st, AlertConfig c, List<Alert> out) {
        double h = c.shiftSigmas();
        List<Map.Entry<LayerKey, LayerState>> run = new ArrayList<>();
        for (Map.Entry<LayerKey, LayerState> e : layers.entrySet()) {
            if (e.getKey().run().equals(key.run())) {
                run.add(e);
            }
        }
        run.sort((x, y) -> Double.compare(y.getValue().tracks[st.ordinal()].evidence(),
                x.getValue().tracks[st.ordinal()].evidence()));
        int m = Math.min(AGREE_LAYERS, run.size());
        double strongest = 0;
        for (int i = 0; i < m; i++) {
            strongest += run.get(i).getValue().tracks[st.ordinal()].evidence() / m;
        }
        double max = run.get(0).getValue().tracks[st.ordinal()].evidence();
        boolean together = strongest >= (1 - 0.2 * (m - 1)) * h;
        boolean lone = max >= (m == 1 ? 1 : LONE_LAYER) * h;
        if (!together && !lone) {
            return;
        }
        List<Alert.Evidence> evidence = new ArrayList<>();
        List<String> parts = new ArrayList<>();
        for (Map.Entry<LayerKey, LayerState> e : run) {
            Track t = e.getValue().tracks[st.ordinal()];
            if (t.evidence() <= 0) {
                continue;
            }
            evidence.add(new Alert.Evidence(e.getKey().layer(), st.name().toLowerCase(Locale.ROOT), t.value, t.baseline,
                    t.sigma, t.sigmas, t.evidence() / h));
            parts.add(describe(st, e.getKey().layer(), t, h));
        }
        LayerKey top = run.get(0).getKey();
        LayerState ts = run.get(0).getValue();
        Track lead = ts.tracks[st.ordinal()];
        String direction = st == Statistic.SUBSPACE ? "turned" : lead.up >= lead.down ? "shifted up" : "shifted down";
        String meaning = switch (st) {
            case ALPHA -> lead.up >= lead.down ? ": the code became more redundant (faster decay)"
                    : ": the code became denser (slower decay)";
            case PARTICIPATION -> lead.up >= lead.down ? ": variance spread over more directions"
                    : ": variance concentrated on fewer directions";
            case SUBSPACE -> ": the layer's leading directions changed (what it represents, not only how much)";
            case CURVATURE -> ": the spectrum's shape changed beyond its slope";
        };
        String message = String.format(Locale.ROOT, "%s: %s %s on %d of %d layers%s. %s", key.run(), st.label(), direction,
                evidence.size(), run.size(), meaning, String.join("; ", parts));
        out.add(new Alert(st.kind, key.run(), top.layer(), ts.lastStep, ts.lastTime, lead.value, lead.baseline, message,
                evidence));
        for (Map.Entry<LayerKey, LayerState> e : run) {
            e.getValue().tracks[st.ordinal()].reset(e.getValue().lastEnd);
        }
    }

    private static String describe(Statistic st, String layer, Track t, double h) {
        Observation r = t.lastRef;
        String window = r == null ? "" : String.format(Locale.ROOT, " (reference samples %d..%d)", r.windowFirst(),
                r.windowEnd());
        if (st == Statistic.SUBSPACE) {
            return String.format(Locale.ROOT, "%s: distance %.3f where noise explains %.3f (sd %.3f, %.1f sd)%s, "
                    + "evidence %.1fx threshold", layer, t.value, t.baseline, t.sigma, t.sigmas, window, t.evidence() / h);
        }
        return String.format(Locale.ROOT, "%s: %.3f -> %.3f (%+.3f, noise sd %.3f, %.1f sd)%s, evidence %.1fx threshold",
                layer, t.baseline, t.value, t.value - t.baseline, t.sigma, t.sigmas, window, t.evidence() / h);
    }

    private static double median(double[] v, int n) {
        if (n == 0) {
            return Double.NaN;
        }
        double[] c = java.util.Arrays.copyOf(v, n);
        java.util.Arrays.sort(c);
        return n % 2 == 1 ? c[n / 2] : 0.5 * (c[n / 2 - 1] + c[n / 2]);
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

    /**
     * Keeps the snapshots that may still serve as references: every one newer than the newest that
     * ends before the latest window begins, and that one; beyond {@value #KEPT}, every other of the
     * older half goes (a reference may then end a little earlier: still disjoint).
     */
    private static void remember(LayerState s, Observation o) {
        s.recent.addLast(o);
        Observation keepFrom = null;
        for (Iterator<Observation> it = s.recent.descendingIterator(); it.hasNext(); ) {
            Observation r = it.next();
            if (r.windowEnd() <= o.windowFirst()) {
                keepFrom = r;
                break;
            }
        }
        // Frozen references are held by their tracks, not here.
        while (keepFrom != null && s.recent.peekFirst() != keepFrom) {
            s.recent.removeFirst();
        }
        if (s.recent.size() > KEPT) {
            List<Observation> all = new ArrayList<>(s.recent);
            s.recent.clear();
            for (int i = 0; i < all.size(); i++) {
                if (i >= all.size() / 2 || i % 2 == 0) {
                    s.recent.addLast(all.get(i));
                }
            }
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
