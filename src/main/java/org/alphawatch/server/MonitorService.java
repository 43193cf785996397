package org.alphawatch.server;

import java.time.Duration;
import org.alphawatch.alert.AlertEngine;
import org.alphawatch.alert.AlertService;
import org.alphawatch.alert.WebhookSender;
import org.alphawatch.core.linalg.LinearAlgebra;
import org.alphawatch.durability.Durability;
import org.alphawatch.core.spectrum.EigenSolver;
import org.alphawatch.metrics.MonitorMetrics;
import org.alphawatch.pipeline.Monitor;
import org.alphawatch.pipeline.MonitorObserver;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Everything {@code serve} and {@code demo} run: the schedulers, the monitor, its metrics, the
 * alert detector and the HTTP server, started and stopped together.
 */
public final class MonitorService implements AutoCloseable {
    /** How often stale layers are looked for. */
    static final Duration ALERT_TICK = Duration.ofSeconds(10);

    private final Scheduler ingest;
    private final Scheduler compute;
    private final Scheduler timer;
    private final Monitor monitor;
    private final MonitorMetrics metrics;
    private final AlertService alerts;
    /** What the server is made of, until start() builds it (scale-out adds its parts there). */
    private final AlphawatchServer.Builder serverParts;
    private volatile AlphawatchServer server;
    private final Durability durability;
    private final ServerConfig config;
    private Durability.Recovery recovery;
    /** Scale-out (org.alphawatch.scale.ScaleOut) when Kafka is configured; typed Object so that nothing
     *  of Kafka is loaded otherwise. */
    private AutoCloseable scaleOut;

    private MonitorService(ServerConfig config, EigenSolver solver) {
        this.config = config;
        int cores = Runtime.getRuntime().availableProcessors();
        // Parallelism comes from layers (one ingest worker per core), not from inside BLAS calls.
        LinearAlgebra.setNativeThreads(1);
        ingest = Schedulers.newParallel("alphawatch-ingest", cores, true);
        compute = Schedulers.newParallel("alphawatch-compute", Math.max(1, cores), true);
        timer = Schedulers.newSingle("alphawatch-timer", true);
        metrics = new MonitorMetrics();
        WebhookSender webhook = config.webhook().map(u -> new WebhookSender(u, WebhookSender.DEFAULT_CAPACITY,
                WebhookSender.DEFAULT_BASE_DELAY_MILLIS)).orElse(null);
        alerts = new AlertService(new AlertEngine(config.alerts(), config.monitor().inputDim()), metrics, webhook);
        monitor = new Monitor(config.monitor(), solver, MonitorObserver.both(metrics, alerts), ingest, compute, timer);
        metrics.bind(monitor);
        alerts.attach(monitor, timer, ALERT_TICK);
        durability = new Durability(config.durability(), monitor);
        metrics.bindDurability(durability.health());
        serverParts = AlphawatchServer.builder(config, monitor, metrics, solver.name()).route(new AlertRoutes(alerts))
                .route(new PageRoutes()).durability(durability.health())
                .events(alerts.alerts().map(a -> AlphawatchServer.sseEvent("alert", org.alphawatch.alert.AlertJson.toMap(a))));
    }

    public static MonitorService create(ServerConfig config, EigenSolver solver) {
        return new MonitorService(config, solver);
    }

    /** Recovers durable state (if configured), then starts checkpoints and the HTTP server. */
    public MonitorService start() {
        try {
            recovery = durability.recover();
        } catch (Exception e) {
            durability.close(); // releases the directory; writes nothing (recovery did not complete)
            throw new IllegalStateException("recovery from " + durability.mode().label() + " state failed: "
                    + e.getMessage(), e);
        }
        durability.start();
        if (config.scale().isPresent()) {
            ScaleOutWiring.connect(this, config, serverParts);
        }
        server = serverParts.build();
        server.start();
        if (scaleOut != null) {
            ScaleOutWiring.start(scaleOut);
        }
        return this;
    }

    public Durability durability() {
        return durability;
    }

    public Durability.Recovery recovery() {
        return recovery;
    }

    public Monitor monitor() {
        return monitor;
    }

    public MonitorMetrics metrics() {
        return metrics;
    }

    public AlertService alerts() {
        return alerts;
    }

    public AlphawatchServer server() {
        return server;
    }

    void attachScaleOut(AutoCloseable s) {
        this.scaleOut = s;
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
        if (scaleOut != null) {
            try {
                scaleOut.close(); // a clean stop: workers checkpoint and hand their partitions over
            } catch (Exception e) { // AutoCloseable's signature: ScaleOut itself throws nothing checked
                org.slf4j.LoggerFactory.getLogger(MonitorService.class).warn("stopping scale-out: {}", e.toString());
            }
        }
        try {
            monitor.awaitIdle(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        durability.close();
        alerts.close();
        monitor.close();
        ingest.dispose();
        compute.dispose();
        timer.dispose();
    }
}
