package org.alphawatch.pipeline;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * The monitor's door for live data (see {@link Monitor}): HTTP ingest, in-process streams and
 * scale-out workers offer batches here, and every one of them is validated, checked against its
 * layer and the limits and budgets, and de-duplicated the same way. Refusals are counted in
 * {@code alphawatch_ingest_rejected_total{reason}}. Thread-safe.
 */
public final class IngestPort implements BatchSink {
    private final LayerTable table;
    private final MonitorObserver observer;

    IngestPort(LayerTable table, MonitorObserver observer) {
        this.table = table;
        this.observer = observer;
    }

    /** Admits a batch without waiting (HTTP: a full queue answers 429); refused, with nothing changed, when a check fails. */
    @Override
    public Admission offer(ActivationBatch batch) {
        try {
            return table.register(batch, LayerTable.Door.HTTP, 0);
        } catch (InterruptedException e) {
            throw new AssertionError("a non-waiting admission was interrupted", e); // never waits
        }
    }

    /** Waits up to {@code timeout} for room in the queue (a Java program in this process: backpressure). */
    public Admission offerBlocking(ActivationBatch batch, Duration timeout) throws InterruptedException {
        return table.register(batch, LayerTable.Door.IN_PROCESS, System.nanoTime() + timeout.toNanos());
    }

    /**
     * A scale-out worker's record: waits for room as long as it takes (the record is already
     * acknowledged; Kafka holds it); never logged (Kafka is the log).
     */
    public Admission offerFromWorker(ActivationBatch batch) throws InterruptedException {
        return table.register(batch, LayerTable.Door.WORKER, Long.MAX_VALUE);
    }

    /**
     * The run is over (its sender said so): its layers raise no staleness alert and show as ended;
     * a later batch reopens it. Returns the number of layers of the run (0: no such run).
     */
    public int endRun(String run) {
        return table.endRun(run);
    }

    @Override
    public CompletableFuture<Long> deleteRun(String run) {
        return table.deleteRun(run);
    }

    /** A scale-out worker's deletion record: the run's layers in the worker's partition {@code which}. */
    public void deleteFromWorker(String run, Predicate<LayerKey> which) {
        table.replayDelete(table.lastSeq() + 1, run, which);
    }

    /**
     * Whether a batch of {@code dims} units for {@code key} would pass this monitor's width, limit
     * and budget checks now (nothing admitted, nothing counted): what a scale-out owner answers an
     * ingest node before the ingest node acknowledges a batch of a layer it has not seen.
     */
    public Admission check(LayerKey key, int dims, boolean pairs) {
        return table.check(key, dims, pairs);
    }

    /** Counts a refusal decided at an edge (HTTP parameters, decoding) and returns it. */
    public Admission reject(RejectReason reason, String message) {
        return table.refuse(reason, message);
    }

    /** Records the time an edge spent decoding a batch. */
    public void decoded(long nanos) {
        observer.timed(MonitorObserver.Stage.DECODE, nanos);
    }
}
