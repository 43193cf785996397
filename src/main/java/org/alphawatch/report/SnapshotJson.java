package org.alphawatch.report;

import static org.alphawatch.report.JsonFields.*;
import static org.alphawatch.report.ReportJson.num;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.alphawatch.core.fit.PowerLawFit;
import org.alphawatch.pipeline.HistoryMetric;
import org.alphawatch.pipeline.HistoryPoint;
import org.alphawatch.pipeline.LayerSnapshot;
import org.alphawatch.pipeline.Monitor;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.core.window.WindowSpec;
import org.alphawatch.pipeline.ProjectionSnapshot;

/** JSON documents of the monitor's snapshots: the analyze object plus where it came from. */
public final class SnapshotJson {
    private SnapshotJson() {}

    /** {@code GET .../spectrum}: the analyze JSON plus run, layer, step, step range, window, maturity and fit line. */
    public static Map<String, Object> spectrum(LayerSnapshot s, String solver) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(RUN, s.key().run());
        m.put(LAYER, s.key().layer());
        m.put(STEP, s.step());
        m.put(STEP_RANGE, List.of(s.stepMin(), s.stepMax()));
        m.put(MATURE, s.mature());
        m.put(MIN_SAMPLES, s.minSamples());
        m.put(WINDOW, window(s));
        m.put(TOTAL_SAMPLES, s.totalSamples());
        m.put(SEQUENCE, s.sequence());
        m.put(REFRESHED_AT_MS, s.refreshedAtMillis());
        m.put(REFRESH_SECONDS, s.refreshSeconds());
        m.putAll(ReportJson.toMap(s.report(), solver));
        m.put(FIT_LINE, fitLine(s.report().fit()));
        if (s.projection() != null) {
            m.put(PROJECTION, projection(s.projection()));
        }
        return m;
    }

    /** The spectrum document of a layer's current snapshot, with its last refresh failure (if any) marked. */
    public static Map<String, Object> spectrum(Monitor.LayerStatus status, String solver) {
        Map<String, Object> m = spectrum(status.current(), solver);
        m.put(TOTAL_SAMPLES, status.totalSamples());
        if (!status.sources().isEmpty()) {
            m.put(SOURCES, status.sources());
        }
        if (status.refreshError() != null) {
            m.put(REFRESH_ERROR, status.refreshError());
            m.put(REFRESH_FAILURES, status.refreshFailures());
        }
        return m;
    }

    static Map<String, Object> window(LayerSnapshot s) {
        WindowSpec w = s.window();
        Map<String, Object> window = new LinkedHashMap<>();
        window.put(MODE, w.mode().label());
        window.put(SIZE, w.samples());
        window.put(w.mode() == WindowMode.SLIDING ? PANES : GROUPS, w.groups());
        if (w.mode() == WindowMode.SLIDING) {
            window.put(PANE_SAMPLES, w.paneSamples());
            window.put(INCLUDE_OPEN, w.includeOpen());
        }
        window.put(SAMPLES, s.windowSamples());
        window.put(FIRST_SAMPLE, s.windowFirst());
        window.put(END_SAMPLE, s.windowEnd());
        return window;
    }

    /** The fitted line at the window's ends and at rank 1 and K, for drawing. */
    static Map<String, Object> fitLine(PowerLawFit fit) {
        if (!fit.ok()) {
            return null;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(RANKS, List.of(fit.window().lo(), fit.window().hi()));
        m.put(VALUES, List.of(fit.predict(fit.window().lo()), fit.predict(fit.window().hi())));
        m.put(ALPHA, fit.alpha());
        m.put(INTERCEPT, fit.intercept());
        return m;
    }

    static Map<String, Object> projection(ProjectionSnapshot p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(STEP, p.step());
        List<Integer> densities = new ArrayList<>();
        for (int d : p.densities()) {
            densities.add(d);
        }
        m.put(DENSITIES, densities);
        m.put(ENERGIES, ReportJson.toList(p.energies()));
        m.put(ENERGY_SLOPE, p.slope() == null ? null : num(p.slope().slope()));
        m.put(ENERGY_SLOPE_R2, p.slope() == null ? null : num(p.slope().r2()));
        m.put(SMOOTH, p.slope() == null ? null : p.slope().smooth());
        m.put(READOUT_R2, num(p.readoutR2()));
        m.put(K, p.k());
        List<List<Double>> trajectory = new ArrayList<>();
        double[] t = p.trajectory();
        for (int i = 0; i + p.k() <= t.length; i += p.k()) {
            List<Double> point = new ArrayList<>();
            for (int c = 0; c < p.k(); c++) {
                point.add(t[i + c]);
            }
            trajectory.add(point);
        }
        m.put(TRAJECTORY, trajectory);
        return m;
    }

    /** A history point: step, time, window samples and every HistoryMetric by its name (names shared by several form a list, null when not all are finite). */
    public static Map<String, Object> historyPoint(HistoryPoint h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(STEP, h.step());
        m.put(TIME_MS, h.timeMillis());
        m.put(WINDOW_SAMPLES, h.windowSamples());
        Map<String, List<Double>> byName = new LinkedHashMap<>();
        for (HistoryMetric metric : HistoryMetric.values()) {
            byName.computeIfAbsent(metric.json(), k -> new java.util.ArrayList<>()).add(h.value(metric));
        }
        byName.forEach((name, values) -> m.put(name, values.size() == 1 ? num(values.get(0))
                : values.stream().allMatch(Double::isFinite) ? values : null));
        return m;
    }
}
