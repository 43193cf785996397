package org.alphawatch.pipeline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;
import java.util.function.Predicate;
import org.alphawatch.core.analysis.AnalysisOptions;
import org.alphawatch.core.spectrum.EigenSolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * The streaming monitor (DESIGN.md 1 and 4). Admitted batches get a sequence number, are made
 * durable by the {@link BatchLog} when there is one, and are applied by their layer's single writer
 * ({@link LayerMonitor}); refreshes run on the compute threads, shared fairly
 * ({@link RefreshScheduler}), and mature snapshots flow to {@link #snapshots()} and the observer.
 *
 * <p>Backpressure is explicit: {@link #offer} refuses (for a 429) when the queue is full;
 * {@link #offerBlocking} waits for room (the in-process trainer). A refused batch changes nothing:
 * a layer created for it stays invisible and is dropped again if its batches never become durable.
 *
 * <p>Deleting a run is ordered with ingest by sequence number: batches admitted before the delete
 * are applied to the old layers (then removed), batches after it start new ones, and recovery
 * replays exactly that order. With a log, the delete answers once its record is durable and the run
 * refuses new batches (429) for that short time. Thread-safe.
 */
public final class Monitor implements BatchSink, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Monitor.class);

    /** A run's layer as listed by the API. */
    public record LayerInfo(String layer, int dims, long totalSamples, long lastStep, long refreshes, boolean mature) {}

    /**
     * What the query side knows of a layer: its current snapshot (null before the first refresh),
     * samples seen, the maturity threshold, and the last refresh failure after that snapshot.
     */
    public record LayerStatus(LayerSnapshot current, long totalSamples, long minSamples, String refreshError,
                              long refreshFailures, Map<String, Long> sources) {}

    private final MonitorConfig config;
    private final MonitorObserver observer;
    private final Scheduler clock;
    private final LayerContext ctx;
    private final IngestQueue queue;
    private final LayerRegistry registry;
    private final ReentrantLock lock = new ReentrantLock();
    private final Sinks.Many<LayerSnapshot> snapshots = Sinks.many().multicast().directBestEffort();
    private final Map<String, CompletableFuture<Long>> deleting = new HashMap<>();
    private final Disposable timer;
    private long lastSeq;
    private BatchLog log;
    private volatile boolean closed;

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
        this.ctx = new LayerContext(config, options, new RefreshScheduler(compute, computeThreads), ingest, observer,
                this::publish, () -> clock.now(TimeUnit.MILLISECONDS), this::dropIfUnused);
        this.queue = new IngestQueue(config.queueBatches(), config.queueBytes());
        this.registry = new LayerRegistry(config, observer);
        Duration every = config.refreshInterval();
        this.timer = every.isZero() ? null : Flux.interval(every, every, timer).subscribe(t -> refreshAll());
    }

    public MonitorConfig config() {
        return config;
    }

    // ---- admission ------------------------------------------------------------------------------

    /** Admits a validated batch without waiting; refused (and nothing changed) when a limit is reached. */
    @Override
    public Admission offer(ActivationBatch batch) {
        return admit(batch, false);
    }

    /** Waits up to {@code timeout} for room in the queue (the in-process trainer's backpressure). */
    public Admission offerBlocking(ActivationBatch batch, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Admission a = admit(batch, true);
            if (a.reason() != RejectReason.QUEUE_FULL || !queue.awaitRoom(batch.bytes(), deadline)) {
                if (a.reason() == RejectReason.QUEUE_FULL) {
                    observer.rejected(RejectReason.QUEUE_FULL);
                }
                return a;
            }
        }
    }

    private Admission admit(ActivationBatch batch, boolean quietWhenFull) {
        LayerMonitor target;
        Ticket ticket;
        CompletableFuture<Void> durable = null;
        lock.lock();
        try {
            if (closed) {
                return reject(RejectReason.SHUTTING_DOWN, "the monitor is shutting down");
            }
            LayerKey key = batch.key();
            if (deleting.containsKey(key.run())) {
                return reject(RejectReason.RUN_BEING_DELETED, "run " + key.run() + " is being deleted; retry");
            }
            target = registry.get(key);
            if (target != null && target.dims != batch.dims()) {
                return reject(RejectReason.DIMS_MISMATCH, "layer " + key + " has " + target.dims
                        + " units, the batch has " + batch.dims());
            }
            if (!queue.fits(batch.bytes())) {
                String message = "ingest queue is full (" + queue.batches() + " batches, " + queue.bytes()
                        + " bytes queued); retry later";
                return quietWhenFull ? Admission.rejected(RejectReason.QUEUE_FULL, message)
                        : reject(RejectReason.QUEUE_FULL, message);
            }
            boolean repeat = batch.repeat() != ActivationBatch.NO_REPEAT;
            LayerRegistry.Refusal refusal = target == null
                    ? registry.checkNew(key, batch.dims(), repeat ? config.crossCostBytes(batch.dims()) : 0)
                    : repeat ? registry.checkRepeats(target) : null;
            if (refusal != null) {
                return reject(refusal.reason(), refusal.message());
            }
            if (target == null) {
                target = new LayerMonitor(key, batch.dims(), ctx);
                registry.add(target);
            }
            if (repeat) {
                registry.chargeRepeats(target);
            }
            long seq = ++lastSeq;
            ticket = queue.reserve(seq, batch.bytes());
            target.pendingAdmissions.incrementAndGet();
            if (log == null) {
                target.post(new LayerMonitor.Apply(batch, seq, ticket, System.nanoTime()));
                return Admission.accepted(seq);
            }
            // Appended in sequence order under the lock; the log completes in that order, so each
            // layer's mailbox receives its batches in order.
            durable = log.appendBatch(seq, batch);
        } finally {
            lock.unlock();
        }
        final LayerMonitor layer = target;
        final Ticket t = ticket;
        // Runs on the log's thread: post only (never take the admission lock there).
        durable.whenComplete((ok, err) -> layer.post(err == null
                ? new LayerMonitor.Apply(batch, t.seq, t, System.nanoTime()) : new LayerMonitor.Failed(t)));
        return Admission.accepted(t.seq, durable);
    }

    /** A layer whose every admitted batch failed before any applied: forget it (writer thread). */
    private void dropIfUnused(LayerMonitor layer) {
        lock.lock();
        try {
            if (!layer.visible() && layer.pendingAdmissions.get() == 0 && registry.remove(layer)) {
                layer.post(new LayerMonitor.Remove());
            }
        } finally {
            lock.unlock();
        }
    }

    /** Makes admitted batches durable through {@code batchLog} before they are applied (call before any ingest). */
    public void attachLog(BatchLog batchLog) {
        lock.lock();
        try {
            this.log = batchLog;
        } finally {
            lock.unlock();
        }
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

    // ---- deletion -------------------------------------------------------------------------------

    /**
     * Removes a run and its layers: completes with the deletion's sequence number once it is
     * durable (at once without a log), with -1 when there is no such run, exceptionally when the
     * log failed (nothing changed then).
     */
    @Override
    public CompletableFuture<Long> deleteRun(String run) {
        CompletableFuture<Void> durable;
        CompletableFuture<Long> result;
        long seq;
        lock.lock();
        try {
            CompletableFuture<Long> pending = deleting.get(run);
            if (pending != null) {
                return pending;
            }
            if (registry.ofRun(run).isEmpty()) {
                return CompletableFuture.completedFuture(-1L);
            }
            seq = ++lastSeq;
            if (log == null) {
                removeRunLocked(run);
                return CompletableFuture.completedFuture(seq);
            }
            result = new CompletableFuture<>();
            deleting.put(run, result);
            durable = log.appendDelete(seq, run);
        } finally {
            lock.unlock();
        }
        // Off the log's thread: the removal takes the admission lock.
        durable.whenCompleteAsync((ok, err) -> {
            lock.lock();
            try {
                deleting.remove(run);
                if (err == null) {
                    removeRunLocked(run);
                }
            } finally {
                lock.unlock();
            }
            if (err == null) {
                result.complete(seq);
            } else {
                result.completeExceptionally(err);
            }
        }, ForkJoinPool.commonPool());
        return result;
    }

    private void removeRunLocked(String run) {
        for (LayerMonitor m : registry.ofRun(run)) {
            if (registry.remove(m)) {
                m.post(new LayerMonitor.Remove());
            }
        }
    }

    // ---- queries --------------------------------------------------------------------------------

    private LayerMonitor visible(LayerKey key) {
        LayerMonitor m = registry.get(key);
        return m != null && m.visible() ? m : null;
    }

    /** {@link org.alphawatch.core.window.WindowSpec#maxPartialSamples()} of a layer's window, or of the window a new layer of {@code dims} gets. */
    public long maxPartialSamples(LayerKey key, int dims) {
        LayerMonitor m = registry.get(key);
        return (m != null ? m.windowSpec() : config.windowSpec(dims)).maxPartialSamples();
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
                f == null ? null : f.message(), s.failures(), m.sources()));
    }

    public Optional<List<HistoryPoint>> history(LayerKey key) {
        LayerMonitor m = visible(key);
        return m == null ? Optional.empty() : Optional.of(m.snapshots().history());
    }

    /** Runs with their layers, sorted by name. */
    public Map<String, List<LayerInfo>> runs() {
        Map<String, List<LayerInfo>> out = new LinkedHashMap<>();
        registry.all().stream().filter(LayerMonitor::visible)
                .sorted(Comparator.comparing((LayerMonitor m) -> m.key.run()).thenComparing(m -> m.key.layer()))
                .forEach(m -> {
                    LayerSnapshot s = m.snapshots().current();
                    out.computeIfAbsent(m.key.run(), r -> new ArrayList<>()).add(new LayerInfo(m.key.layer(), m.dims,
                            m.totalSamples(), s == null ? -1 : s.step(), s == null ? 0 : s.sequence(),
                            s != null && s.mature()));
                });
        return out;
    }

    /** Each layer's time of its last applied batch (layers without one are left out). */
    public Map<LayerKey, Long> lastAppliedMillis() {
        Map<LayerKey, Long> out = new LinkedHashMap<>();
        for (LayerMonitor m : registry.all()) {
            long t = m.lastAppliedMillis();
            if (t >= 0) {
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
        for (LayerMonitor m : registry.all()) {
            if (m.tickQueued.compareAndSet(false, true)) {
                m.post(new LayerMonitor.Tick());
            }
        }
    }

    public int queuedBatches() {
        return queue.batches();
    }

    public long queuedBytes() {
        return queue.bytes();
    }

    public long memoryChargedBytes() {
        lock.lock();
        try {
            return registry.memoryCharged();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until every admitted batch is applied and no event or refresh is pending (tests, shutdown). */
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (queue.batches() == 0 && ctx.outstanding() == 0) {
                return true;
            }
            TimeUnit.MILLISECONDS.sleep(2);
        }
        return false;
    }

    // ---- durability -----------------------------------------------------------------------------

    /** The last sequence number handed out. */
    public long lastSeq() {
        lock.lock();
        try {
            return lastSeq;
        } finally {
            lock.unlock();
        }
    }

    /** Never hands out a number below {@code next} again (recovery: the checkpoint's next number). */
    public void advanceSequence(long next) {
        lock.lock();
        try {
            lastSeq = Math.max(lastSeq, next - 1);
        } finally {
            lock.unlock();
        }
    }

    /** Runs {@code action} with the sequence counter stable (no admission in between); returns the next seq. */
    public long atomically(LongConsumer action) {
        lock.lock();
        try {
            action.accept(lastSeq + 1);
            return lastSeq + 1;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until every batch with a sequence number below {@code mark} has been applied (or failed). */
    public boolean awaitAppliedBelow(long mark, Duration timeout) throws InterruptedException {
        return queue.awaitBelow(mark, timeout);
    }

    /** Serialized state of every layer, each captured on its own writer (for checkpoints). */
    public List<byte[]> captureLayers(Duration timeout) throws Exception {
        return captureLayers(key -> true, timeout);
    }

    /** Serialized state of the layers {@code which} accepts (a partition's, in scale-out). */
    public List<byte[]> captureLayers(Predicate<LayerKey> which, Duration timeout) throws Exception {
        List<CompletableFuture<byte[]>> futures = new ArrayList<>();
        lock.lock();
        try {
            for (LayerMonitor m : registry.all()) {
                if (m.visible() && which.test(m.key)) {
                    CompletableFuture<byte[]> f = new CompletableFuture<>();
                    m.post(new LayerMonitor.Capture(f));
                    futures.add(f);
                }
            }
        } finally {
            lock.unlock();
        }
        List<byte[]> out = new ArrayList<>();
        for (CompletableFuture<byte[]> f : futures) {
            out.add(f.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
        }
        return out;
    }

    /**
     * Re-creates layers from {@link #captureLayers} bytes (recovery, before any ingest). All are
     * decoded and validated first; nothing is registered unless every one is usable.
     */
    public void restoreLayers(List<byte[]> states) {
        List<LayerMonitor> restored = new ArrayList<>();
        for (byte[] state : states) {
            restored.add(LayerMonitor.restore(LayerState.read(state, config), ctx));
        }
        lock.lock();
        try {
            for (LayerMonitor m : restored) {
                if (registry.get(m.key) != null) {
                    throw new IllegalStateException("checkpoint holds layer " + m.key + " twice");
                }
            }
            for (LayerMonitor m : restored) {
                registry.add(m);
                lastSeq = Math.max(lastSeq, m.restoredSeq);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Re-applies a logged batch during recovery: skipped when the layer's restored state already
     * contains it; waits for room instead of refusing; never logged again.
     */
    public void replay(long seq, ActivationBatch batch) throws InterruptedException {
        while (!queue.awaitRoom(batch.bytes(), System.nanoTime() + TimeUnit.SECONDS.toNanos(60))) {
            LOG.info("recovery: waiting for the layers to apply replayed batches");
        }
        lock.lock();
        try {
            lastSeq = Math.max(lastSeq, seq);
            LayerMonitor target = registry.get(batch.key());
            if (target != null && seq <= target.restoredSeq) {
                return;
            }
            if (target == null) {
                target = new LayerMonitor(batch.key(), batch.dims(), ctx);
                registry.add(target);
            } else if (target.dims != batch.dims()) {
                LOG.error("recovery: logged batch {} for {} has {} units, the layer {}; skipped", seq, batch.key(),
                        batch.dims(), target.dims);
                return;
            }
            if (batch.repeat() != ActivationBatch.NO_REPEAT) {
                registry.chargeRepeats(target);
            }
            Ticket t = queue.reserve(seq, batch.bytes());
            target.pendingAdmissions.incrementAndGet();
            target.post(new LayerMonitor.Apply(batch, seq, t, System.nanoTime()));
        } finally {
            lock.unlock();
        }
    }

    /** A logged run deletion during recovery. */
    public void replayDelete(long seq, String run) {
        replayDelete(seq, run, key -> true);
    }

    /** A run's deletion for the layers {@code which} accepts (a partition's, in scale-out). */
    public void replayDelete(long seq, String run, Predicate<LayerKey> which) {
        lock.lock();
        try {
            lastSeq = Math.max(lastSeq, seq);
            for (LayerMonitor m : registry.ofRun(run)) {
                if (which.test(m.key) && registry.remove(m)) {
                    m.post(new LayerMonitor.Remove());
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Lets go of the layers {@code which} accepts without deleting anything durable (scale-out: a
     * partition moved to another worker, which restores them from its checkpoint).
     */
    public void releaseLayers(Predicate<LayerKey> which) {
        lock.lock();
        try {
            for (LayerMonitor m : new ArrayList<>(registry.all())) {
                if (which.test(m.key) && registry.remove(m)) {
                    m.post(new LayerMonitor.Remove());
                }
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
        } finally {
            lock.unlock();
        }
        if (timer != null) {
            timer.dispose();
        }
        snapshots.tryEmitComplete();
    }
}
