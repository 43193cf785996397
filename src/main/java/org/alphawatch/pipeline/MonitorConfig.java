package org.alphawatch.pipeline;

import java.time.Duration;
import org.alphawatch.core.code.Capacity;
import org.alphawatch.core.fit.FitWindow;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.core.stat.CrossCovarianceAccumulator;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.core.window.WindowSpec;

/**
 * Settings of the streaming monitor; validated on construction with messages that name the
 * setting. Build them with {@link #builder()} or {@link #toBuilder()}; defaults are documented in
 * docs/configuration.md.
 *
 * @param window          which samples a spectrum describes
 * @param windowSamples   sliding: window length in samples; decay: half-life; 0: sized from the
 *                        layer's width ({@value #AUTO_WINDOW_PER_UNIT} samples per unit)
 * @param ciGroups        groups of the alpha interval: the panes of a sliding window, or the
 *                        interleaved row groups of cumulative and decay windows (1: no interval);
 *                        each is a d x d accumulator
 * @param minSamples      a snapshot is mature when its window holds this many samples; 0: from the
 *                        width ({@value #AUTO_MIN_SAMPLES_PER_UNIT} per unit, docs/reading-the-metrics.md)
 * @param includeOpen     sliding: the window also includes the pane being filled
 * @param refreshSamples  recompute after this many new samples (0: off)
 * @param refreshInterval recompute at least this often when the window changed (zero: off)
 * @param fitWindow       fixed fit window, or null for the default rules
 * @param queueBatches    batches admitted but not yet applied, across all layers; beyond: 429
 * @param queueBytes      bytes of such batches; beyond: 429
 * @param maxBodyBytes    largest accepted request body; beyond: 413
 * @param memoryBudgetBytes accumulator memory for all layers; a new layer beyond it is refused
 * @param maxRuns         runs held at once
 * @param maxLayersPerRun layers per run
 * @param maxDims         units per layer
 * @param historySize     mature snapshots of alpha and metrics kept per layer
 * @param inputDim        input manifold dimension for the smoothness margin (0: unknown)
 * @param bits            bits per unit for capacity/redundancy
 * @param topK            compute only the largest topK eigenvalues of wide layers (0: all)
 */
public record MonitorConfig(WindowMode window, long windowSamples, int ciGroups, long minSamples, boolean includeOpen,
                            long refreshSamples, Duration refreshInterval, FitWindow fitWindow, int queueBatches,
                            long queueBytes, long maxBodyBytes, long memoryBudgetBytes, int maxRuns,
                            int maxLayersPerRun, int maxDims, int historySize, int inputDim, double bits, int topK) {
    /** Automatic window: 16 samples per unit, where alpha's finite-sample bias is about +0.02 (d = 256). */
    public static final int AUTO_WINDOW_PER_UNIT = 16;
    /** Automatic maturity: 10 samples per unit, where the bias is +0.04 (d = 256) to +0.1 (d = 64). */
    public static final int AUTO_MIN_SAMPLES_PER_UNIT = 10;
    /** Largest layer width the service accepts (the accumulator format allows more). */
    public static final int MAX_DIMS_LIMIT = CovarianceAccumulator.MAX_DIMS;
    /** Senders (the {@code source} parameter) a layer counts by name; more are counted as "(other)". */
    public static final int MAX_SOURCES_PER_LAYER = 256;
    /**
     * Numbered senders (exactly-once delivery) a layer remembers; beyond, the least recently heard
     * is forgotten, and a retry of its old request would be applied again. Bounds state at about
     * 100 bytes per sender.
     */
    public static final int MAX_SENDERS_PER_LAYER = 1024;
    /** Senders whose repeat 0 may wait for its repeat 1 at once, per layer; more repeat 0s are refused. */
    public static final int MAX_WAITING_REPEAT_SENDERS = 64;
    /** d x d buffers a refresh of a layer works in (the merged window and the solver's copy). */
    static final int REFRESH_BUFFERS = 2;

    public MonitorConfig {
        require(window != null, "window must be set");
        require(windowSamples >= 0, "window-size " + windowSamples + " must be >= 0 (0: from the layer's width)");
        require(ciGroups >= 1 && ciGroups <= WindowSpec.MAX_GROUPS, "ci-groups " + ciGroups + " must be within 1.."
                + WindowSpec.MAX_GROUPS);
        require(window != WindowMode.SLIDING || windowSamples == 0 || windowSamples >= 2L * ciGroups,
                "window-size " + windowSamples + " cannot hold " + ciGroups + " panes (ci-groups) of 2 samples");
        require(window != WindowMode.DECAY || windowSamples == 0 || windowSamples >= 2,
                "window-size (decay half-life) " + windowSamples + " must be >= 2");
        require(!includeOpen || window == WindowMode.SLIDING, "include-open applies to the sliding window only");
        require(minSamples >= 0, "min-samples " + minSamples + " must be >= 0 (0: from the layer's width)");
        require(refreshSamples >= 0, "refresh-samples " + refreshSamples + " must be >= 0");
        require(refreshInterval != null && !refreshInterval.isNegative(), "refresh-seconds must be >= 0");
        require(refreshSamples > 0 || !refreshInterval.isZero(),
                "set refresh-samples or refresh-seconds, or spectra never refresh");
        require(queueBatches >= 1, "queue-batches " + queueBatches + " must be >= 1");
        require(queueBytes >= 1024, "queue-bytes " + queueBytes + " must be >= 1024");
        require(maxBodyBytes >= 1024, "max-body-bytes " + maxBodyBytes + " must be >= 1024");
        require(memoryBudgetBytes >= 1 << 20, "memory-budget " + memoryBudgetBytes + " must be >= 1 MiB");
        require(maxRuns >= 1, "max-runs must be >= 1");
        require(maxLayersPerRun >= 1, "max-layers-per-run must be >= 1");
        require(maxDims >= 2 && maxDims <= MAX_DIMS_LIMIT, "max-dims " + maxDims + " must be within 2.." + MAX_DIMS_LIMIT);
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
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** These settings with a sender's choices for one layer (null: unchanged). */
    public MonitorConfig forLayer(LayerOptions o) {
        if (o == null || o.isDefault()) {
            return this;
        }
        return toBuilder().windowSamples(o.windowSamples() > 0 ? o.windowSamples() : windowSamples)
                .minSamples(o.minSamples() > 0 ? o.minSamples() : minSamples).build();
    }

    /** The window a layer of {@code dims} units gets. */
    public WindowSpec windowSpec(int dims) {
        return switch (window) {
            case SLIDING -> WindowSpec.sliding(windowSamples > 0 ? windowSamples
                    : Math.max((long) AUTO_WINDOW_PER_UNIT * dims, 2L * ciGroups), ciGroups).withIncludeOpen(includeOpen);
            case CUMULATIVE -> WindowSpec.cumulative(ciGroups);
            // A half-life of 16 d ln 2 samples weighs about 16 d samples in all.
            case DECAY -> WindowSpec.decay(windowSamples > 0 ? windowSamples
                    : Math.max(2, Math.round(AUTO_WINDOW_PER_UNIT * dims * Math.log(2))), ciGroups);
        };
    }

    /**
     * Samples a layer's window needs before its snapshots are mature: the setting, or 10 per unit;
     * never more than an explicitly set sliding window holds (such snapshots carry the
     * {@code undersampled} flag instead).
     */
    public long minSamples(int dims) {
        if (minSamples > 0) {
            return minSamples;
        }
        long auto = (long) AUTO_MIN_SAMPLES_PER_UNIT * dims;
        return window == WindowMode.SLIDING && windowSamples > 0 ? Math.min(auto, windowSamples) : auto;
    }

    /**
     * Memory charged to a layer of {@code dims} units: the most accumulators its window allocates
     * and the buffers of its refresh. Cross-covariances of repeat passes are charged when the first
     * repeat arrives ({@link #crossCostBytes}).
     */
    public long layerCostBytes(int dims) {
        return (windowSpec(dims).maxAccumulators() + REFRESH_BUFFERS) * CovarianceAccumulator.stateBytes(dims);
    }

    /** Memory of a layer's repeat cross-covariances: the current and previous window, and a refresh's copy. */
    public long crossCostBytes(int dims) {
        return 3 * CrossCovarianceAccumulator.stateBytes(dims);
    }

    public MonitorConfig withWindow(WindowMode mode, long samples) {
        return toBuilder().window(mode).windowSamples(samples).build();
    }

    public MonitorConfig withRefresh(long samples, Duration interval) {
        return toBuilder().refreshSamples(samples).refreshInterval(interval).build();
    }

    public MonitorConfig withQueue(int batches, long bytes) {
        return toBuilder().queueBatches(batches).queueBytes(bytes).build();
    }

    public MonitorConfig withCiGroups(int groups) {
        return toBuilder().ciGroups(groups).build();
    }

    public MonitorConfig withMinSamples(long samples) {
        return toBuilder().minSamples(samples).build();
    }

    public MonitorConfig withLimits(long maxBody, long memoryBudget, int runs, int layersPerRun, int dims) {
        return toBuilder().maxBodyBytes(maxBody).memoryBudgetBytes(memoryBudget).maxRuns(runs)
                .maxLayersPerRun(layersPerRun).maxDims(dims).build();
    }

    public MonitorConfig withFit(FitWindow fit, int dim, double bitsPerUnit) {
        return toBuilder().fitWindow(fit).inputDim(dim).bits(bitsPerUnit).build();
    }

    public MonitorConfig withTopK(int k) {
        return toBuilder().topK(k).build();
    }

    /** Mutable builder; every field starts at its default. */
    public static final class Builder {
        private WindowMode window = WindowMode.SLIDING;
        private long windowSamples;
        private int ciGroups = 8;
        private long minSamples;
        private boolean includeOpen;
        private long refreshSamples;
        private Duration refreshInterval = Duration.ofSeconds(10);
        private FitWindow fitWindow;
        private int queueBatches = 256;
        private long queueBytes = 256L << 20;
        private long maxBodyBytes = 64L << 20;
        private long memoryBudgetBytes = Math.max(1L << 20, Runtime.getRuntime().maxMemory() / 2);
        private int maxRuns = 64;
        private int maxLayersPerRun = 256;
        private int maxDims = 8192;
        private int historySize = 1000;
        private int inputDim;
        private double bits = Capacity.DEFAULT_BITS;
        private int topK;

        Builder() {}

        Builder(MonitorConfig c) {
            window = c.window;
            windowSamples = c.windowSamples;
            ciGroups = c.ciGroups;
            minSamples = c.minSamples;
            includeOpen = c.includeOpen;
            refreshSamples = c.refreshSamples;
            refreshInterval = c.refreshInterval;
            fitWindow = c.fitWindow;
            queueBatches = c.queueBatches;
            queueBytes = c.queueBytes;
            maxBodyBytes = c.maxBodyBytes;
            memoryBudgetBytes = c.memoryBudgetBytes;
            maxRuns = c.maxRuns;
            maxLayersPerRun = c.maxLayersPerRun;
            maxDims = c.maxDims;
            historySize = c.historySize;
            inputDim = c.inputDim;
            bits = c.bits;
            topK = c.topK;
        }

        public Builder window(WindowMode v) { window = v; return this; }
        public Builder windowSamples(long v) { windowSamples = v; return this; }
        public Builder ciGroups(int v) { ciGroups = v; return this; }
        public Builder minSamples(long v) { minSamples = v; return this; }
        public Builder includeOpen(boolean v) { includeOpen = v; return this; }
        public Builder refreshSamples(long v) { refreshSamples = v; return this; }
        public Builder refreshInterval(Duration v) { refreshInterval = v; return this; }
        public Builder fitWindow(FitWindow v) { fitWindow = v; return this; }
        public Builder queueBatches(int v) { queueBatches = v; return this; }
        public Builder queueBytes(long v) { queueBytes = v; return this; }
        public Builder maxBodyBytes(long v) { maxBodyBytes = v; return this; }
        public Builder memoryBudgetBytes(long v) { memoryBudgetBytes = v; return this; }
        public Builder maxRuns(int v) { maxRuns = v; return this; }
        public Builder maxLayersPerRun(int v) { maxLayersPerRun = v; return this; }
        public Builder maxDims(int v) { maxDims = v; return this; }
        public Builder historySize(int v) { historySize = v; return this; }
        public Builder inputDim(int v) { inputDim = v; return this; }
        public Builder bits(double v) { bits = v; return this; }
        public Builder topK(int v) { topK = v; return this; }

        public MonitorConfig build() {
            return new MonitorConfig(window, windowSamples, ciGroups, minSamples, includeOpen, refreshSamples,
                    refreshInterval, fitWindow, queueBatches, queueBytes, maxBodyBytes, memoryBudgetBytes, maxRuns,
                    maxLayersPerRun, maxDims, historySize, inputDim, bits, topK);
        }
    }
}
