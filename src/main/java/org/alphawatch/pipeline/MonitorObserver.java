package org.alphawatch.pipeline;

/**
 * Hooks through which sinks (metrics, alerting) observe the monitor. Called from pipeline threads;
 * implementations must be fast and thread-safe and must not throw.
 */
public interface MonitorObserver {
    default void layerCreated(LayerKey key, int dims, long costBytes) {}

    default void batchApplied(LayerKey key, int rows, long bytes) {}

    default void rejected(RejectReason reason) {}

    /** Where ingest time goes: the stages of one batch, in nanoseconds. */
    enum Stage { DECODE, QUEUE_WAIT, APPLY }

    default void timed(Stage stage, long nanos) {}

    /** A queued refresh was replaced by a newer one before it ran (only the newest matters). */
    default void refreshCoalesced(LayerKey key) {}

    default void snapshot(LayerSnapshot snapshot) {}

    default void layerRemoved(LayerKey key) {}

    MonitorObserver NONE = new MonitorObserver() {};

    /** Both observers, in order. */
    static MonitorObserver both(MonitorObserver a, MonitorObserver b) {
        return new MonitorObserver() {
            @Override
            public void layerCreated(LayerKey key, int dims, long costBytes) {
                a.layerCreated(key, dims, costBytes);
                b.layerCreated(key, dims, costBytes);
            }

            @Override
            public void batchApplied(LayerKey key, int rows, long bytes) {
                a.batchApplied(key, rows, bytes);
                b.batchApplied(key, rows, bytes);
            }

            @Override
            public void rejected(RejectReason reason) {
                a.rejected(reason);
                b.rejected(reason);
            }

            @Override
            public void timed(Stage stage, long nanos) {
                a.timed(stage, nanos);
                b.timed(stage, nanos);
            }

            @Override
            public void refreshCoalesced(LayerKey key) {
                a.refreshCoalesced(key);
                b.refreshCoalesced(key);
            }

            @Override
            public void snapshot(LayerSnapshot snapshot) {
                a.snapshot(snapshot);
                b.snapshot(snapshot);
            }

            @Override
            public void layerRemoved(LayerKey key) {
                a.layerRemoved(key);
                b.layerRemoved(key);
            }
        };
    }
}
