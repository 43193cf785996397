package org.alphawatch.core.window;

/**
 * The shape of a layer's window.
 *
 * @param mode       sliding, cumulative or decay
 * @param samples    sliding: window length W in samples (panes of {@code ceil(W / groups)}); decay:
 *                   half-life in samples; cumulative: unused (0)
 * @param groups     sliding: panes k; cumulative and decay: jackknife groups G. Each group is one
 *                   accumulator; the alpha interval is a leave-one-group-out jackknife (1: none)
 * @param blockRows  cumulative and decay: consecutive rows that go to one group before the next
 *                   group takes over (row i belongs to group {@code (i / blockRows) mod G}), so the
 *                   groups interleave in time; the same rule as {@code analyze}
 * @param includeOpen sliding: the window also holds the pane being filled (fresher, but its last
 *                   pane is partial); default false: closed panes only
 */
public record WindowSpec(WindowMode mode, long samples, int groups, int blockRows, boolean includeOpen) {
    /** Largest number of groups (panes); each costs one d x d accumulator. */
    public static final int MAX_GROUPS = 32;
    public static final int DEFAULT_BLOCK_ROWS = 256;

    public WindowSpec {
        if (mode == null) {
            throw new IllegalArgumentException("window mode must be set");
        }
        if (groups < 1 || groups > MAX_GROUPS) {
            throw new IllegalArgumentException((mode == WindowMode.SLIDING ? "panes " : "groups ") + groups
                    + " must be within 1.." + MAX_GROUPS);
        }
        if (blockRows < 1) {
            throw new IllegalArgumentException("block rows " + blockRows + " must be >= 1");
        }
        switch (mode) {
            case SLIDING -> {
                if (samples < 2L * groups) {
                    throw new IllegalArgumentException("a sliding window of " + samples + " samples cannot hold "
                            + groups + " panes of at least 2 samples");
                }
            }
            case DECAY -> {
                if (samples < 2) {
                    throw new IllegalArgumentException("decay half-life " + samples + " must be >= 2 samples");
                }
            }
            case CUMULATIVE -> { }
        }
        if (includeOpen && mode != WindowMode.SLIDING) {
            throw new IllegalArgumentException("include-open applies to the sliding window only");
        }
    }

    public static WindowSpec sliding(long samples, int panes) {
        return new WindowSpec(WindowMode.SLIDING, samples, panes, DEFAULT_BLOCK_ROWS, false);
    }

    public static WindowSpec cumulative(int groups) {
        return new WindowSpec(WindowMode.CUMULATIVE, 0, groups, DEFAULT_BLOCK_ROWS, false);
    }

    public static WindowSpec decay(long halfLife, int groups) {
        return new WindowSpec(WindowMode.DECAY, halfLife, groups, DEFAULT_BLOCK_ROWS, false);
    }

    public WindowSpec withIncludeOpen(boolean open) {
        return new WindowSpec(mode, samples, groups, blockRows, open);
    }

    public WindowSpec withBlockRows(int rows) {
        return new WindowSpec(mode, samples, groups, rows, includeOpen);
    }

    /**
     * The most samples a partial accumulator (merged whole) may hold and keep the window's span
     * exact: a sliding window's pane, an eighth of a decay half-life; 0: no limit (cumulative).
     */
    public long maxPartialSamples() {
        return switch (mode) {
            case SLIDING -> paneSamples();
            case DECAY -> Math.max(1, samples / 8);
            case CUMULATIVE -> 0;
        };
    }

    /** Samples per pane of a sliding window. */
    public long paneSamples() {
        return (samples + groups - 1) / groups;
    }

    /**
     * Accumulators a window of this shape allocates at most: for sliding, the k closed panes, the
     * open one, two spares that let a refresh keep panes the ring has dropped, and a copy of the
     * open pane when it is included; otherwise the G live groups and the G copies a refresh reads.
     */
    public int maxAccumulators() {
        return mode == WindowMode.SLIDING ? groups + 3 + (includeOpen ? 1 : 0) : 2 * groups;
    }
}
