package org.alphawatch.pipeline;

import java.util.List;

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

    /** A refresh was requested while one was running; they merge into one (only the newest matters). */
    default void refreshCoalesced(LayerKey key) {}

    /** A refresh threw (e.g. the eigen-solver did not converge); the previous snapshot stays, marked. */
    default void refreshFailed(LayerKey key) {}

    /** A refresh finished (mature or not) after {@code seconds} of compute. */
    default void refreshed(LayerKey key, double seconds) {}

    /** A mature snapshot became the layer's current spectrum. */
    default void snapshot(LayerSnapshot snapshot) {}

    default void layerRemoved(LayerKey key, Removal why) {}

    /** A numbered request came again (a client's retry) and was acknowledged without being applied. */
    default void duplicate(LayerKey key) {}

    MonitorObserver NONE = new MonitorObserver() {};

    /** Every observer, in order. */
    static MonitorObserver all(MonitorObserver... observers) {
        List<MonitorObserver> list = List.of(observers);
        return new MonitorObserver() {
            @Override
            public void layerCreated(LayerKey key, int dims, long costBytes) {
                list.forEach(o -> o.layerCreated(key, dims, costBytes));
            }

            @Override
            public void batchApplied(LayerKey key, int rows, long bytes) {
                list.forEach(o -> o.batchApplied(key, rows, bytes));
            }

            @Override
            public void rejected(RejectReason reason) {
                list.forEach(o -> o.rejected(reason));
            }

            @Override
            public void timed(Stage stage, long nanos) {
                list.forEach(o -> o.timed(stage, nanos));
            }

            @Override
            public void refreshCoalesced(LayerKey key) {
                list.forEach(o -> o.refreshCoalesced(key));
            }

            @Override
            public void refreshFailed(LayerKey key) {
                list.forEach(o -> o.refreshFailed(key));
            }

            @Override
            public void refreshed(LayerKey key, double seconds) {
                list.forEach(o -> o.refreshed(key, seconds));
            }

            @Override
            public void snapshot(LayerSnapshot snapshot) {
                list.forEach(o -> o.snapshot(snapshot));
            }

            @Override
            public void layerRemoved(LayerKey key, Removal why) {
                list.forEach(o -> o.layerRemoved(key, why));
            }

            @Override
            public void duplicate(LayerKey key) {
                list.forEach(o -> o.duplicate(key));
            }
        };
    }

    /** Both observers, in order. */
    static MonitorObserver both(MonitorObserver a, MonitorObserver b) {
        return all(a, b);
    }
}
