package org.alphawatch.pipeline;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The layers of a monitor and what they cost: run, layer and width limits and the memory budget.
 * Mutations happen under the monitor's admission lock (the caller holds it); reads ({@link #get},
 * {@link #all}) are lock-free. A layer created for a batch stays hidden from queries until one of
 * its batches is applied, so a batch that is refused later (the log could not write it) leaves no
 * trace.
 */
final class LayerRegistry {
    private final MonitorConfig config;
    private final MonitorObserver observer;
    private final Map<LayerKey, LayerMonitor> layers = new ConcurrentHashMap<>();
    private long memoryCharged;

    /** Why a new layer or its repeats cannot be had, or null. */
    record Refusal(RejectReason reason, String message) {}

    LayerRegistry(MonitorConfig config, MonitorObserver observer) {
        this.config = config;
        this.observer = observer;
    }

    LayerMonitor get(LayerKey key) {
        return layers.get(key);
    }

    Collection<LayerMonitor> all() {
        return layers.values();
    }

    List<LayerMonitor> ofRun(String run) {
        List<LayerMonitor> out = new ArrayList<>();
        for (LayerMonitor m : layers.values()) {
            if (m.key.run().equals(run)) {
                out.add(m);
            }
        }
        return out;
    }

    /** Checks the limits for a new layer of {@code dims} units, plus {@code extraBytes} it needs at once (lock held). */
    Refusal checkNew(LayerKey key, int dims, long extraBytes) {
        if (dims > config.maxDims()) {
            return new Refusal(RejectReason.TOO_MANY_DIMS, "layer " + key + " has " + dims + " units; the limit is "
                    + config.maxDims() + " (max-dims)");
        }
        long runs = layers.keySet().stream().map(LayerKey::run).distinct().count();
        boolean knownRun = layers.keySet().stream().anyMatch(k -> k.run().equals(key.run()));
        if (!knownRun && runs >= config.maxRuns()) {
            return new Refusal(RejectReason.TOO_MANY_RUNS, "already " + runs + " runs (max-runs); delete one first");
        }
        long inRun = layers.keySet().stream().filter(k -> k.run().equals(key.run())).count();
        if (inRun >= config.maxLayersPerRun()) {
            return new Refusal(RejectReason.TOO_MANY_LAYERS, "run " + key.run() + " already has " + inRun
                    + " layers (max-layers-per-run)");
        }
        return checkMemory(config.layerCostBytes(dims) + extraBytes, "a " + dims + "-unit layer");
    }

    /** Checks the budget for a layer's first repeat batch (lock held). */
    Refusal checkRepeats(LayerMonitor layer) {
        return layer.repeatsCharged ? null
                : checkMemory(config.crossCostBytes(layer.dims), "the repeat cross-covariance of " + layer.key);
    }

    private Refusal checkMemory(long cost, String what) {
        if (memoryCharged + cost > config.memoryBudgetBytes()) {
            return new Refusal(RejectReason.MEMORY_BUDGET, String.format(Locale.ROOT,
                    "%s needs %.1f MB of accumulators; %.1f of %.1f MB (memory-budget) are in use", what, cost / 1e6,
                    memoryCharged / 1e6, config.memoryBudgetBytes() / 1e6));
        }
        return null;
    }

    /** Registers a layer and charges its cost (lock held; the caller checked the limits). */
    void add(LayerMonitor layer) {
        layer.chargedBytes = config.layerCostBytes(layer.dims);
        memoryCharged += layer.chargedBytes;
        layers.put(layer.key, layer);
        observer.layerCreated(layer.key, layer.dims, layer.chargedBytes);
    }

    void chargeRepeats(LayerMonitor layer) {
        if (!layer.repeatsCharged) {
            long cost = config.crossCostBytes(layer.dims);
            layer.chargedBytes += cost;
            memoryCharged += cost;
            layer.repeatsCharged = true;
        }
    }

    /** Unregisters a layer and releases its charge (lock held); false when it was not registered. */
    boolean remove(LayerMonitor layer, Removal why) {
        if (!layers.remove(layer.key, layer)) {
            return false;
        }
        memoryCharged -= layer.chargedBytes;
        observer.layerRemoved(layer.key, why);
        return true;
    }

    long memoryCharged() {
        return memoryCharged;
    }
}
