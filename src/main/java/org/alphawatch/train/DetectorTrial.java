package org.alphawatch.train;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.alphawatch.alert.Alert;
import org.alphawatch.alert.AlertConfig;
import org.alphawatch.alert.AlertEngine;
import org.alphawatch.alert.AlertService;
import org.alphawatch.core.spectrum.EigenSolver;
import org.alphawatch.io.NpyArray;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.pipeline.Monitor;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.pipeline.MonitorObserver;
import reactor.core.scheduler.Schedulers;

/**
 * The detector measured end to end: a synthetic code streams through a real {@link Monitor} (the
 * default sliding window, a refresh at every closed pane) into the {@link AlertEngine} with its
 * default thresholds. A stationary stream must raise nothing; a change (an alpha step, half the
 * units going dead) is timed in samples from the change to the end of the window that raised the
 * alarm. Used by {@code bench --detector} (the table of docs/alerting.md) and its test.
 */
public final class DetectorTrial {
    /** What happens half-way through the stream. */
    public enum Change { NONE, ALPHA_STEP, HALF_DEAD }

    /**
     * @param windowsBefore stream length before the change, in windows of the layer (16 d samples)
     * @param windowsAfter  after it (ignored without a change)
     */
    public record Scenario(int dims, int batch, double alpha, Change change, double step, int windowsBefore,
                           int windowsAfter, long seed) {
        public String describe() {
            return switch (change) {
                case NONE -> String.format(Locale.ROOT, "stationary alpha %.1f", alpha);
                case ALPHA_STEP -> String.format(Locale.ROOT, "alpha %.1f -> %.1f", alpha, alpha + step);
                case HALF_DEAD -> String.format(Locale.ROOT, "alpha %.1f, half the units die", alpha);
            };
        }
    }

    /**
     * @param mature       mature snapshots seen
     * @param falseAlarms  alarms from windows that end before the change (all alarms when stationary)
     * @param delaySamples samples from the change to the end of the first alarming window (-1: none)
     * @param delays       the same per kind of alert, in the order they came
     * @param maxAlphaError largest |alpha - population alpha| of the mature snapshots before the change
     */
    public record Outcome(Scenario scenario, long samples, int mature, int falseAlarms, long delaySamples,
                          String firstKind, Map<String, Long> delays, double maxAlphaError, List<Alert> alerts) {}

    private DetectorTrial() {}

    public static Outcome run(Scenario s, EigenSolver solver) {
        MonitorConfig defaults = MonitorConfig.defaults();
        long pane = defaults.windowSpec(s.dims()).paneSamples();
        long window = defaults.windowSpec(s.dims()).samples();
        MonitorConfig config = defaults.withRefresh(pane, Duration.ZERO);
        AlertEngine engine = new AlertEngine(AlertConfig.defaults(), 0);
        LayerKey key = new LayerKey("trial", "h");
        List<Alert> alerts = new ArrayList<>();
        List<Long> alertEnds = new ArrayList<>();
        int[] mature = new int[1];
        double[] maxError = new double[1];
        long changeAt = s.change() == Change.NONE ? Long.MAX_VALUE : s.windowsBefore() * window;
        SyntheticCode code = new SyntheticCode(s.dims(), s.alpha(), s.seed());
        try (Monitor monitor = new Monitor(config, solver, MonitorObserver.NONE, Schedulers.immediate(),
                Schedulers.immediate(), Schedulers.immediate(), 1)) {
            monitor.snapshots().subscribe(snap -> {
                mature[0]++;
                if (snap.windowEnd() <= changeAt) {
                    maxError[0] = Math.max(maxError[0], Math.abs(snap.report().alpha() - s.alpha()));
                }
                for (Alert a : engine.onSnapshot(key, AlertService.observation(snap))) {
                    alerts.add(a);
                    alertEnds.add(snap.windowEnd());
                }
            });
            long total = (s.windowsBefore() + (s.change() == Change.NONE ? 0 : s.windowsAfter())) * window;
            float[] rows = new float[s.batch() * s.dims()];
            long sent = 0;
            long step = 0;
            while (sent < total) {
                if (sent >= changeAt && sent - s.batch() < changeAt) {
                    if (s.change() == Change.ALPHA_STEP) {
                        code.setAlpha(s.alpha() + s.step());
                    } else {
                        code.kill(s.dims() / 2, s.dims());
                    }
                }
                code.fill(rows, s.batch());
                if (!monitor.ingest().offer(ActivationBatch.train(key, step++, NpyArray.ofFloats(rows.clone(), s.batch(),
                        s.dims()))).ok()) {
                    throw new IllegalStateException("the monitor refused a batch");
                }
                sent += s.batch();
            }
            int falseAlarms = 0;
            long delay = -1;
            String kind = "-";
            Map<String, Long> delays = new LinkedHashMap<>();
            for (int i = 0; i < alerts.size(); i++) {
                if (alertEnds.get(i) <= changeAt) {
                    falseAlarms++;
                    continue;
                }
                long d = alertEnds.get(i) - changeAt;
                delays.putIfAbsent(alerts.get(i).kind().label(), d);
                if (delay < 0) {
                    delay = d;
                    kind = alerts.get(i).kind().label();
                }
            }
            return new Outcome(s, sent, mature[0], falseAlarms, delay, kind, delays, maxError[0], List.copyOf(alerts));
        }
    }

    /** The table of docs/alerting.md: one line per scenario. */
    public static String row(Outcome o) {
        Scenario s = o.scenario();
        StringBuilder caught = new StringBuilder();
        o.delays().forEach((kind, d) -> caught.append(caught.length() == 0 ? "" : ", ").append(kind).append(' ')
                .append(d).append(String.format(Locale.ROOT, " (%.1f w)", d / (16.0 * s.dims()))));
        return String.format(Locale.ROOT, "| %d | %d | %s | %d | %d | %s | %.3f |", s.dims(), s.batch(), s.describe(),
                o.samples(), o.falseAlarms(), s.change() == Change.NONE ? "-" : caught.length() == 0 ? "missed"
                        : caught.toString(), o.maxAlphaError());
    }

    public static String header() {
        return "| units d | batch | stream | samples | false alarms | caught by (samples after the change; w = windows) "
                + "| max alpha error before |\n|---|---|---|---|---|---|---|";
    }
}
