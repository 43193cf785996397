package org.alphawatch.scale;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.alphawatch.pipeline.MonitorConfig;

/**
 * The monitor settings that change what a layer means (its window, maturity, fit, interval groups,
 * metrics): one value for the whole cluster, recorded in the owners topic by the first node that
 * starts. A node whose settings differ refuses to start, naming the setting, so that a layer never
 * depends on which worker first saw it. Named as {@code serve}'s flags. Immutable.
 */
record ClusterSettings(Map<String, String> values) {
    /** The owners topic's key of the record that holds them. */
    static final String KEY = "settings";

    ClusterSettings {
        values = Map.copyOf(new TreeMap<>(values));
    }

    static ClusterSettings of(MonitorConfig c) {
        // serve's flag names (not JSON fields): what an operator reads in the refusal.
        String[][] settings = {
            {"window", c.window().name().toLowerCase(java.util.Locale.ROOT)},
            {"window-size", Long.toString(c.windowSamples())},
            {"include-open", Boolean.toString(c.includeOpen())},
            {"ci-groups", Integer.toString(c.ciGroups())},
            {"min-samples", Long.toString(c.minSamples())},
            {"fit-range", c.fitWindow() == null ? "" : c.fitWindow().lo() + ":" + c.fitWindow().hi()},
            {"top-k", Integer.toString(c.topK())},
            {"input-dim", Integer.toString(c.inputDim())},
            {"bits", Double.toString(c.bits())},
            {"max-dims", Integer.toString(c.maxDims())},
        };
        Map<String, String> m = new TreeMap<>();
        for (String[] s : settings) {
            m.put(s[0], s[1]);
        }
        return new ClusterSettings(m);
    }

    /** {@code name=value} lines, sorted by name. */
    byte[] encode() {
        StringBuilder b = new StringBuilder();
        new TreeMap<>(values).forEach((k, v) -> b.append(k).append('=').append(v).append('\n'));
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    static ClusterSettings decode(byte[] bytes) {
        Map<String, String> m = new TreeMap<>();
        for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return new ClusterSettings(m);
    }

    /** The first setting on which this node and the cluster differ, said for an operator; empty when none. */
    Optional<String> difference(ClusterSettings cluster) {
        for (String name : new TreeMap<>(values).keySet()) {
            String mine = values.get(name);
            String theirs = cluster.values().get(name);
            if (theirs != null && !theirs.equals(mine)) {
                return Optional.of("--" + name + " is " + show(mine) + " here but " + show(theirs)
                        + " in the cluster (every node must use the cluster's value: a layer's meaning must not "
                        + "depend on which worker saw it first)");
            }
        }
        return Optional.empty();
    }

    private static String show(String v) {
        return v.isEmpty() ? "(default)" : v;
    }
}
