package org.alphawatch.pipeline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.alphawatch.core.analysis.AnalysisOptions;
import org.alphawatch.core.spectrum.EigenSolver;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.core.window.WindowSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * The streaming monitor (DESIGN.md 1 and 4): per (run, layer) a window of exact co-moments, refreshed
 * into spectra on the compute threads, shared fairly ({@link RefreshScheduler}); mature snapshots
 * flow to {@link #snapshots()} and the observer. Data comes in through two ports over one private
 * layer table:
 *
 * <ul>
 * <li>{@link #ingest()}: every live door (HTTP, in-process streams, scale-out workers) offers
 * batches and deletes runs; each batch is validated, checked against the layer and the limits,
 * de-duplicated, numbered, made durable by the {@link BatchLog} when there is one, and applied by
 * its layer's single writer ({@link LayerMonitor}). A refused batch changes nothing.</li>
 * <li>{@link #recovery()}: durability and scale-out restore what was admitted before (checkpoints,
 * the write-ahead log), capture layers for checkpoints, and release layers another node takes.</li>
 * </ul>
 *
 * <p>Deleting a run is ordered with ingest by sequence number: batches admitted before the delete
 * are applied to the old layers (then removed), batches after it start new ones, and recovery
 * replays exactly that order. With a log, the delete answers once its record is durable and the run
 * refuses new batches (429) for that short time. Thread-safe.
 */
public final class Monitor implements AutoCloseable {
    /** A run's layer as listed by the API. */
    public record LayerInfo(String layer, int dims, long totalSamples, long lastStep, long refreshes, boolean mature,
                            boolean ended) {}

    /**
     * What the query side knows of a layer: its current snapshot (null before the first refresh),
     * samples seen, the maturity threshold, and the last refresh failure after that snapshot.
     */
    public record LayerStatus(LayerSnapshot current, long totalSamples, long minSamples, String refreshError,
                              long refreshFailures, Map<String, Long> sources, boolean restoring) {}

    private final MonitorConfig config;
    private final MonitorObserver observer;
    private final Scheduler clock;
    private final LayerTable table;
    private final IngestPort ingest;
    private final RecoveryPort recovery;
    private final Sinks.Many<LayerSnapshot> snapshots = Sinks.many().multicast().directBestEffort();
    private final Disposable timer;

    /**
     * @param ingest  runs the layers' writers (e.g. a parallel scheduler)
     * @param compute runs refreshes (eigen-decompositions)
     * @param timer   drives time-based refresh; a virtual-time scheduler in tests
     */
    public Monitor(MonitorConfig config, EigenSolver solver, MonitorObserver observer, Scheduler ingest,
                   Scheduler compute, Scheduler timer) {
        this(config, solver, observer, ingest, compute, timer, Runtime.getRuntime().availableProcessors());
    }

    public Monitor(MonitorConfig config, EigenSolver solver, MonitorObserver observer, Scheduler ingest,
                   Scheduler compute, Scheduler timer, int computeThreads) {
        this.config = config;
        this.observer = observer;
        this.clock = timer;
        AnalysisOptions options = new AnalysisOptions(config.fitWindow(), config.inputDim(), config.bits(), Double.NaN,
                solver, config.topK());
        RefreshScheduler refresher = new RefreshScheduler(compute, computeThreads);
        this.table = new LayerTable(config, observer, t -> new LayerContext(config, options, refresher, ingest,
                observer, this::publish, () -> clock.now(TimeUnit.MILLISECONDS), t::dropIfUnused));
        this.ingest = new IngestPort(table, observer);
        this.recovery = new RecoveryPort(table, config);
        Duration every = config.refreshInterval();
        this.timer = every.isZero() ? null : Flux.interval(every, every, timer).subscribe(t -> refreshAll());
    }

    public MonitorConfig config() {
        return config;
    }

    /** Where live doors offer batches and delete runs. */
    public IngestPort ingest() {
        return ingest;
    }

    /** Where durability and scale-out restore, replay, capture and release layers. */
    public RecoveryPort recovery() {
        return recovery;
    }

    // ---- queries --------------------------------------------------------------------------------

    private LayerMonitor visible(LayerKey key) {
        LayerMonitor m = table.registry().get(key);
        return m != null && m.visible() ? m : null;
    }

    /** {@link org.alphawatch.core.window.WindowSpec#maxPartialSamples()} of a layer's window, or of the window a new layer of {@code dims} gets. */
    public long maxPartialSamples(LayerKey key, int dims) {
        LayerMonitor m = table.registry().get(key);
        return (m != null ? m.windowSpec() : config.windowSpec(dims)).maxPartialSamples();
    }

    /**
     * A layer's window length (samples; its half-life for decay, 0 for cumulative) and maturity
     * threshold, as the layer has them; empty when there is no such layer here.
     */
    public Optional<LayerOptions> layerWindow(LayerKey key) {
        LayerMonitor m = table.registry().get(key);
        if (m == null) {
            return Optional.empty();
        }
        WindowSpec spec = m.windowSpec();
        return Optional.of(new LayerOptions(spec.mode() == WindowMode.CUMULATIVE ? 0 : spec.samples(),
                m.minSamples()));
    }

    /** Whether the layer's run was ended by its sender (and not sent a batch since). */
    public boolean ended(LayerKey key) {
        LayerMonitor m = visible(key);
        return m != null && m.ended;
    }

    public boolean hasLayer(LayerKey key) {
        return visible(key) != null;
    }

    /** The current spectrum: the newest mature snapshot, else the newest immature one (flagged). */
    public Optional<LayerSnapshot> snapshot(LayerKey key) {
        LayerMonitor m = visible(key);
        return m == null ? Optional.empty() : Optional.ofNullable(m.snapshots().current());
    }

    public Optional<LayerStatus> status(LayerKey key) {
        LayerMonitor m = visible(key);
        if (m == null) {
            return Optional.empty();
        }
        LayerSnapshots s = m.snapshots();
        LayerSnapshots.RefreshFailure f = s.failure();
        return Optional.of(new LayerStatus(s.current(), m.totalSamples(), m.minSamples(),
                f == null ? null : f.message(), s.failures(), m.sources(), m.restoring()));
    }

    public Optional<List<HistoryPoint>> history(LayerKey key) {
        LayerMonitor m = visible(key);
        return m == null ? Optional.empty() : Optional.of(m.snapshots().history());
    }

    /** Runs with their layers, sorted by name. */
    public Map<String, List<LayerInfo>> runs() {
        Map<String, List<LayerInfo>> out = new LinkedHashMap<>();
        table.registry().all().stream().filter(LayerMonitor::visible)
                .sorted(Comparator.comparing((LayerMonitor m) -> m.key.run()).thenComparing(m -> m.key.layer()))
                .forEach(m -> {
                    LayerSnapshot s = m.snapshots().current();
                    out.computeIfAbsent(m.key.run(), r -> new ArrayList<>()).add(new LayerInfo(m.key.layer(), m.dims,
                            m.totalSamples(), s == null ? -1 : s.step(), s == null ? 0 : s.sequence(),
                            s != null && s.mature(), m.ended));
                });
        return out;
    }

    /**
     * Each layer's time of its last applied batch: what staleness is judged on. Layers without one,
     * and layers of ended runs (their sender finished: not stale), are left out.
     */
    public Map<LayerKey, Long> lastAppliedMillis() {
        Map<LayerKey, Long> out = new LinkedHashMap<>();
        for (LayerMonitor m : table.registry().all()) {
            long t = m.lastAppliedMillis();
            if (t >= 0 && !m.ended) {
                out.put(m.key, t);
            }
        }
        return out;
    }

    /** Time on the monitor's clock (the timer scheduler's; virtual in tests). */
    public long nowMillis() {
        return clock.now(TimeUnit.MILLISECONDS);
    }

    /** Every mature snapshot as it is published (hot; slow subscribers miss items). */
    public Flux<LayerSnapshot> snapshots() {
        return snapshots.asFlux();
    }

    private void publish(LayerSnapshot snapshot) {
        observer.snapshot(snapshot);
        // Refreshes of different layers finish on different compute threads; a sink needs serialized
        // emission (concurrent tryEmitNext fails with FAIL_NON_SERIALIZED and drops the snapshot).
        synchronized (snapshots) {
            snapshots.tryEmitNext(snapshot);
        }
    }

    /** Requests a refresh of every layer whose window changed (as the timer does). */
    public void refreshAll() {
        for (LayerMonitor m : table.registry().all()) {
            if (m.tickQueued.compareAndSet(false, true)) {
                m.post(new LayerMonitor.Tick());
            }
        }
    }

    public int queuedBatches() {
        return table.queue().batches();
    }

    public long queuedBytes() {
        return table.queue().bytes();
    }

    public long memoryChargedBytes() {
        return table.memoryCharged();
    }

    /** Samples admitted to a layer so far (applied or on their way), or -1 when there is no such layer. */
    public long admittedSamples(LayerKey key) {
        LayerMonitor m = table.registry().get(key);
        return m == null ? -1 : m.admittedSamples.get();
    }

    /** Waits until every admitted batch is applied and no event or refresh is pending (tests, shutdown). */
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        // Batches leave the queue before their events are handled, and an event can queue a refresh:
        // wait for both until they agree (each wait is on its condition, no polling).
        while (true) {
            if (!table.queue().awaitEmpty(deadline) || !table.context().awaitNoOutstanding(deadline)) {
                return false;
            }
            if (table.queue().batches() == 0 && table.context().outstanding() == 0) {
                return true;
            }
        }
    }

    @Override
    public void close() {
        table.close();
        if (timer != null) {
            timer.dispose();
        }
        snapshots.tryEmitComplete();
    }
}
