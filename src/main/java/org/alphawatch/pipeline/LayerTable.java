package org.alphawatch.pipeline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;
import java.util.function.Predicate;
import org.alphawatch.io.PartialMoments;

/**
 * A monitor's layers and the one way in (DESIGN.md, "Doors and the one admission path"): every door
 * calls {@link #register}, which validates the batch ({@link BatchChecks}), checks the layer's width
 * and count, de-duplicates by (layer, sender, number), applies the limits and budgets, numbers,
 * logs and posts it to the layer's writer. Recovery re-applies what was admitted before through
 * {@link #replay}: the same checks except the limits (a restart must not lose what was accepted
 * under other settings). Every refusal on every door is counted by reason.
 *
 * <p>Deleting a run is ordered with ingest by sequence number (see {@link Monitor}). Thread-safe: one
 * lock, held for bookkeeping only, never while waiting for room or I/O.
 */
final class LayerTable {
    /** Where a batch comes from: decides whether limits apply and whether it is logged. */
    enum Door {
        /** HTTP ingest (rows and partial accumulators): refused at once when the queue is full. */
        HTTP,
        /** A Java program in this process ({@code LayerStream}, the built-in trainer): waits for room. */
        IN_PROCESS,
        /** A scale-out worker applying a Kafka record: waits for room; Kafka is its log. */
        WORKER,
        /** Recovery re-applying a logged batch: no limits, never logged again. */
        REPLAY
    }

    private final MonitorConfig config;
    private final MonitorObserver observer;
    private final LayerContext ctx;
    private final IngestQueue queue;
    private final LayerRegistry registry;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, CompletableFuture<Long>> deleting = new HashMap<>();
    private long lastSeq;
    private BatchLog log;
    private boolean closed;

    LayerTable(MonitorConfig config, MonitorObserver observer, java.util.function.Function<LayerTable, LayerContext> context) {
        this.config = config;
        this.observer = observer;
        this.queue = new IngestQueue(config.queueBatches(), config.queueBytes());
        this.registry = new LayerRegistry(config, observer);
        this.ctx = context.apply(this);
    }

    LayerRegistry registry() {
        return registry;
    }

    IngestQueue queue() {
        return queue;
    }

    LayerContext context() {
        return ctx;
    }

    // ---- admission ------------------------------------------------------------------------------

    /**
     * Admits a batch through {@code door}: accepted (possibly as a duplicate, applying nothing) or
     * refused with a reason, and then nothing changed. With {@code deadlineNanos} (a
     * {@link System#nanoTime} value; 0: do not wait) it waits for room in the queue instead of
     * refusing.
     */
    Admission register(ActivationBatch batch, Door door, long deadlineNanos) throws InterruptedException {
        if (door == Door.REPLAY) {
            throw new IllegalArgumentException("replays go through replay(seq, batch)");
        }
        return admitChecked(batch, door, 0, deadlineNanos);
    }

    /**
     * Re-applies a logged batch (recovery): skipped when the layer's restored state already holds
     * it; waits for room; no limits; never logged again. A batch that fails the checks (one an
     * older version admitted) is refused and counted, and the refusal returned for the report.
     */
    Admission replay(long seq, ActivationBatch batch) throws InterruptedException {
        lock.lock();
        try {
            lastSeq = Math.max(lastSeq, seq);
        } finally {
            lock.unlock();
        }
        return admitChecked(batch, Door.REPLAY, seq, Long.MAX_VALUE);
    }

    private Admission admitChecked(ActivationBatch batch, Door door, long replaySeq, long deadlineNanos)
            throws InterruptedException {
        BatchChecks.Refusal bad = BatchChecks.check(batch, door == Door.REPLAY ? MonitorConfig.MAX_DIMS_LIMIT
                : config.maxDims());
        if (bad != null) {
            return refuse(bad.reason(), bad.message());
        }
        while (true) {
            Admission a = admit(batch, door, replaySeq);
            if (a.reason() != RejectReason.QUEUE_FULL) {
                return a;
            }
            if (deadlineNanos == 0 || !awaitRoom(batch, door, deadlineNanos)) {
                return refuse(RejectReason.QUEUE_FULL, a.message());
            }
        }
    }

    private boolean awaitRoom(ActivationBatch batch, Door door, long deadlineNanos) throws InterruptedException {
        if (door != Door.REPLAY) {
            return queue.awaitRoom(batch.bytes(), deadlineNanos);
        }
        // Recovery never gives up: the layers drain the queue as they apply.
        while (!queue.awaitRoom(batch.bytes(), System.nanoTime() + TimeUnit.SECONDS.toNanos(60))) {
            org.slf4j.LoggerFactory.getLogger(LayerTable.class).info("recovery: waiting for the layers to apply "
                    + "replayed batches");
        }
        return true;
    }

    /** One attempt under the lock; a QUEUE_FULL answer is not counted here (the caller may wait). */
    private Admission admit(ActivationBatch batch, Door door, long replaySeq) {
        LayerMonitor target;
        Ticket ticket;
        CompletableFuture<Void> durable;
        long seq;
        lock.lock();
        try {
            LayerKey key = batch.key();
            if (closed && door != Door.REPLAY) {
                return refuse(RejectReason.SHUTTING_DOWN, "the monitor is shutting down");
            }
            if (door != Door.REPLAY && deleting.containsKey(key.run())) {
                return refuse(RejectReason.RUN_BEING_DELETED, "run " + key.run() + " is being deleted; retry");
            }
            target = registry.get(key);
            if (door == Door.REPLAY && target != null && replaySeq <= target.restoredSeq) {
                return Admission.duplicate(replaySeq, Admission.DONE); // already in the restored state
            }
            if (target != null && target.dims != batch.dims()) {
                return refuse(RejectReason.DIMS_MISMATCH, "layer " + key + " has " + target.dims
                        + " units, the batch has " + batch.dims());
            }
            Delivery delivery = batch.delivery();
            if (delivery != null && target != null) {
                LayerMonitor.Admitted prior = target.admitted(delivery.sender());
                if (prior != null && delivery.seq() <= prior.number()
                        && !(delivery.seq() == prior.number() && prior.durable().isCompletedExceptionally())) {
                    observer.duplicate(key);
                    // The same request again: answer when the first copy is durable (it may still be in flight).
                    return delivery.seq() == prior.number() ? Admission.duplicate(prior.seq(), prior.durable())
                            : Admission.duplicate(prior.seq(), Admission.DONE);
                }
            }
            long samples = batch.windowSamples();
            long pairs = batch.repeatPairs();
            long haveSamples = target == null ? 0 : target.admittedSamples.get();
            long havePairs = target == null ? 0 : target.admittedPairs.get();
            if (samples > PartialMoments.MAX_SAMPLES - haveSamples || pairs > PartialMoments.MAX_SAMPLES - havePairs) {
                return refuse(RejectReason.TOO_MANY_SAMPLES, "layer " + key + " holds " + haveSamples + " samples and "
                        + havePairs + " repeat pairs; " + samples + " and " + pairs + " more would pass "
                        + PartialMoments.MAX_SAMPLES + " (2^53, where float64 stops counting exactly)");
            }
            if (!queue.fits(batch.bytes())) {
                return Admission.rejected(RejectReason.QUEUE_FULL, "ingest queue is full (" + queue.batches()
                        + " batches, " + queue.bytes() + " bytes queued); retry later");
            }
            boolean needsPairs = pairs > 0 || batch.repeat() == 0;
            if (door != Door.REPLAY) {
                LayerRegistry.Refusal refusal = target == null
                        ? registry.checkNew(key, batch.dims(), needsPairs ? config.crossCostBytes(batch.dims()) : 0)
                        : needsPairs ? registry.checkRepeats(target) : null;
                if (refusal != null) {
                    return refuse(refusal.reason(), refusal.message());
                }
            }
            if (target == null) {
                target = new LayerMonitor(key, batch.dims(), ctx, batch.options());
                registry.add(target);
            }
            if (needsPairs) {
                registry.chargeRepeats(target);
            }
            seq = door == Door.REPLAY ? replaySeq : ++lastSeq;
            target.ended = false; // a batch after the end reopens the run
            ticket = queue.reserve(seq, batch.bytes());
            target.pendingAdmissions.incrementAndGet();
            target.admittedSamples.addAndGet(samples);
            target.admittedPairs.addAndGet(pairs);
            boolean logged = log != null && (door == Door.HTTP || door == Door.IN_PROCESS);
            // Appended in sequence order under the lock; the log completes in that order, so each
            // layer's mailbox receives its batches in order.
            durable = logged ? log.appendBatch(seq, batch) : Admission.DONE;
            if (delivery != null) {
                target.admit(delivery, seq, durable);
            }
            if (!logged) {
                target.post(new LayerMonitor.Apply(batch, seq, ticket, System.nanoTime()));
                return Admission.accepted(seq);
            }
        } finally {
            lock.unlock();
        }
        final LayerMonitor layer = target;
        final Ticket t = ticket;
        // Runs on the log's thread: post only (never take the admission lock there).
        durable.whenComplete((ok, err) -> layer.post(err == null
                ? new LayerMonitor.Apply(batch, t.seq, t, System.nanoTime())
                : new LayerMonitor.Failed(t, batch.windowSamples(), batch.repeatPairs())));
        return Admission.accepted(seq, durable);
    }

    /**
     * Whether a batch of {@code dims} units (with repeat pairs or not) for {@code key} would pass
     * the checks that depend on this monitor (width, limits, budget) now, without admitting
     * anything or counting a refusal: a scale-out ingest node asks the layer's owner before it
     * acknowledges a batch for a layer it has not seen.
     */
    Admission check(LayerKey key, int dims, boolean pairs) {
        if (dims < 1 || dims > config.maxDims()) {
            return Admission.rejected(RejectReason.TOO_MANY_DIMS, "layer " + key + ": " + dims + " units; the limit is "
                    + config.maxDims() + " (max-dims)");
        }
        lock.lock();
        try {
            if (closed) {
                return Admission.rejected(RejectReason.SHUTTING_DOWN, "the monitor is shutting down");
            }
            LayerMonitor target = registry.get(key);
            if (target != null && target.dims != dims) {
                return Admission.rejected(RejectReason.DIMS_MISMATCH, "layer " + key + " has " + target.dims
                        + " units, the batch has " + dims);
            }
            LayerRegistry.Refusal refusal = target == null
                    ? registry.checkNew(key, dims, pairs ? config.crossCostBytes(dims) : 0)
                    : pairs ? registry.checkRepeats(target) : null;
            return refusal == null ? Admission.accepted(-1) : Admission.rejected(refusal.reason(), refusal.message());
        } finally {
            lock.unlock();
        }
    }

    /** Counts a refusal decided here or at an edge (HTTP parameters, decoding). */
    Admission refuse(RejectReason reason, String message) {
        observer.rejected(reason);
        return Admission.rejected(reason, message);
    }

    /** A layer whose every admitted batch failed before any applied: forget it (writer thread). */
    void dropIfUnused(LayerMonitor layer) {
        lock.lock();
        try {
            if (!layer.visible() && layer.pendingAdmissions.get() == 0 && registry.remove(layer, Removal.UNUSED)) {
                layer.post(new LayerMonitor.Remove());
            }
        } finally {
            lock.unlock();
        }
    }

    void attachLog(BatchLog batchLog) {
        lock.lock();
        try {
            this.log = batchLog;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Marks a run's layers ended (its sender finished): they raise no staleness alert and show as
     * ended until one of them is sent a batch again. Returns how many layers the run has (0: no such run).
     */
    int endRun(String run) {
        lock.lock();
        try {
            List<LayerMonitor> layers = registry.ofRun(run);
            layers.forEach(m -> m.ended = true);
            return layers.size();
        } finally {
            lock.unlock();
        }
    }

    // ---- removal --------------------------------------------------------------------------------

    /**
     * Deletes a run: completes with the deletion's sequence number once it is durable (at once
     * without a log), with -1 when there is no such run, exceptionally when the log failed (nothing
     * changed then).
     */
    CompletableFuture<Long> deleteRun(String run) {
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
                remove(m -> m.key.run().equals(run), Removal.DELETED);
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
                    remove(m -> m.key.run().equals(run), Removal.DELETED);
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

    /**
     * Removes the layers {@code which} accepts, for {@code why}: their pending batches are applied
     * first (the removal follows them in each mailbox); returns how many were removed.
     */
    int remove(Predicate<LayerMonitor> which, Removal why) {
        lock.lock();
        try {
            int n = 0;
            for (LayerMonitor m : new ArrayList<>(registry.all())) {
                if (which.test(m) && registry.remove(m, why)) {
                    m.post(new LayerMonitor.Remove());
                    n++;
                }
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A logged deletion during recovery, or a deletion a worker reads from Kafka: removes the run's
     * layers that {@code which} accepts and whose restored state predates {@code seq}.
     */
    void replayDelete(long seq, String run, Predicate<LayerKey> which) {
        lock.lock();
        try {
            lastSeq = Math.max(lastSeq, seq);
            remove(m -> m.key.run().equals(run) && which.test(m.key) && m.restoredSeq < seq, Removal.DELETED);
        } finally {
            lock.unlock();
        }
    }

    // ---- sequence numbers and recovery ----------------------------------------------------------

    long lastSeq() {
        lock.lock();
        try {
            return lastSeq;
        } finally {
            lock.unlock();
        }
    }

    void advanceSequence(long next) {
        lock.lock();
        try {
            lastSeq = Math.max(lastSeq, next - 1);
        } finally {
            lock.unlock();
        }
    }

    long atomically(LongConsumer action) {
        lock.lock();
        try {
            action.accept(lastSeq + 1);
            return lastSeq + 1;
        } finally {
            lock.unlock();
        }
    }

    /** Registers restored layers; throws (registering none) when one is already present. */
    void restore(List<LayerMonitor> restored) {
        lock.lock();
        try {
            for (LayerMonitor m : restored) {
                if (registry.get(m.key) != null) {
                    throw new IllegalStateException("layer " + m.key + " is restored twice");
                }
            }
            for (LayerMonitor m : restored) {
                registry.add(m);
                if (m.hasRepeats()) {
                    registry.chargeRepeats(m);
                }
                lastSeq = Math.max(lastSeq, m.restoredSeq);
                if (m.tickQueued.compareAndSet(false, true)) {
                    m.post(new LayerMonitor.Tick()); // its spectrum, without waiting for the timer
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Posts a capture to every layer {@code which} accepts that holds data or has batches on their
     * way (under the lock, so none is missed); a capture completes with null for a layer that turned
     * out to hold nothing.
     */
    List<CompletableFuture<byte[]>> capture(Predicate<LayerKey> which) {
        List<CompletableFuture<byte[]>> futures = new ArrayList<>();
        lock.lock();
        try {
            for (LayerMonitor m : registry.all()) {
                if ((m.visible() || m.pendingAdmissions.get() > 0) && which.test(m.key)) {
                    CompletableFuture<byte[]> f = new CompletableFuture<>();
                    m.post(new LayerMonitor.Capture(f));
                    futures.add(f);
                }
            }
        } finally {
            lock.unlock();
        }
        return futures;
    }

    boolean awaitAppliedBelow(long mark, Duration timeout) throws InterruptedException {
        return queue.awaitBelow(mark, timeout);
    }

    long memoryCharged() {
        lock.lock();
        try {
            return registry.memoryCharged();
        } finally {
            lock.unlock();
        }
    }

    void close() {
        lock.lock();
        try {
            closed = true;
        } finally {
            lock.unlock();
        }
    }
}
