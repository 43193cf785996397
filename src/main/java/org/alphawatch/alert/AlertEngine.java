package org.alphawatch.alert;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.alphawatch.core.code.CodeMetrics;
import org.alphawatch.pipeline.LayerKey;

/**
 * Spectrum-change detection over each layer's sequence of snapshots. Pure logic with explicit
 * times, so it is tested on synthetic sequences; {@link AlertService} wires it to the monitor.
 *
 * <p>alpha shift: after a warm-up of W snapshots, the baseline is the median of the warm-up and
 * its scale the MAD (x 1.4826); afterwards both follow an EWMA. Each new alpha is standardized,
 * {@code z = (alpha - mean) / max(scale, minScale)}, and fed to a two-sided CUSUM with slack k and
 * threshold h (Page 1954). An alarm re-starts the warm-up at the new level. With k = 0.5 and h = 10
 * the in-control run length is of the order of 10^4 snapshots for Gaussian noise, and a shift of
 * 5 scale units is flagged within four snapshots.
 *
 * <p>Thread-safe (synchronized): snapshots arrive from compute threads, ticks from a timer.
 */
public final class AlertEngine {
    private final AlertConfig defaults;
    private final int inputDim;
    private final Map<String, AlertConfig> perRun = new ConcurrentHashMap<>();
    private final Map<LayerKey, LayerState> layers = new HashMap<>();
    private final ArrayDeque<Long> rejections = new ArrayDeque<>();
    private boolean surgeActive;

    private static final class LayerState {
        final double[] warmAlpha;
        final double[] warmRank;
        int warmCount;
        boolean warm;
        double mean;
        double scale;
        double cusumUp;
        double cusumDown;
        double rankBaseline;
        boolean collapsed;
        double lastAlpha = Double.NaN;
        boolean staleAlerted;

        LayerState(int warmup) {
            warmAlpha = new double[warmup];
            warmRank = new double[warmup];
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

    /** A refreshed snapshot of a layer; returns the alerts it raises (often none). */
    public synchronized List<Alert> onSnapshot(LayerKey key, long step, long timeMillis, double alpha,
                                               double effectiveRank) {
        AlertConfig c = config(key.run());
        LayerState s = layers.computeIfAbsent(key, k -> new LayerState(c.warmup()));
        s.staleAlerted = false;
        List<Alert> out = new ArrayList<>();
        if (inputDim > 0 && Double.isFinite(alpha) && Double.isFinite(s.lastAlpha)) {
            double th = CodeMetrics.smoothnessThreshold(inputDim);
            if ((s.lastAlpha - th) * (alpha - th) < 0 || (s.lastAlpha != th && alpha == th)) {
                boolean up = alpha > s.lastAlpha;
                out.add(new Alert(AlertKind.SMOOTHNESS_CROSSING, key.run(), key.layer(), step, timeMillis, alpha, th,
                        String.format(Locale.ROOT, "%s: alpha %s the smoothness threshold 1 + 2/%d = %.3f (%.3f -> %.3f)",
                                key, up ? "rose above" : "fell below", inputDim, th, s.lastAlpha, alpha)));
            }
        }
        if (Double.isFinite(alpha)) {
            s.lastAlpha = alpha;
        }
        if (!Double.isFinite(alpha) || !Double.isFinite(effectiveRank)) {
            return out;
        }
        if (!s.warm) {
            s.warmAlpha[s.warmCount] = alpha;
            s.warmRank[s.warmCount] = effectiveRank;
            if (++s.warmCount == s.warmAlpha.length) {
                s.mean = median(s.warmAlpha);
                double[] dev = new double[s.warmAlpha.length];
                for (int i = 0; i < dev.length; i++) {
                    dev[i] = Math.abs(s.warmAlpha[i] - s.mean);
                }
                s.scale = 1.4826 * median(dev);
                s.rankBaseline = median(s.warmRank);
                s.cusumUp = 0;
                s.cusumDown = 0;
                s.warm = true;
            }
            return out;
        }
        double z = (alpha - s.mean) / Math.max(s.scale, c.minScale());
        s.cusumUp = Math.max(0, s.cusumUp + z - c.cusumSlack());
        s.cusumDown = Math.max(0, s.cusumDown - z - c.cusumSlack());
        if (s.cusumUp > c.cusumThreshold() || s.cusumDown > c.cusumThreshold()) {
            boolean up = s.cusumUp > c.cusumThreshold();
            out.add(new Alert(AlertKind.ALPHA_SHIFT, key.run(), key.layer(), step, timeMillis, alpha, s.mean,
                    String.format(Locale.ROOT, "%s: alpha shifted %s from %.3f (+/- %.3f) to %.3f: the code became %s",
                            key, up ? "up" : "down", s.mean, Math.max(s.scale, c.minScale()), alpha,
                            up ? "more redundant (faster decay)" : "denser (slower decay)")));
            restartWarmup(s, alpha, effectiveRank);
            return out;
        }
        double w = c.baselineWeight();
        s.mean += w * (alpha - s.mean);
        s.scale = (1 - w) * s.scale + w * 1.2533 * Math.abs(alpha - s.mean);
        if (!s.collapsed && effectiveRank < c.collapseFraction() * s.rankBaseline) {
            s.collapsed = true;
            out.add(new Alert(AlertKind.EFFECTIVE_RANK_COLLAPSE, key.run(), key.layer(), step, timeMillis,
                    effectiveRank, s.rankBaseline, String.format(Locale.ROOT,
                            "%s: effective rank fell to %.2f, below %.0f%% of its baseline %.2f", key, effectiveRank,
                            100 * c.collapseFraction(), s.rankBaseline)));
        } else if (s.collapsed && effectiveRank >= (1 + c.collapseFraction()) / 2 * s.rankBaseline) {
            s.collapsed = false;
        }
        if (!s.collapsed) {
            s.rankBaseline += w * (effectiveRank - s.rankBaseline);
        }
        return out;
    }

    private static void restartWarmup(LayerState s, double alpha, double rank) {
        s.warm = false;
        s.warmCount = 1;
        s.warmAlpha[0] = alpha;
        s.warmRank[0] = rank;
        s.cusumUp = 0;
        s.cusumDown = 0;
        s.collapsed = false;
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
            LayerState s = layers.computeIfAbsent(key, k -> new LayerState(c.warmup()));
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

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
