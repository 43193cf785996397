package org.alphawatch.alert;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.alphawatch.metrics.MonitorMetrics;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.pipeline.LayerSnapshot;
import org.alphawatch.pipeline.Monitor;
import org.alphawatch.pipeline.MonitorObserver;
import org.alphawatch.pipeline.RejectReason;
import org.alphawatch.pipeline.Removal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Runs the {@link AlertEngine} on the monitor's snapshot stream (on its own thread, never on
 * ingest) and on a timer for stale layers, and fans alerts out to the recent list ({@code GET
 * /v1/alerts}), the event stream, {@code alphawatch_alerts_total} and an optional webhook.
 */
public final class AlertService implements MonitorObserver, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AlertService.class);
    public static final int RECENT = 500;

    private final AlertEngine engine;
    private final MonitorMetrics metrics;
    private final WebhookSender webhook;
    private final Sinks.Many<Alert> stream = Sinks.many().multicast().directBestEffort();
    private final ArrayDeque<Alert> recent = new ArrayDeque<>();
    private final Scheduler worker = Schedulers.newSingle("alphawatch-alerts", true);
    private Monitor monitor;
    private Disposable snapshots;
    private Disposable ticks;

    public AlertService(AlertEngine engine, MonitorMetrics metrics, WebhookSender webhook) {
        this.engine = engine;
        this.metrics = metrics;
        this.webhook = webhook;
    }

    /** An alert service of its own, counting alerts in metrics nobody scrapes (in-process monitors without a server). */
    public static AlertService standalone(AlertEngine engine) {
        return new AlertService(engine, new MonitorMetrics(), null);
    }

    /** Starts watching; {@code timer} drives the stale check every {@code tickEvery}. */
    public AlertService attach(Monitor monitor, Scheduler timer, Duration tickEvery) {
        this.monitor = monitor;
        snapshots = monitor.snapshots().publishOn(worker).subscribe(this::onSnapshot,
                e -> LOG.error("alert stream failed: {}", e.toString()));
        ticks = Flux.interval(tickEvery, tickEvery, timer).subscribe(
                t -> publish(engine.tick(monitor.nowMillis(), monitor.lastAppliedMillis())));
        return this;
    }

    public AlertEngine engine() {
        return engine;
    }

    private void onSnapshot(LayerSnapshot s) {
        publish(engine.onSnapshot(s.key(), observation(s)));
    }

    /** What the detector reads of a snapshot. */
    public static AlertEngine.Observation observation(LayerSnapshot s) {
        var ci = s.report().alphaInterval();
        return new AlertEngine.Observation(s.step(), s.refreshedAtMillis(), s.windowFirst(), s.windowEnd(),
                s.report().alpha(), ci == null ? Double.NaN : ci.standardError(), s.report().metrics().effectiveRank(),
                s.report().spectrum().numericalRank(), s.report().change());
    }

    @Override
    public void rejected(RejectReason reason) {
        if (monitor != null) {
            publish(engine.onRejected(monitor.nowMillis()));
        }
    }

    /** Only a deleted run's detector state and thresholds go: a released layer (rebalance) or one that never held data keeps its run's. */
    @Override
    public void layerRemoved(LayerKey key, Removal why) {
        if (why == Removal.DELETED) {
            engine.forget(key.run());
        }
    }

    private void publish(List<Alert> alerts) {
        for (Alert a : alerts) {
            LOG.warn("alert {}: {}", a.kind().label(), a.message());
            synchronized (recent) {
                recent.addLast(a);
                while (recent.size() > RECENT) {
                    recent.removeFirst();
                }
            }
            if (!Alert.ALL.equals(a.run())) {
                metrics.alert(new LayerKey(a.run(), a.layer()), a.kind().label());
            } else {
                metrics.alert(null, a.kind().label());
            }
            if (webhook != null) {
                webhook.offer(a);
            }
            synchronized (stream) { // alerts come from the detector thread, the timer and I/O threads
                stream.tryEmitNext(a);
            }
        }
    }

    /** The most recent alerts, oldest first (at most {@value #RECENT}). */
    public List<Alert> recent() {
        synchronized (recent) {
            return new ArrayList<>(recent);
        }
    }

    public Flux<Alert> alerts() {
        return stream.asFlux();
    }

    @Override
    public void close() {
        if (snapshots != null) {
            snapshots.dispose();
        }
        if (ticks != null) {
            ticks.dispose();
        }
        if (webhook != null) {
            webhook.close();
        }
        worker.dispose();
    }
}
