package org.alphawatch.server;

import java.time.Duration;
import org.alphawatch.core.spectrum.EigenSolver;
import org.alphawatch.metrics.MonitorMetrics;
import org.alphawatch.pipeline.Monitor;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Everything {@code serve} and {@code demo} run: the schedulers, the monitor, its metrics and the
 * HTTP server, started and stopped together.
 */
public final class MonitorService implements AutoCloseable {
    private final Scheduler ingest;
    private final Scheduler compute;
    private final Scheduler timer;
    private final Monitor monitor;
    private final MonitorMetrics metrics;
    private final AlphawatchServer server;

    private MonitorService(ServerConfig config, EigenSolver solver) {
        int cores = Runtime.getRuntime().availableProcessors();
        ingest = Schedulers.newParallel("alphawatch-ingest", cores, true);
        compute = Schedulers.newParallel("alphawatch-compute", Math.max(1, cores), true);
        timer = Schedulers.newSingle("alphawatch-timer", true);
        metrics = new MonitorMetrics();
        monitor = new Monitor(config.monitor(), solver, metrics, ingest, compute, timer);
        metrics.bind(monitor);
        server = new AlphawatchServer(config, monitor, metrics, solver.name());
    }

    public static MonitorService create(ServerConfig config, EigenSolver solver) {
        return new MonitorService(config, solver);
    }

    public MonitorService start() {
        server.start();
        return this;
    }

    public Monitor monitor() {
        return monitor;
    }

    public MonitorMetrics metrics() {
        return metrics;
    }

    public AlphawatchServer server() {
        return server;
    }

    @Override
    public void close() {
        server.close();
        try {
            monitor.awaitIdle(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        monitor.close();
        ingest.dispose();
        compute.dispose();
        timer.dispose();
    }
}
