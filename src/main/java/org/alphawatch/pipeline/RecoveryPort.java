package org.alphawatch.pipeline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.function.Predicate;

/**
 * The monitor's door for state admitted before (see {@link Monitor}): durability restores
 * checkpoints and replays the write-ahead log, captures layers for checkpoints and rotates the log
 * at a stable sequence number; scale-out restores and releases the layers of a partition. Limits do
 * not apply (what was accepted stays accepted), the checks on values do. Thread-safe.
 */
public final class RecoveryPort {
    private final LayerTable table;
    private final MonitorConfig config;

    RecoveryPort(LayerTable table, MonitorConfig config) {
        this.table = table;
        this.config = config;
    }

    /** A saved layer that could not be read: which one (when its name could be read), and why. */
    public record Unreadable(int index, String layer, String problem) {}

    /** What {@link #restoreLayers} restored and what it could not read. */
    public record Restored(List<LayerKey> layers, List<Unreadable> unreadable) {}

    /** Makes admitted batches durable through {@code log} before they are applied (call before any ingest). */
    public void attachLog(BatchLog log) {
        table.attachLog(log);
    }

    /** The last sequence number handed out. */
    public long lastSeq() {
        return table.lastSeq();
    }

    /** Never hands out a number below {@code next} again (recovery: the checkpoint's next number). */
    public void advanceSequence(long next) {
        table.advanceSequence(next);
    }

    /** Runs {@code action} with the sequence counter stable (no admission in between); returns the next seq. */
    public long atomically(LongConsumer action) {
        return table.atomically(action);
    }

    /** Waits until every batch with a sequence number below {@code mark} has been applied (or failed). */
    public boolean awaitAppliedBelow(long mark, Duration timeout) throws InterruptedException {
        return table.awaitAppliedBelow(mark, timeout);
    }

    /** Serialized state of every layer, each captured on its own writer (for checkpoints). */
    public List<byte[]> captureLayers(Duration timeout) throws Exception {
        return captureLayers(key -> true, timeout);
    }

    /**
     * Serialized state of the layers {@code which} accepts (a partition's, in scale-out). A layer's
     * writer refuses to serialize state its reader would refuse; that failure fails the capture,
     * naming the layer, so no checkpoint holds what cannot be read back.
     */
    public List<byte[]> captureLayers(Predicate<LayerKey> which, Duration timeout) throws Exception {
        List<byte[]> out = new ArrayList<>();
        for (CompletableFuture<byte[]> f : table.capture(which)) {
            byte[] state = f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (state != null) {
                out.add(state);
            }
        }
        return out;
    }

    /**
     * Asks every layer {@code which} accepts for its state without waiting: each capture follows,
     * in its layer's mailbox, every batch admitted before this call, so together they are the state
     * at this moment of admission (a scale-out worker checkpoints off its poll thread this way). A
     * future completes with null for a layer that held nothing after all.
     */
    public List<CompletableFuture<byte[]>> captureLayersAsync(Predicate<LayerKey> which) {
        return table.capture(which);
    }

    /**
     * Re-creates layers from {@link #captureLayers} bytes (before any ingest to them). Each state is
     * decoded and validated on its own: the readable ones are registered, the unreadable ones are
     * returned (a bad layer costs only that layer). Throws when a layer is restored twice.
     */
    public Restored restoreLayers(List<byte[]> states) {
        List<LayerMonitor> restored = new ArrayList<>();
        List<Unreadable> bad = new ArrayList<>();
        for (int i = 0; i < states.size(); i++) {
            try {
                restored.add(LayerMonitor.restore(LayerState.read(states.get(i), config), table.context()));
            } catch (RuntimeException e) {
                bad.add(new Unreadable(i, LayerState.peekName(states.get(i)), e.getMessage()));
            }
        }
        table.restore(restored);
        return new Restored(restored.stream().map(m -> m.key).toList(), bad);
    }

    /** Whether a state decodes (without registering anything): for choosing among saved copies. */
    public boolean readable(byte[] state) {
        try {
            LayerState.read(state, config);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The layer a saved state names, or null when even that cannot be read. */
    public static String layerName(byte[] state) {
        return LayerState.peekName(state);
    }

    /**
     * Re-applies a logged batch during recovery (see {@link LayerTable#replay}): accepted, a
     * duplicate of what the restored state holds, or refused by the checks (counted; the caller
     * reports it).
     */
    public Admission replay(long seq, ActivationBatch batch) throws InterruptedException {
        return table.replay(seq, batch);
    }

    /** A logged run deletion during recovery: removes the run's layers restored from before it. */
    public void replayDelete(long seq, String run) {
        table.replayDelete(seq, run, key -> true);
    }

    /**
     * Lets go of the layers {@code which} accepts without deleting anything durable (scale-out: a
     * partition moved to another worker, which restores them from its checkpoint). Alert state and
     * thresholds stay.
     */
    public void releaseLayers(Predicate<LayerKey> which) {
        table.remove(m -> which.test(m.key), Removal.RELEASED);
    }
}
