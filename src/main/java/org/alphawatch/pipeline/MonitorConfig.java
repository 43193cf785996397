package org.alphawatch.pipeline;

import java.time.Duration;
import org.alphawatch.core.code.Capacity;
import org.alphawatch.core.fit.FitWindow;

/**
 * Settings of the streaming monitor; validated on construction with messages that name the
 * setting. Defaults are in {@link #defaults()} and documented in docs/configuration.md.
 *
 * @param window          which samples a spectrum describes
 * @param windowSamples   W: tumbling window size, or decay half-life, in samples (ignored for cumulative)
 * @param refreshSamples  recompute after this many new samples (0: only on the timer / window close)
 * @param refreshInterval recompute at least this often when there are new samples (zero: off)
 * @param fitWindow       fixed fit window, or null for the default rules
 * @param ciGroups        jackknife groups for the alpha interval (0 or 1: no interval); each costs
 *                        an accumulator and an eigen-decomposition per refresh
 * @param queueBatches    batches admitted but not yet applied, across all layers; beyond: 429
 * @param queueBytes      bytes of such batches; beyond: 429
 * @param maxBodyBytes    largest accepted request body; beyond: 413
 * @param memoryBudgetBytes accumulator memory for all layers; a new layer beyond it is refused
 * @param maxRuns         runs held at once
 * @param maxLayersPerRun layers per run
 * @param maxDims         units per layer
 * @param historySize     snapshots of alpha and metrics kept per layer
 * @param inputDim        input manifold dimension for the smoothness margin (0: unknown)
 * @param bits            bits per unit for capacity/redundancy
 * @param topK            compute only the largest topK eigenvalues of wide layers (0: all)
 */
public record MonitorConfig(WindowMode window, long windowSamples, long refreshSamples, Duration refreshInterval,
                            FitWindow fitWindow, int ciGroups, int queueBatches, long queueBytes, long maxBodyBytes,
                            long memoryBudgetBytes, int maxRuns, int maxLayersPerRun, int maxDims, int historySize,
                            int inputDim, double bits, int topK) {
    public MonitorConfig {
        require(window != null, "window must be set");
        require(window == WindowMode.CUMULATIVE || windowSamples >= 2, "window-size " + windowSamples + " must be >= 2");
        require(refreshSamples >= 0, "refresh-samples " + refreshSamples + " must be >= 0");
        require(refreshInterval != null && !refreshInterval.isNegative(), "refresh-seconds must be >= 0");
        require(refreshSamples > 0 || !refreshInterval.isZero() || window == WindowMode.TUMBLING,
                "set refresh-samples or refresh-seconds (or use the tumbling window), or spectra never refresh");
        require(ciGroups >= 0 && ciGroups <= 32, "ci-groups " + ciGroups + " must be within 0..32");
        require(queueBatches >= 1, "queue-batches " + queueBatches + " must be >= 1");
        require(queueBytes >= 1024, "queue-bytes " + queueBytes + " must be >= 1024");
        require(maxBodyBytes >= 1024, "max-body-bytes " + maxBodyBytes + " must be >= 1024");
        require(memoryBudgetBytes >= 1 << 20, "memory-budget " + memoryBudgetBytes + " must be >= 1 MiB");
        require(maxRuns >= 1, "max-runs must be >= 1");
        require(maxLayersPerRun >= 1, "max-layers-per-run must be >= 1");
        require(maxDims >= 2 && maxDims <= 16_384, "max-dims " + maxDims + " must be within 2..16384");
        require(historySize >= 1, "history-size must be >= 1");
        require(inputDim >= 0, "input-dim " + inputDim + " must be >= 1 (or 0 for unknown)");
        require(bits > 0, "bits " + bits + " must be > 0");
        require(topK == 0 || topK >= 50, "top-k " + topK + " must be 0 (all) or >= 50");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    public static MonitorConfig defaults() {
        long heap = Runtime.getRuntime().maxMemory();
        return new MonitorConfig(WindowMode.TUMBLING, 4096, 0, Duration.ofSeconds(10), null, 4, 256, 256L << 20,
                64L << 20, Math.max(1L << 20, heap / 2), 64, 256, 8192, 1000, 0, Capacity.DEFAULT_BITS, 0);
    }

    /** Accumulator shards per layer: the jackknife groups, or one. */
    public int shards() {
        return Math.max(1, ciGroups);
    }

    /**
     * Memory charged to a layer of m units: its shards, the copies a refresh takes, and a
     * cross-covariance for repeats (two m x m matrices).
     */
    public long layerCostBytes(int dims) {
        return (2L * shards() + 2) * 8L * dims * dims;
    }

    public MonitorConfig withWindow(WindowMode mode, long samples) {
        return new MonitorConfig(mode, samples, refreshSamples, refreshInterval, fitWindow, ciGroups, queueBatches,
                queueBytes, maxBodyBytes, memoryBudgetBytes, maxRuns, maxLayersPerRun, maxDims, historySize, inputDim, bits, topK);
    }

    public MonitorConfig withRefresh(long samples, Duration interval) {
        return new MonitorConfig(window, windowSamples, samples, interval, fitWindow, ciGroups, queueBatches,
                queueBytes, maxBodyBytes, memoryBudgetBytes, maxRuns, maxLayersPerRun, maxDims, historySize, inputDim, bits, topK);
    }

    public MonitorConfig withQueue(int batches, long bytes) {
        return new MonitorConfig(window, windowSamples, refreshSamples, refreshInterval, fitWindow, ciGroups, batches,
                bytes, maxBodyBytes, memoryBudgetBytes, maxRuns, maxLayersPerRun, maxDims, historySize, inputDim, bits, topK);
    }

    public MonitorConfig withCiGroups(int groups) {
        return new MonitorConfig(window, windowSamples, refreshSamples, refreshInterval, fitWindow, groups, queueBatches,
                queueBytes, maxBodyBytes, memoryBudgetBytes, maxRuns, maxLayersPerRun, maxDims, historySize, inputDim, bits, topK);
    }

    public MonitorConfig withLimits(long maxBody, long memoryBudget, int runs, int layersPerRun, int dims) {
        return new MonitorConfig(window, windowSamples, refreshSamples, refreshInterval, fitWindow, ciGroups, queueBatches,
                queueBytes, maxBody, memoryBudget, runs, layersPerRun, dims, historySize, inputDim, bits, topK);
    }

    public MonitorConfig withFit(FitWindow fit, int dim, double bitsPerUnit) {
        return new MonitorConfig(window, windowSamples, refreshSamples, refreshInterval, fit, ciGroups, queueBatches,
                queueBytes, maxBodyBytes, memoryBudgetBytes, maxRuns, maxLayersPerRun, maxDims, historySize, dim, bitsPerUnit, topK);
    }

    public MonitorConfig withTopK(int k) {
        return new MonitorConfig(window, windowSamples, refreshSamples, refreshInterval, fitWindow, ciGroups, queueBatches,
                queueBytes, maxBodyBytes, memoryBudgetBytes, maxRuns, maxLayersPerRun, maxDims, historySize, inputDim, bits, k);
    }
}
