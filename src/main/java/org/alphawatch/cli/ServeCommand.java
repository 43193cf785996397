package org.alphawatch.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.alphawatch.core.spectrum.EigenSolver;
import org.alphawatch.server.MonitorService;
import org.alphawatch.server.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code alphawatch serve}: the monitor as a long-running HTTP service. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the monitor: ingest .npy activation batches over HTTP, serve spectra, events and /metrics.",
            "Settings come from --config FILE (properties) and are overridden by flags of the same name;",
            "the bearer token comes from $ALPHAWATCH_TOKEN or --token-file, never from the command line.",
            "See docs/configuration.md."})
public final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "properties file with settings")
    Path config;
    @Option(names = "--port", paramLabel = "N", description = "TCP port (default 9400)")
    Integer port;
    @Option(names = "--bind", paramLabel = "ADDR", description = "listen address (default 127.0.0.1)")
    String bind;
    @Option(names = "--window", paramLabel = "MODE", description = "sliding (default), cumulative or decay")
    String window;
    @Option(names = "--window-size", paramLabel = "N",
            description = "sliding window length or decay half-life in samples (default 0: 16 per unit)")
    Long windowSize;
    @Option(names = "--min-samples", paramLabel = "N",
            description = "window samples before a spectrum is mature (default 0: 10 per unit)")
    Long minSamples;
    @Option(names = "--include-open", description = "sliding: include the pane being filled")
    Boolean includeOpen;
    @Option(names = "--refresh-samples", paramLabel = "N", description = "refresh after N new samples (default 0: off)")
    Long refreshSamples;
    @Option(names = "--refresh-seconds", paramLabel = "S", description = "refresh at least every S seconds (default 10)")
    Double refreshSeconds;
    @Option(names = "--fit-range", paramLabel = "LO:HI", description = "fixed fit window")
    String fitRange;
    @Option(names = "--ci-groups", paramLabel = "G", description = "panes or jackknife groups (default 8)")
    Integer ciGroups;
    @Option(names = "--queue-batches", paramLabel = "N", description = "queued batch limit (default 256)")
    Integer queueBatches;
    @Option(names = "--queue-bytes", paramLabel = "SIZE", description = "queued bytes limit (default 256MB)")
    String queueBytes;
    @Option(names = "--max-body-bytes", paramLabel = "SIZE", description = "largest request body (default 64MB)")
    String maxBodyBytes;
    @Option(names = "--body-memory", paramLabel = "SIZE", description = "memory for bodies in flight (default 256MB)")
    String bodyMemory;
    @Option(names = "--memory-budget", paramLabel = "SIZE", description = "accumulator memory (default half the heap)")
    String memoryBudget;
    @Option(names = "--max-runs", paramLabel = "N", description = "default 64")
    Integer maxRuns;
    @Option(names = "--max-layers-per-run", paramLabel = "N", description = "default 256")
    Integer maxLayersPerRun;
    @Option(names = "--max-dims", paramLabel = "N", description = "default 8192")
    Integer maxDims;
    @Option(names = "--history-size", paramLabel = "N", description = "default 1000")
    Integer historySize;
    @Option(names = "--input-dim", paramLabel = "d", description = "input manifold dimension (smoothness margin)")
    Integer inputDim;
    @Option(names = "--bits", paramLabel = "b", description = "bits per unit for capacity (default 8)")
    Double bits;
    @Option(names = "--top-k", paramLabel = "K", description = "only the K largest eigenvalues of wider layers (0: all)")
    Integer topK;
    @Option(names = "--token-file", paramLabel = "FILE", description = "file with the bearer token")
    Path tokenFile;
    @Option(names = "--auth-reads", description = "require the token for reads too")
    Boolean authReads;
    @Option(names = "--durability", paramLabel = "MODE", description = "none (default), checkpoint or wal")
    String durability;
    @Option(names = "--state-dir", paramLabel = "DIR", description = "checkpoints and write-ahead log (default alphawatch-state)")
    Path stateDir;
    @Option(names = "--checkpoint-seconds", paramLabel = "S", description = "default 60")
    Double checkpointSeconds;
    @Option(names = "--recover", description = "start although saved state is damaged, skipping exactly the damage and "
            + "reporting the loss (default: refuse to start)")
    Boolean recover;
    @Option(names = "--kafka", paramLabel = "HOST:PORT", description = "scale-out: publish to and consume from Kafka (docs/scale-out.md)")
    String kafka;
    @Option(names = "--role", paramLabel = "ROLE", description = "with --kafka: ingest, worker or all (default)")
    String role;
    @Option(names = "--kafka-topic", paramLabel = "NAME", description = "default alphawatch.batches")
    String kafkaTopic;
    @Option(names = "--kafka-partitions", paramLabel = "N", description = "default 16")
    Integer kafkaPartitions;
    @Option(names = "--kafka-group", paramLabel = "NAME", description = "default alphawatch")
    String kafkaGroup;
    @Option(names = "--advertise-url", paramLabel = "URL", description = "with --kafka: this node's URL for the others")
    String advertiseUrl;
    @Option(names = "--tls-cert", paramLabel = "PEM", description = "certificate chain: serve HTTPS")
    Path tlsCert;
    @Option(names = "--tls-key", paramLabel = "PEM", description = "private key (PKCS#8) for --tls-cert")
    Path tlsKey;
    @Option(names = "--read-timeout-seconds", paramLabel = "S", description = "default 10")
    Double readTimeoutSeconds;
    @Option(names = "--alert-warmup", paramLabel = "N", description = "default 8")
    Integer alertWarmup;
    @Option(names = "--alert-shift-sigmas", paramLabel = "Z", description = "default 5")
    Double alertShiftSigmas;
    @Option(names = "--alert-min-shift", paramLabel = "A", description = "default 0.1")
    Double alertMinShift;
    @Option(names = "--alert-confirm", paramLabel = "N", description = "default 2")
    Integer alertConfirm;
    @Option(names = "--alert-rank-drop-fraction", paramLabel = "F", description = "default 0.1")
    Double alertRankDropFraction;
    @Option(names = "--alert-collapse-fraction", paramLabel = "F", description = "default 0.5")
    Double alertCollapseFraction;
    @Option(names = "--alert-stale-seconds", paramLabel = "S", description = "default 300")
    Long alertStaleSeconds;
    @Option(names = "--alert-surge-per-minute", paramLabel = "N", description = "default 100")
    Integer alertSurgePerMinute;
    @Option(names = "--alert-webhook", paramLabel = "URL", description = "POST every alert as JSON to URL")
    String alertWebhook;

    private final EigenSolver solver;

    public ServeCommand(EigenSolver solver) {
        this.solver = solver;
    }

    ServerConfig settings() {
        ServeSettings s = ServeSettings.defaults();
        if (config != null) {
            s.file(config);
        }
        s.set("port", port).set("bind", bind).set("window", window).set("window-size", windowSize)
                .set("min-samples", minSamples).set("include-open", includeOpen)
                .set("refresh-samples", refreshSamples).set("refresh-seconds", refreshSeconds)
                .set("fit-range", fitRange).set("ci-groups", ciGroups).set("queue-batches", queueBatches)
                .set("queue-bytes", queueBytes).set("max-body-bytes", maxBodyBytes).set("body-memory", bodyMemory).set("memory-budget", memoryBudget)
                .set("max-runs", maxRuns).set("max-layers-per-run", maxLayersPerRun).set("max-dims", maxDims)
                .set("history-size", historySize).set("input-dim", inputDim).set("bits", bits).set("top-k", topK)
                .set("token-file", tokenFile).set("auth-reads", authReads).set("alert-warmup", alertWarmup)
                .set("alert-shift-sigmas", alertShiftSigmas)
                .set("alert-min-shift", alertMinShift).set("alert-confirm", alertConfirm)
                .set("alert-rank-drop-fraction", alertRankDropFraction).set("alert-collapse-fraction", alertCollapseFraction)
                .set("alert-stale-seconds", alertStaleSeconds).set("alert-surge-per-minute", alertSurgePerMinute)
                .set("alert-webhook", alertWebhook).set("tls-cert", tlsCert).set("tls-key", tlsKey)
                .set("read-timeout-seconds", readTimeoutSeconds).set("durability", durability).set("state-dir", stateDir)
                .set("checkpoint-seconds", checkpointSeconds).set("recover", recover).set("kafka", kafka)
                .set("role", role).set("kafka-topic", kafkaTopic).set("kafka-partitions", kafkaPartitions)
                .set("kafka-group", kafkaGroup).set("advertise-url", advertiseUrl);
        return s.build(System.getenv());
    }

    @Override
    public Integer call() throws InterruptedException {
        ServerConfig cfg = settings();
        MonitorService service;
        try {
            service = MonitorService.create(cfg, solver).start();
        } catch (RuntimeException e) {
            throw new UserInputException("cannot start on " + cfg.bind() + ":" + cfg.port() + ": " + e.getMessage());
        }
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            service.close();
            stop.countDown();
        }, "alphawatch-shutdown"));
        var out = spec.commandLine().getOut();
        out.printf("alphawatch serving on %s (window %s %s, token %s, durability %s)%n", service.server().baseUrl(),
                cfg.monitor().window().label(), cfg.monitor().windowSamples() == 0 ? "sized per layer"
                        : cfg.monitor().windowSamples() + " samples",
                cfg.token().isPresent() ? "required for writes" + (cfg.authReads() ? " and reads" : "") : "off",
                cfg.scale().map(k -> "kafka " + k.bootstrap() + " as " + k.role().label() + ", partitions in "
                        + cfg.durability().dir().resolve("partitions")).orElse(cfg.durability().mode().label()
                        + (cfg.durability().mode() == org.alphawatch.durability.Durability.Mode.NONE ? ""
                        : " in " + cfg.durability().dir())));
        out.printf("  POST %s/v1/runs/RUN/layers/LAYER/batches?step=N  (body: 2-D .npy)%n", service.server().baseUrl());
        out.printf("  GET  %s/metrics, /v1/runs, /v1/events%n", service.server().baseUrl());
        out.flush();
        stop.await();
        return ExitCodes.OK;
    }
}
