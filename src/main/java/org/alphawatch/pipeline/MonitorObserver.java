package org.alphawatch.pipeline;

/**
 * Hooks through which sinks (metrics, alerting) observe the monitor. Called from pipeline threads;
 * implementations must be fast and thread-safe and must not throw.
 */
public interface MonitorObserver {
    default void layerCreated(LayerKey key, int dims, long costBytes) {}

    default void batchApplied(LayerKey key, int rows, long bytes) {}

    default void rejected(RejectReason reason) {}

    /** A queued refresh was replaced by a newer one before it ran (only the newest matters). */
    default void refreshCoalesced(LayerKey key) {}

    default void snapshot(LayerSnapshot snapshot) {}

    default void layerRemoved(LayerKey key) {}

    MonitorObserver NONE = new MonitorObserver() {};
}
