package org.alphawatch.pipeline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.alphawatch.core.analysis.AnalysisOptions;
import org.alphawatch.core.spectrum.EigenSolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * The streaming monitor (DESIGN.md 1 and 4): admitted activation batches flow through one
 * {@code Flux}, grouped by layer into {@link LayerMonitor}s, each applied by a single worker;
 * spectra are recomputed on the compute scheduler and published as immutable
 * {@link LayerSnapshot}s to the query side, the event stream and the observer.
 *
 * <p>Backpressure is explicit: {@link #offer} admits a batch only while the queue holds fewer than
 * {@code queueBatches} batches and {@code queueBytes} bytes, and refuses it (for a 429) otherwise;
 * {@link #offerBlocking} waits for room instead (the in-process trainer). A refused batch changes
 * nothing. Thread-safe.
 */
public final class Monitor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Monitor.class);

    /** Events on the pipeline's one stream; grouped by the target monitor's identity. */
    private sealed interface LayerEvent permits Apply, Tick, Remove, Capture {
        LayerMonitor target();
    }

    private record Apply(LayerMonitor target, ActivationBatch batch, long admittedNanos, long seq)
            implements LayerEvent {}

    /** Serializes the layer's state on its writer thread (checkpoints). */
    private record Capture(LayerMonitor target, java.util.concurrent.CompletableFuture<byte[]> result)
            implements LayerEvent {}

    private record Tick(LayerMonitor target) implements LayerEvent {}

    private record Remove(LayerMonitor target) implements LayerEvent {}

    /** A run and its layers as listed by the API. */
    public record LayerInfo(String layer, int dims, long totalSamples, long lastStep, long refreshes) {}

    private final MonitorConfig config;
    private final AnalysisOptions options;
    private final MonitorObserver observer;
    private final Scheduler compute;
    private final Map<LayerKey, LayerMonitor> layers = new ConcurrentHashMap<>();
    private final Sinks.Many<LayerEvent> input = Sinks.many().unicast().onBackpressureBuffer();
    private final Sinks.Many<LayerSnapshot> snapshots = Sinks.many().multicast().directBestEffort();
    private final ReentrantLock admission = new ReentrantLock();
    private final Condition roomOrIdle = admission.newCondition();
    private final Disposable pipeline;
    private final Disposable timer;
    private final Scheduler clock;
    private int queuedBatches;
    private long queuedBytes;
    private long lastSeq;
    private BatchLog log;
    /** Sequence numbers admitted but not yet applied (checkpoints wait for those below a mark). */
    private final java.util.concurrent.ConcurrentSkipListSet<Long> inFlight = new java.util.concurrent.ConcurrentSkipListSet<>();
    private long memoryCharged;
    private volatile boolean closed;

    /**
     * @param ingest  runs the per-layer writers (one worker per layer, e.g. a parallel scheduler)
     * @param compute runs refreshes (eigen-decompositions); bounded
     * @param timer   drives time-based refresh; a virtual-time scheduler in tests
     */
    public Monitor(MonitorConfig config, EigenSolver solver, MonitorObserver observer, Scheduler ingest,
                   Scheduler compute, Scheduler timer) {
        this.config = config;
        this.options = new AnalysisOptions(config.fitWindow(), config.inputDim(), config.bits(), Double.NaN, solver,
                config.topK());
        this.observer = observer;
        this.compute = compute;
        this.clock = timer;
        this.pipeline = input.asFlux()
                .groupBy(LayerEvent::target)
                .flatMap(group -> group.publishOn(ingest, 32)
                        .takeUntil(e -> e instanceof Remove)
                        .doOnNext(this::handle), Integer.MAX_VALUE)
                .subscribe(e -> { }, e -> LOG.error("pipeline terminated: {}", e.toString(), e));
        Duration every = config.refreshInterval();
        this.timer = every.isZero() ? null : Flux.interval(every, every, timer).subscribe(t -> tickAll());
    }

    public MonitorConfig config() {
        return config;
    }

    private void handle(LayerEvent event) {
        LayerMonitor target = event.target();
        try {
            if (event instanceof Apply apply) {
                long start = System.nanoTime();
                observer.timed(MonitorObserver.Stage.QUEUE_WAIT, start - apply.admittedNanos());
                target.apply(apply.batch(), apply.seq());
                observer.timed(MonitorObserver.Stage.APPLY, System.nanoTime() - start);
                observer.batchApplied(target.key(), apply.batch().rows(), apply.batch().bytes());
            } else if (event instanceof Tick) {
                target.tick();
            } else if (event instanceof Capture capture) {
                capture.result().complete(target.serialize());
            } else {
                target.close();
            }
        } catch (RuntimeException e) {
            LOG.error("{}: event {} failed: {}", target.key(), event.getClass().getSimpleName(), e.toString(), e);
        } finally {
            if (event instanceof Apply apply) {
                inFlight.remove(apply.seq());
                release(apply.batch());
            } else if (event instanceof Capture capture && !capture.result().isDone()) {
                capture.result().completeExceptionally(new IllegalStateException("capture of " + target.key() + " failed"));
            }
        }
    }

    private void release(ActivationBatch batch) {
        admission.lock();
        try {
            queuedBatches--;
            queuedBytes -= batch.bytes();
            roomOrIdle.signalAll();
        } finally {
            admission.unlock();
        }
    }

    /** Admits a validated batch without waiting; refused (and nothing changed) when a limit is reached. */
    public Admission offer(ActivationBatch batch) {
        admission.lock();
        try {
            return admit(batch);
        } finally {
            admission.unlock();
        }
    }

    /** Waits up to {@code timeout} for room in the queue (the in-process trainer's backpressure). */
    public Admission offerBlocking(ActivationBatch batch, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        admission.lock();
        try {
            while (true) {
                Admission a = admit(batch);
                if (a.reason() != RejectReason.QUEUE_FULL) {
                    return a;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return a;
                }
                roomOrIdle.awaitNanos(left);
            }
        } finally {
            admission.unlock();
        }
    }

    private Admission admit(ActivationBatch batch) {
        if (closed) {
            return reject(RejectReason.SHUTTING_DOWN, "the monitor is shutting down");
        }
        LayerKey key = batch.key();
        LayerMonitor target = layers.get(key);
        if (target != null && target.dims() != batch.dims()) {
            return reject(RejectReason.DIMS_MISMATCH, "layer " + key + " has " + target.dims() + " units, the batch has "
                    + batch.dims());
        }
        if (queuedBatches >= config.queueBatches() || queuedBytes + batch.bytes() > config.queueBytes()) {
            return reject(RejectReason.QUEUE_FULL, "ingest queue is full (" + queuedBatches + " batches, " + queuedBytes
                    + " bytes queued); retry later");
        }
        if (target == null) {
            Admission refused = checkNewLayer(key, batch.dims());
            if (refused != null) {
                return refused;
            }
            long cost = config.layerCostBytes(batch.dims());
            target = new LayerMonitor(key, batch.dims(), config, options, compute, observer, this::publish,
                    () -> clock.now(TimeUnit.MILLISECONDS));
            layers.put(key, target);
            memoryCharged += cost;
            observer.layerCreated(key, batch.dims(), cost);
        }
        queuedBatches++;
        queuedBytes += batch.bytes();
        long seq = ++lastSeq;
        inFlight.add(seq);
        if (log == null) {
            return emit(target, batch, seq) ? Admission.accepted()
                    : reject(RejectReason.SHUTTING_DOWN, "pipeline refused the batch");
        }
        // Write-ahead: the batch is applied (and acknowledged) only once its record is durable. The log
        // completes in sequence order, so each layer still sees its batches in order.
        final LayerMonitor layer = target;
        java.util.concurrent.CompletableFuture<Void> durable = log.appendBatch(seq, batch).whenComplete((ok, err) -> {
            admission.lock();
            try {
                if (err != null || !emit(layer, batch, seq)) {
                    inFlight.remove(seq);
                    queuedBatches--;
                    queuedBytes -= batch.bytes();
                    roomOrIdle.signalAll();
                }
            } finally {
                admission.unlock();
            }
        });
        return Admission.accepted(durable);
    }

    /** Emits under the admission lock; false when the pipeline refused (shutting down). */
    private boolean emit(LayerMonitor target, ActivationBatch batch, long seq) {
        Sinks.EmitResult r = input.tryEmitNext(new Apply(target, batch, System.nanoTime(), seq));
        if (r.isFailure()) {
            inFlight.remove(seq);
            queuedBatches--;
            queuedBytes -= batch.bytes();
            return false;
        }
        return true;
    }

    /** Makes admitted batches durable through {@code log} before they are applied (call before any ingest). */
    public void attachLog(BatchLog batchLog) {
        admission.lock();
        try {
            this.log = batchLog;
        } finally {
            admission.unlock();
        }
    }

    /** The last sequence number handed out. */
    public long lastSeq() {
        admission.lock();
        try {
            return lastSeq;
        } finally {
            admission.unlock();
        }
    }

    /** Runs {@code action} with the sequence counter stable (no admission in between); returns the next seq. */
    public long atomically(java.util.function.LongConsumer action) {
        admission.lock();
        try {
            action.accept(lastSeq + 1);
            return lastSeq + 1;
        } finally {
            admission.unlock();
        }
    }

    /** Waits until every batch with a sequence number below {@code mark} has been applied. */
    public boolean awaitAppliedBelow(long mark, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (inFlight.isEmpty() || inFlight.first() >= mark) {
                return true;
            }
            TimeUnit.MILLISECONDS.sleep(2);
        }
        return false;
    }

    /** Serialized state of every layer, each captured on its own writer thread (for checkpoints). */
    public List<byte[]> captureLayers(Duration timeout) throws Exception {
        List<java.util.concurrent.CompletableFuture<byte[]>> futures = new ArrayList<>();
        admission.lock();
        try {
            for (LayerMonitor m : layers.values()) {
                java.util.concurrent.CompletableFuture<byte[]> f = new java.util.concurrent.CompletableFuture<>();
                if (input.tryEmitNext(new Capture(m, f)).isFailure()) {
                    throw new IllegalStateException("pipeline refused a capture");
                }
                futures.add(f);
            }
        } finally {
            admission.unlock();
        }
        List<byte[]> out = new ArrayList<>();
        for (var f : futures) {
            out.add(f.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
        }
        return out;
    }

    /**
     * Re-creates layers from {@link #captureLayers} bytes (recovery, before any ingest). All are
     * parsed and validated first; nothing is registered unless every one is usable.
     */
    public void restoreLayers(List<byte[]> states) throws java.io.IOException {
        List<LayerMonitor> restored = new ArrayList<>();
        for (byte[] state : states) {
            restored.add(LayerMonitor.restore(state, config, options, compute, observer, this::publish,
                    () -> clock.now(TimeUnit.MILLISECONDS)));
        }
        admission.lock();
        try {
            for (LayerMonitor m : restored) {
                layers.put(m.key(), m);
                long cost = config.layerCostBytes(m.dims());
                memoryCharged += cost;
                observer.layerCreated(m.key(), m.dims(), cost);
                lastSeq = Math.max(lastSeq, m.lastAppliedSeq());
            }
        } finally {
            admission.unlock();
        }
    }

    /**
     * Re-applies a logged batch during recovery: skipped when the layer's restored state already
     * contains it; waits for room instead of refusing.
     */
    public void replay(long seq, ActivationBatch batch) throws InterruptedException {
        admission.lock();
        try {
            lastSeq = Math.max(lastSeq, seq);
            LayerMonitor target = layers.get(batch.key());
            if (target != null && seq <= target.lastAppliedSeq()) {
                return;
            }
            while (queuedBatches >= config.queueBatches()) {
                roomOrIdle.await();
            }
            if (target == null) {
                target = new LayerMonitor(batch.key(), batch.dims(), config, options, compute, observer, this::publish,
                        () -> clock.now(TimeUnit.MILLISECONDS));
                layers.put(batch.key(), target);
                long cost = config.layerCostBytes(batch.dims());
                memoryCharged += cost;
                observer.layerCreated(batch.key(), batch.dims(), cost);
            } else if (target.dims() != batch.dims()) {
                LOG.error("recovery: logged batch {} for {} has {} units, the layer {}; skipped", seq, batch.key(),
                        batch.dims(), target.dims());
                return;
            }
            queuedBatches++;
            queuedBytes += batch.bytes();
            inFlight.add(seq);
            emit(target, batch, seq);
        } finally {
            admission.unlock();
        }
    }

    /** A logged run deletion during recovery. */
    public void replayDelete(long seq, String run) {
        admission.lock();
        try {
            lastSeq = Math.max(lastSeq, seq);
        } finally {
            admission.unlock();
        }
        deleteRunNow(run);
    }

    private Admission checkNewLayer(LayerKey key, int dims) {
        if (dims > config.maxDims()) {
            return reject(RejectReason.TOO_MANY_DIMS, "layer " + key + " has " + dims + " units; the limit is "
                    + config.maxDims() + " (max-dims)");
        }
        long runs = layers.keySet().stream().map(LayerKey::run).distinct().count();
        boolean knownRun = layers.keySet().stream().anyMatch(k -> k.run().equals(key.run()));
        if (!knownRun && runs >= config.maxRuns()) {
            return reject(RejectReason.TOO_MANY_RUNS, "already " + runs + " runs (max-runs); delete one first");
        }
        long inRun = layers.keySet().stream().filter(k -> k.run().equals(key.run())).count();
        if (inRun >= config.maxLayersPerRun()) {
            return reject(RejectReason.TOO_MANY_LAYERS, "run " + key.run() + " already has " + inRun
                    + " layers (max-layers-per-run)");
        }
        long cost = config.layerCostBytes(dims);
        if (memoryCharged + cost > config.memoryBudgetBytes()) {
            return reject(RejectReason.MEMORY_BUDGET, String.format(java.util.Locale.ROOT,
                    "a %d-unit layer needs %.1f MB of accumulators; %.1f of %.1f MB (memory-budget) are in use",
                    dims, cost / 1e6, memoryCharged / 1e6, config.memoryBudgetBytes() / 1e6));
        }
        return null;
    }

    /** Records the time an edge spent decoding and validating a batch. */
    public void decoded(long nanos) {
        observer.timed(MonitorObserver.Stage.DECODE, nanos);
    }

    /** Counts a refusal decided outside the monitor (HTTP validation) or inside it. */
    public Admission reject(RejectReason reason, String message) {
        observer.rejected(reason);
        return Admission.rejected(reason, message);
    }

    private void publish(LayerSnapshot snapshot) {
        observer.snapshot(snapshot);
        // Refreshes of different layers finish on different compute threads; a sink needs serialized
        // emission (concurrent tryEmitNext fails with FAIL_NON_SERIALIZED and drops the snapshot).
        synchronized (snapshots) {
            snapshots.tryEmitNext(snapshot);
        }
    }

    private void tickAll() {
        admission.lock();
        try {
            for (LayerMonitor m : layers.values()) {
                if (m.markTickQueued()) {
                    input.tryEmitNext(new Tick(m));
                }
            }
        } finally {
            admission.unlock();
        }
    }

    /** Requests a refresh of every layer with new data now (as the timer does). */
    public void refreshAll() {
        tickAll();
    }

    public Optional<LayerSnapshot> snapshot(LayerKey key) {
        LayerMonitor m = layers.get(key);
        return m == null ? Optional.empty() : Optional.ofNullable(m.latest());
    }

    /** Time on the monitor's clock (the timer scheduler's; virtual in tests). */
    public long nowMillis() {
        return clock.now(TimeUnit.MILLISECONDS);
    }

    /** Each layer's time of its last applied batch (layers without one are left out). */
    public Map<LayerKey, Long> lastAppliedMillis() {
        Map<LayerKey, Long> out = new LinkedHashMap<>();
        for (LayerMonitor m : layers.values()) {
            long t = m.lastAppliedMillis();
            if (t >= 0) {
                out.put(m.key(), t);
            }
        }
        return out;
    }

    public boolean hasLayer(LayerKey key) {
        return layers.containsKey(key);
    }

    public Optional<List<HistoryPoint>> history(LayerKey key) {
        LayerMonitor m = layers.get(key);
        return m == null ? Optional.empty() : Optional.of(m.history());
    }

    /** Runs with their layers, sorted by name. */
    public Map<String, List<LayerInfo>> runs() {
        Map<String, List<LayerInfo>> out = new LinkedHashMap<>();
        layers.values().stream().sorted(Comparator.comparing((LayerMonitor m) -> m.key().run())
                .thenComparing(m -> m.key().layer())).forEach(m -> {
                    LayerSnapshot s = m.latest();
                    out.computeIfAbsent(m.key().run(), r -> new ArrayList<>()).add(new LayerInfo(m.key().layer(),
                            m.dims(), s == null ? 0 : s.totalSamples(), s == null ? -1 : s.step(),
                            s == null ? 0 : s.sequence()));
                });
        return out;
    }

    /** Removes a run and its layers (logged first when there is a write-ahead log); false when there was no such run. */
    public boolean deleteRun(String run) {
        java.util.concurrent.CompletableFuture<Void> durable = null;
        admission.lock();
        try {
            if (layers.keySet().stream().noneMatch(k -> k.run().equals(run))) {
                return false;
            }
            long seq = ++lastSeq;
            if (log != null) {
                durable = log.appendDelete(seq, run);
            }
        } finally {
            admission.unlock();
        }
        if (durable != null) {
            durable.join();
        }
        return deleteRunNow(run);
    }

    private boolean deleteRunNow(String run) {
        admission.lock();
        try {
            boolean any = false;
            for (LayerMonitor m : new ArrayList<>(layers.values())) {
                if (m.key().run().equals(run)) {
                    layers.remove(m.key());
                    memoryCharged -= config.layerCostBytes(m.dims());
                    m.close();
                    input.tryEmitNext(new Remove(m));
                    observer.layerRemoved(m.key());
                    any = true;
                }
            }
            return any;
        } finally {
            admission.unlock();
        }
    }

    /** Every refreshed snapshot, as it is published (hot; slow subscribers miss items). */
    public Flux<LayerSnapshot> snapshots() {
        return snapshots.asFlux();
    }

    public int queuedBatches() {
        admission.lock();
        try {
            return queuedBatches;
        } finally {
            admission.unlock();
        }
    }

    public long queuedBytes() {
        admission.lock();
        try {
            return queuedBytes;
        } finally {
            admission.unlock();
        }
    }

    public long memoryChargedBytes() {
        admission.lock();
        try {
            return memoryCharged;
        } finally {
            admission.unlock();
        }
    }

    /** Waits until every admitted batch is applied and no refresh is queued or running (tests, shutdown). */
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            boolean idle;
            admission.lock();
            try {
                idle = queuedBatches == 0;
            } finally {
                admission.unlock();
            }
            if (idle && layers.values().stream().noneMatch(LayerMonitor::busy)) {
                return true;
            }
            TimeUnit.MILLISECONDS.sleep(2);
        }
        return false;
    }

    @Override
    public void close() {
        closed = true;
        if (timer != null) {
            timer.dispose();
        }
        input.tryEmitComplete();
        pipeline.dispose();
        snapshots.tryEmitComplete();
    }
}
