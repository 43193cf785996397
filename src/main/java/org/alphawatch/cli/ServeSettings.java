package org.alphawatch.cli;

import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.alphawatch.alert.AlertConfig;
import org.alphawatch.core.fit.FitWindow;
import org.alphawatch.durability.Durability;
import org.alphawatch.durability.DurabilitySettings;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.scale.ScaleSettings;
import org.alphawatch.server.ServerConfig;

/**
 * The settings of {@code serve}: every key, its default and its parser in one table, read from a
 * properties file and overridden by command-line flags of the same name. Unknown keys and bad
 * values are errors naming the key. docs/configuration.md is checked against {@link #SETTINGS}.
 */
public final class ServeSettings {
    /** A flag takes no value on the command line ({@code --recover}); a value setting takes one. */
    public enum Kind { VALUE, FLAG }

    /**
     * One setting: its key (the properties-file key and, with "--", the flag), its default as text
     * (empty: unset), and its help. Adding a setting is one line here: the flag, the file key, the
     * help text and docs/configuration.md's check all come from it.
     */
    public record Setting(String key, String defaultValue, Kind kind, String help) {
        public String flag() {
            return "--" + key;
        }
    }

    /** Every setting of {@code serve}, in the order of the docs. */
    public static final List<Setting> SETTINGS = List.of(
        new Setting("port", "9400", Kind.VALUE, "TCP port to listen on (0 picks a free port)"),
        new Setting("bind", "127.0.0.1", Kind.VALUE, "address to listen on; 0.0.0.0 exposes the monitor to the network"),
        new Setting("window", "sliding", Kind.VALUE, "sliding | cumulative | decay"),
        new Setting("window-size", "0", Kind.VALUE, "sliding window length, or decay half-life, in samples (0: 16 samples per unit of the layer)"),
        new Setting("min-samples", "0", Kind.VALUE, "a spectrum is mature (current, history, metrics, alerts) from this many window samples (0: 10 per unit)"),
        new Setting("include-open", "false", Kind.FLAG, "sliding: the window includes the pane being filled (fresher, its last pane partial)"),
        new Setting("refresh-samples", "0", Kind.VALUE, "recompute a layer's spectrum after this many new samples (0: off)"),
        new Setting("refresh-seconds", "10", Kind.VALUE, "recompute at least this often when a layer has new samples (0: off)"),
        new Setting("fit-range", "", Kind.VALUE, "fixed fit window LO:HI (default: [11, min(500, K-2)], or [2, K-2] when K < 50)"),
        new Setting("ci-groups", "8", Kind.VALUE, "panes of the sliding window, or interleaved row groups of the others: the alpha interval's jackknife groups (1: none); each is a d x d accumulator"),
        new Setting("queue-batches", "256", Kind.VALUE, "admitted batches not yet applied, all layers together; beyond: 429"),
        new Setting("queue-bytes", "256MB", Kind.VALUE, "bytes of such batches; beyond: 429"),
        new Setting("max-body-bytes", "64MB", Kind.VALUE, "largest request body; beyond: 413 (not read into memory)"),
        new Setting("body-memory", "256MB", Kind.VALUE, "memory for request bodies being received and decoded, all requests together; beyond: 429 (retry)"),
        new Setting("memory-budget", "", Kind.VALUE, "accumulator memory for all layers (default: half the heap); beyond: 507"),
        new Setting("max-runs", "64", Kind.VALUE, "runs held at once"),
        new Setting("max-layers-per-run", "256", Kind.VALUE, "layers per run"),
        new Setting("max-dims", "8192", Kind.VALUE, "units per layer"),
        new Setting("history-size", "1000", Kind.VALUE, "refreshes kept per layer for the history endpoint"),
        new Setting("input-dim", "0", Kind.VALUE, "input manifold dimension d for the smoothness margin alpha - (1 + 2/d) (0: unknown)"),
        new Setting("bits", "8", Kind.VALUE, "bits per unit for the capacity and redundancy bounds"),
        new Setting("top-k", "0", Kind.VALUE, "compute only the K largest eigenvalues of wider layers (e.g. 502 for d >= 4096; 0: all)"),
        new Setting("token-file", "", Kind.VALUE, "file holding the bearer token for ingest and DELETE (or set ALPHAWATCH_TOKEN)"),
        new Setting("auth-reads", "false", Kind.FLAG, "require the token for queries, events and /metrics too"),
        new Setting("durability", "none", Kind.VALUE, "none | checkpoint | wal (docs/durability.md)"),
        new Setting("state-dir", "alphawatch-state", Kind.VALUE, "directory for checkpoints and the write-ahead log"),
        new Setting("checkpoint-seconds", "60", Kind.VALUE, "interval between checkpoints (the most a crash loses with durability = checkpoint)"),
        new Setting("recover", "false", Kind.FLAG, "start even when saved state is damaged: skip exactly the damaged log bytes or unusable checkpoints and report the loss (default: refuse to start, naming the file)"),
        new Setting("kafka", "", Kind.VALUE, "scale-out: Kafka bootstrap HOST:PORT[,...]; ingest publishes to Kafka, workers own partitions (docs/scale-out.md)"),
        new Setting("role", "all", Kind.VALUE, "with kafka: ingest (HTTP into Kafka), worker (owns partitions of layers) or all (both)"),
        new Setting("kafka-topic", "alphawatch.batches", Kind.VALUE, "with kafka: the batch topic (the owners topic is its name + .owners)"),
        new Setting("kafka-partitions", "16", Kind.VALUE, "with kafka: partitions of the batch topic when it is created (many more than workers)"),
        new Setting("kafka-group", "alphawatch", Kind.VALUE, "with kafka: the workers' consumer group"),
        new Setting("advertise-url", "", Kind.VALUE, "with kafka: the URL other nodes reach this one at (default: its listening URL)"),
        new Setting("kafka-max-lag", "1000", Kind.VALUE, "with kafka: records the workers may be behind in a partition before ingest answers 429 for its layers (0: no limit)"),
        new Setting("tls-cert", "", Kind.VALUE, "PEM certificate chain: serve HTTPS (with tls-key)"),
        new Setting("tls-key", "", Kind.VALUE, "PEM private key (PKCS#8) for tls-cert"),
        new Setting("read-timeout-seconds", "10", Kind.VALUE, "longest pause while reading a request (408 for a stalled body), and the longest a connection may sit idle or with an unfinished request line and headers; a whole request must arrive within 10x this"),
        new Setting("alert-warmup", "8", Kind.VALUE, "a layer's first mature snapshots never tested: this many, or this many eighths of a window of data, whichever comes first"),
        new Setting("alert-shift-sigmas", "5", Kind.VALUE, "evidence that raises a shift alert: noise standard deviations beyond the allowance, accumulated over a window of data (docs/alerting.md)"),
        new Setting("alert-min-shift", "0.1", Kind.VALUE, "smallest alpha shift that counts as evidence, whatever the noise"),
        new Setting("alert-confirm", "2", Kind.VALUE, "consecutive snapshots that must agree before a collapse or rank-drop alert"),
        new Setting("alert-collapse-fraction", "0.5", Kind.VALUE, "effective rank below this fraction of the previous window's is a collapse"),
        new Setting("alert-rank-drop-fraction", "0.1", Kind.VALUE, "numerical rank below (1 - this) of the previous window's is a rank drop"),
        new Setting("alert-stale-seconds", "300", Kind.VALUE, "a layer without batches for this long is stale (0: off)"),
        new Setting("alert-surge-per-minute", "100", Kind.VALUE, "refusals within a minute that raise a surge alert (0: off)"),
        new Setting("alert-webhook", "", Kind.VALUE, "URL that receives every alert as a JSON POST"));

    public static final String TOKEN_ENV = "ALPHAWATCH_TOKEN";

    private final Map<String, String> values = new LinkedHashMap<>();

    private ServeSettings() {
        for (Setting k : SETTINGS) {
            values.put(k.key(), k.defaultValue());
        }
    }

    public static ServeSettings defaults() {
        return new ServeSettings();
    }

    /** Overlays a properties file; unknown keys are errors. */
    public ServeSettings file(Path path) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new UserInputException("config file " + path + ": " + e.getMessage());
        }
        for (String key : p.stringPropertyNames()) {
            if (!values.containsKey(key)) {
                throw new UserInputException("config file " + path + ": unknown key '" + key + "' (known: "
                        + String.join(", ", values.keySet()) + ")");
            }
            values.put(key, p.getProperty(key).trim());
        }
        return this;
    }

    /** Overlays one value (a command-line flag); null leaves the current value. */
    public ServeSettings set(String key, Object value) {
        if (!values.containsKey(key)) {
            throw new IllegalArgumentException("unknown setting " + key);
        }
        if (value != null) {
            values.put(key, value.toString());
        }
        return this;
    }

    public String get(String key) {
        return values.get(key);
    }

    public ServerConfig build(Map<String, String> env) {
        try {
            long heap = Runtime.getRuntime().maxMemory();
            String budget = values.get("memory-budget");
            MonitorConfig monitor = MonitorConfig.builder().window(WindowMode.parse(values.get("window")))
                    .windowSamples(longValue("window-size")).minSamples(longValue("min-samples"))
                    .includeOpen(boolValue("include-open")).ciGroups(intValue("ci-groups"))
                    .refreshSamples(longValue("refresh-samples"))
                    .refreshInterval(Duration.ofMillis(Math.round(1000 * doubleValue("refresh-seconds"))))
                    .fitWindow(values.get("fit-range").isEmpty() ? null : FitWindow.parse(values.get("fit-range")))
                    .queueBatches(intValue("queue-batches")).queueBytes(bytes("queue-bytes"))
                    .maxBodyBytes(bytes("max-body-bytes"))
                    .memoryBudgetBytes(budget.isEmpty() ? Math.max(1L << 20, heap / 2) : bytes("memory-budget"))
                    .maxRuns(intValue("max-runs")).maxLayersPerRun(intValue("max-layers-per-run"))
                    .maxDims(intValue("max-dims")).historySize(intValue("history-size")).inputDim(intValue("input-dim"))
                    .bits(doubleValue("bits")).topK(intValue("top-k")).build();
            AlertConfig alerts = new AlertConfig(intValue("alert-warmup"), doubleValue("alert-shift-sigmas"),
                    doubleValue("alert-min-shift"), intValue("alert-confirm"), doubleValue("alert-collapse-fraction"),
                    doubleValue("alert-rank-drop-fraction"), Duration.ofSeconds(longValue("alert-stale-seconds")),
                    intValue("alert-surge-per-minute"));
            return new ServerConfig(values.get("bind"), intValue("port"), token(env), boolValue("auth-reads"), monitor)
                    .withAlerts(alerts, webhook())
                    .withTls(path("tls-cert"), path("tls-key"))
                    .withDurability(new DurabilitySettings(Durability.Mode.parse(values.get("durability")),
                            Path.of(raw("state-dir")), Duration.ofMillis(Math.round(1000 * doubleValue("checkpoint-seconds"))),
                            boolValue("recover")))
                    .withReadTimeout(Duration.ofMillis(Math.round(1000 * doubleValue("read-timeout-seconds"))))
                    .withBodyMemory(bytes("body-memory"))
                    .withScale(scale());
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage());
        }
    }

    private Optional<ScaleSettings> scale() {
        String bootstrap = values.get("kafka");
        if (bootstrap.isEmpty()) {
            return Optional.empty();
        }
        String advertise = values.get("advertise-url");
        return Optional.of(new ScaleSettings(bootstrap, ScaleSettings.Role.parse(values.get("role")),
                values.get("kafka-topic"), intValue("kafka-partitions"), values.get("kafka-group"),
                advertise.isEmpty() ? Optional.empty() : Optional.of(advertise), longValue("kafka-max-lag")));
    }

    private Optional<Path> path(String key) {
        String v = values.get(key);
        return v.isEmpty() ? Optional.empty() : Optional.of(Path.of(v));
    }

    private Optional<URI> webhook() {
        String v = values.get("alert-webhook");
        if (v.isEmpty()) {
            return Optional.empty();
        }
        try {
            URI u = new URI(v);
            if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
                throw new URISyntaxException(v, "not an http(s) URL with a host");
            }
            return Optional.of(u);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("alert-webhook '" + v + "': " + e.getReason());
        }
    }

    private Optional<byte[]> token(Map<String, String> env) {
        String file = values.get("token-file");
        String fromEnv = env.get(TOKEN_ENV);
        if (!file.isEmpty() && fromEnv != null) {
            throw new UserInputException("both " + TOKEN_ENV + " and token-file are set; choose one");
        }
        if (fromEnv != null && fromEnv.isBlank()) {
            throw new UserInputException(TOKEN_ENV + " is set but empty: unset it to run without a token, or set a token "
                    + "of at least 16 characters (an empty one would silently turn authentication off)");
        }
        String token = null;
        if (!file.isEmpty()) {
            try {
                token = Files.readString(Path.of(file), StandardCharsets.UTF_8).trim();
            } catch (IOException e) {
                throw new UserInputException("token-file " + file + ": cannot read (" + e.getMessage() + ")");
            }
        } else if (fromEnv != null && !fromEnv.isEmpty()) {
            token = fromEnv.trim();
        }
        if (token == null) {
            return Optional.empty();
        }
        if (token.length() < 16) {
            throw new UserInputException("the bearer token has " + token.length()
                    + " characters; use at least 16 (e.g. openssl rand -hex 16)");
        }
        return Optional.of(token.getBytes(StandardCharsets.UTF_8));
    }

    private String raw(String key) {
        String v = values.get(key);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException(key + " needs a value");
        }
        return v;
    }

    private long longValue(String key) {
        try {
            return Long.parseLong(raw(key));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " '" + values.get(key) + "' is not an integer");
        }
    }

    private int intValue(String key) {
        long v = longValue(key);
        if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
            throw new IllegalArgumentException(key + " " + v + " is out of range");
        }
        return (int) v;
    }

    private double doubleValue(String key) {
        try {
            double v = Double.parseDouble(raw(key));
            if (!Double.isFinite(v)) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " '" + values.get(key) + "' is not a number");
        }
    }

    private boolean boolValue(String key) {
        String v = raw(key).toLowerCase(Locale.ROOT);
        if (v.equals("true") || v.equals("false")) {
            return Boolean.parseBoolean(v);
        }
        throw new IllegalArgumentException(key + " '" + v + "' is not true or false");
    }

    /** Bytes with an optional KB/MB/GB suffix (powers of 1024). */
    private long bytes(String key) {
        String v = raw(key).toUpperCase(Locale.ROOT).replace(" ", "");
        long unit = 1;
        for (String[] s : new String[][] {{"GB", "1073741824"}, {"MB", "1048576"}, {"KB", "1024"}, {"G", "1073741824"},
            {"M", "1048576"}, {"K", "1024"}, {"B", "1"}}) {
            if (v.endsWith(s[0])) {
                unit = Long.parseLong(s[1]);
                v = v.substring(0, v.length() - s[0].length());
                break;
            }
        }
        try {
            long n = Long.parseLong(v);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(n, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException(key + " '" + values.get(key) + "' is not a byte size (e.g. 512MB)");
        }
    }
}
