package org.alphawatch.core.window;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.alphawatch.core.format.BinaryReader;
import org.alphawatch.core.format.BinaryWriter;
import org.alphawatch.core.format.FormatException;
import org.alphawatch.core.stat.CovarianceAccumulator;

/**
 * The covariance of a layer's window as a set of mergeable group accumulators (DESIGN.md 4): the
 * exact union of the groups is the window's covariance, and leaving one group out gives the
 * jackknife replicates of the alpha interval.
 *
 * <ul>
 * <li>{@code sliding}: a ring of panes of {@code ceil(W / k)} samples. The window is the last k
 * closed panes (plus the open one with {@code includeOpen}); when a pane closes, the oldest leaves.
 * Nothing ever drops the whole window.</li>
 * <li>{@code cumulative} and {@code decay}: G groups; row i of the stream goes to group
 * {@code (i / blockRows) mod G}. {@code decay} multiplies every weight by {@code 0.5^(rows / H)}
 * before adding rows.</li>
 * </ul>
 *
 * <p>Threading: one writer thread calls everything except {@link WindowView#close()}, which the
 * refresh calls from its own thread. A {@link #view()} references closed panes instead of copying
 * them (they are immutable until the last reader releases them); cumulative and decay groups are
 * copied into buffers owned by this object. At most one view is out at a time. Memory is bounded by
 * {@link WindowSpec#maxAccumulators()}: when no spare pane is free because a refresh still holds
 * old ones, the open pane keeps filling past its size instead of allocating (the window stays
 * exact; that pane is just longer). Updates allocate nothing once the panes exist.
 */
public final class WindowedCovariance {
    private static final int STATE_MAGIC = 0x4e575741; // "AWWN" little-endian
    private static final int STATE_VERSION = 1;

    /** A pane of a sliding window, or a group of the other modes. */
    private static final class Pane {
        final CovarianceAccumulator acc;
        long firstSample;
        long stepMin = Long.MAX_VALUE;
        long stepMax = -1;
        /** One reference for the ring (or the open slot), one per view that holds the pane. */
        final AtomicInteger refs = new AtomicInteger(1);

        Pane(int dims) {
            acc = CovarianceAccumulator.create(dims);
        }

        void reset(long first) {
            acc.reset();
            firstSample = first;
            stepMin = Long.MAX_VALUE;
            stepMax = -1;
            refs.set(1);
        }

        void steps(long step) {
            stepMin = Math.min(stepMin, step);
            stepMax = Math.max(stepMax, step);
        }
    }

    private final int dims;
    private final WindowSpec spec;
    private long totalSamples;
    private long version;
    private final AtomicBoolean viewOut = new AtomicBoolean();

    // sliding
    private final long paneSamples;
    private final ArrayDeque<Pane> closed = new ArrayDeque<>();
    private Pane open;
    private final ConcurrentLinkedQueue<Pane> free = new ConcurrentLinkedQueue<>();
    private int allocatedPanes;
    private CovarianceAccumulator openCopy;

    // cumulative, decay
    private final Pane[] groups;
    private final CovarianceAccumulator[] copies;
    private long rowsInGroups;

    private WindowedCovariance(int dims, WindowSpec spec, boolean allocate) {
        this.dims = dims;
        this.spec = spec;
        if (spec.mode() == WindowMode.SLIDING) {
            paneSamples = spec.paneSamples();
            groups = null;
            copies = null;
            if (allocate) {
                open = newPane();
            }
        } else {
            paneSamples = 0;
            groups = new Pane[spec.groups()];
            copies = new CovarianceAccumulator[spec.groups()];
            for (int g = 0; g < groups.length; g++) {
                groups[g] = new Pane(dims);
            }
        }
    }

    public static WindowedCovariance create(int dims, WindowSpec spec) {
        return new WindowedCovariance(dims, spec, true);
    }

    /**
     * A cumulative or decay window made of existing group accumulators (state saved before windows
     * had panes); they are copied, the window continues with the next group.
     */
    public static WindowedCovariance ofGroups(int dims, WindowSpec spec, List<CovarianceAccumulator> parts,
                                              long stepMin, long stepMax) {
        if (spec.mode() == WindowMode.SLIDING || parts.size() != spec.groups()) {
            throw new IllegalArgumentException(parts.size() + " groups for " + spec);
        }
        WindowedCovariance w = new WindowedCovariance(dims, spec, true);
        for (int g = 0; g < parts.size(); g++) {
            w.groups[g].acc.copyFrom(parts.get(g));
            w.groups[g].stepMin = stepMin;
            w.groups[g].stepMax = stepMax;
            w.totalSamples += parts.get(g).count();
        }
        w.rowsInGroups = w.totalSamples;
        w.version = 1;
        return w;
    }

    public int dims() {
        return dims;
    }

    public WindowSpec spec() {
        return spec;
    }

    /** Samples added since creation (rows, and the counts of merged partial accumulators). */
    public long totalSamples() {
        return totalSamples;
    }

    /** Changes whenever what a {@link #view()} would hold changes. */
    public long version() {
        return version;
    }

    /** Samples a view taken now would hold (for decay: the rounded sum of weights). */
    public long windowSamples() {
        if (spec.mode() == WindowMode.SLIDING) {
            long n = spec.includeOpen() ? open.acc.count() : 0;
            for (Pane p : closed) {
                n += p.acc.count();
            }
            return n;
        }
        if (spec.mode() == WindowMode.DECAY) {
            return Math.round(weight());
        }
        return totalSamples;
    }

    private double weight() {
        double w = 0;
        for (Pane g : groups) {
            w += g.acc.weight();
        }
        return w;
    }

    /** Accumulators allocated so far (each {@link CovarianceAccumulator#stateBytes} bytes). */
    public int allocatedAccumulators() {
        if (spec.mode() == WindowMode.SLIDING) {
            return allocatedPanes + (openCopy == null ? 0 : 1);
        }
        int n = groups.length;
        for (CovarianceAccumulator c : copies) {
            n += c == null ? 0 : 1;
        }
        return n;
    }

    /** Adds {@code rows} row-major samples from {@code data[offset..]} taken at training step {@code step}. */
    public void update(float[] data, int offset, int rows, long step) {
        add(null, data, offset, rows, step);
    }

    public void update(double[] data, int offset, int rows, long step) {
        add(data, null, offset, rows, step);
    }

    private void add(double[] d, float[] f, int offset, int rows, long step) {
        if (offset < 0 || rows < 0 || (long) offset + (long) rows * dims > (d != null ? d.length : f.length)) {
            throw new IllegalArgumentException(rows + " rows x " + dims + " at offset " + offset + " do not fit the array");
        }
        checkRoom(rows);
        int from = 0;
        while (from < rows) {
            int take;
            Pane target;
            if (spec.mode() == WindowMode.SLIDING) {
                long room = paneSamples - open.acc.count();
                if (room <= 0 && closeOpen()) {
                    continue;
                }
                take = room <= 0 ? rows - from : (int) Math.min(rows - from, room);
                target = open;
            } else {
                int block = spec.blockRows();
                target = groups[(int) ((rowsInGroups / block) % groups.length)];
                // One group needs no block boundaries: a batch stays one chunk (one decay step).
                take = groups.length == 1 ? rows - from : (int) Math.min(rows - from, block - rowsInGroups % block);
                decay(take);
                rowsInGroups += take;
            }
            int at = offset + from * dims;
            if (d != null) {
                target.acc.update(d, at, take);
            } else {
                target.acc.update(f, at, take);
            }
            target.steps(step);
            from += take;
            totalSamples += take;
            changed(target);
        }
    }

    /**
     * Adds a partial accumulator (the sufficient statistics of rows aggregated elsewhere) as one
     * unit: it goes whole into the open pane or the current group ({@code partial} not modified).
     * A partial that does not fit in the open pane's room closes that pane first, so a pane never
     * holds more than its share unless one partial does ({@link WindowSpec#maxPartialSamples()}).
     */
    public void merge(CovarianceAccumulator partial, long stepMin, long stepMax) {
        if (partial.dims() != dims) {
            throw new IllegalArgumentException("a partial of " + partial.dims() + " dims for a " + dims + "-dim window");
        }
        if (partial.count() == 0) {
            return;
        }
        checkRoom(partial.count());
        Pane target;
        if (spec.mode() == WindowMode.SLIDING) {
            long filled = open.acc.count();
            if (filled >= paneSamples || (filled > 0 && filled + partial.count() > paneSamples)) {
                closeOpen();
            }
            target = open;
        } else {
            target = groups[(int) ((rowsInGroups / spec.blockRows()) % groups.length)];
            decay(partial.count());
            rowsInGroups += partial.count();
        }
        target.acc.merge(partial);
        target.steps(stepMin);
        target.steps(stepMax);
        totalSamples += partial.count();
        changed(target);
    }

    /** Refuses, before anything changes, samples that would take the total past {@link CovarianceAccumulator#MAX_COUNT}. */
    private void checkRoom(long samples) {
        if (samples > CovarianceAccumulator.MAX_COUNT - totalSamples) {
            throw new IllegalArgumentException(samples + " more samples would take the window's total "
                    + totalSamples + " past " + CovarianceAccumulator.MAX_COUNT + " (2^53)");
        }
    }

    private void decay(long rows) {
        if (spec.mode() == WindowMode.DECAY) {
            double factor = Math.pow(0.5, (double) rows / spec.samples());
            for (Pane g : groups) {
                if (factor > 0) {
                    g.acc.decay(factor);
                } else {
                    // More than ~1074 half-lives at once: the old samples' weight is exactly gone.
                    g.acc.reset();
                }
            }
        }
    }

    private void changed(Pane target) {
        if (spec.mode() == WindowMode.SLIDING) {
            if (spec.includeOpen()) {
                version++;
            }
            if (target.acc.count() >= paneSamples) {
                closeOpen();
            }
        } else {
            version++;
        }
    }

    /** Closes the open pane into the ring; false (the open pane keeps filling) when no pane is free. */
    private boolean closeOpen() {
        Pane next = free.poll();
        if (next == null) {
            if (allocatedPanes >= spec.groups() + 3) {
                return false;
            }
            next = newPane();
        }
        next.reset(totalSamples);
        closed.addLast(open);
        open = next;
        if (closed.size() > spec.groups()) {
            release(closed.removeFirst());
        }
        version++;
        return true;
    }

    private Pane newPane() {
        allocatedPanes++;
        return new Pane(dims);
    }

    private void release(Pane p) {
        if (p.refs.decrementAndGet() == 0) {
            free.offer(p);
        }
    }

    /**
     * The non-empty groups of a cumulative or decay window themselves, not copies: for a reader on
     * the writer's own thread (offline analysis), valid until the next update. Read only.
     */
    public List<CovarianceAccumulator> liveGroups() {
        if (spec.mode() == WindowMode.SLIDING) {
            throw new IllegalStateException("liveGroups is for cumulative and decay windows");
        }
        List<CovarianceAccumulator> out = new ArrayList<>();
        for (Pane g : groups) {
            if (g.acc.count() > 0) {
                out.add(g.acc);
            }
        }
        return out;
    }

    /**
     * The window as it is now, for a refresh on another thread; {@link WindowView#close()} it when
     * done. Throws when the previous view is still out.
     */
    public WindowView view() {
        if (!viewOut.compareAndSet(false, true)) {
            throw new IllegalStateException("the previous window view was not closed");
        }
        List<CovarianceAccumulator> accs = new ArrayList<>();
        List<Pane> held = new ArrayList<>();
        long stepMin = Long.MAX_VALUE;
        long stepMax = -1;
        long first;
        long end;
        if (spec.mode() == WindowMode.SLIDING) {
            for (Pane p : closed) {
                p.refs.incrementAndGet();
                held.add(p);
                accs.add(p.acc);
                stepMin = Math.min(stepMin, p.stepMin);
                stepMax = Math.max(stepMax, p.stepMax);
            }
            first = closed.isEmpty() ? open.firstSample : closed.peekFirst().firstSample;
            end = open.firstSample;
            if (spec.includeOpen() && open.acc.count() > 0) {
                if (openCopy == null) {
                    openCopy = CovarianceAccumulator.create(dims);
                }
                openCopy.copyFrom(open.acc);
                accs.add(openCopy);
                stepMin = Math.min(stepMin, open.stepMin);
                stepMax = Math.max(stepMax, open.stepMax);
                end = totalSamples;
            }
        } else {
            for (int g = 0; g < groups.length; g++) {
                if (groups[g].acc.count() == 0) {
                    continue;
                }
                if (copies[g] == null) {
                    copies[g] = CovarianceAccumulator.create(dims);
                }
                copies[g].copyFrom(groups[g].acc);
                accs.add(copies[g]);
                stepMin = Math.min(stepMin, groups[g].stepMin);
                stepMax = Math.max(stepMax, groups[g].stepMax);
            }
            end = totalSamples;
            first = spec.mode() == WindowMode.DECAY ? Math.max(0, end - Math.round(weight())) : 0;
        }
        long samples = 0;
        double weight = 0;
        for (CovarianceAccumulator a : accs) {
            samples += a.count();
            weight += a.weight();
        }
        if (spec.mode() == WindowMode.DECAY) {
            samples = Math.round(weight);
        }
        return new WindowView(this, List.copyOf(accs), held, samples, weight, first, end,
                stepMin == Long.MAX_VALUE ? -1 : stepMin, stepMax, version);
    }

    /** Called by {@link WindowView#close()} from the reader's thread. */
    void release(WindowView view, List<?> held) {
        for (Object p : held) {
            release((Pane) p);
        }
        viewOut.set(false);
    }

    // ---- state -------------------------------------------------------------------------------

    /**
     * The window's state (little-endian, see docs/durability.md "window state"): spec, counters,
     * then each pane or group as step range and accumulator state (its own checked format).
     */
    public byte[] toByteArray() {
        if (totalSamples < 0 || totalSamples > CovarianceAccumulator.MAX_COUNT || rowsInGroups < 0
                || rowsInGroups > totalSamples) {
            throw new IllegalStateException("refusing to serialize invalid window state: " + totalSamples
                    + " samples, " + rowsInGroups + " rows in groups");
        }
        BinaryWriter w = new BinaryWriter(1024);
        w.i32(STATE_MAGIC).u16(STATE_VERSION).u8(spec.mode().id()).u8(spec.includeOpen() ? 1 : 0);
        w.i32(dims).i32(spec.groups()).i64(spec.samples()).i32(spec.blockRows());
        w.i64(totalSamples).i64(version).i64(rowsInGroups);
        List<Pane> panes = new ArrayList<>();
        if (spec.mode() == WindowMode.SLIDING) {
            panes.addAll(closed);
            panes.add(open);
        } else {
            panes.addAll(List.of(groups));
        }
        w.i32(panes.size());
        for (Pane p : panes) {
            w.i64(p.firstSample).i64(p.stepMin).i64(p.stepMax).block(p.acc.toByteArray());
        }
        return w.toByteArrayWithCrc();
    }

    /** Restores {@link #toByteArray} bytes, validating every field; the window keeps its saved spec. */
    public static WindowedCovariance fromByteArray(byte[] bytes) {
        String what = "window state";
        BinaryReader r = BinaryReader.withCrc(bytes, what);
        if (r.i32("magic") != STATE_MAGIC) {
            throw new FormatException(what + ": bad magic");
        }
        int version = r.u16("version");
        if (version != STATE_VERSION) {
            throw new FormatException(what + ": version " + version + " is not supported");
        }
        int modeId = r.u8("mode");
        WindowMode mode = WindowMode.fromId(modeId);
        if (mode == null) {
            throw new FormatException(what + ": unknown window mode " + modeId);
        }
        int includeOpen = r.u8("include-open");
        int dims = r.i32("dims", 1, CovarianceAccumulator.MAX_DIMS);
        int groups = r.i32("groups", 1, WindowSpec.MAX_GROUPS);
        long samples = r.i64("samples", 0, Long.MAX_VALUE);
        int blockRows = r.i32("block rows", 1, Integer.MAX_VALUE);
        WindowSpec spec;
        try {
            spec = new WindowSpec(mode, samples, groups, blockRows, includeOpen == 1);
        } catch (IllegalArgumentException e) {
            throw new FormatException(what + ": " + e.getMessage());
        }
        WindowedCovariance w = new WindowedCovariance(dims, spec, false);
        w.totalSamples = r.i64("total samples", 0, CovarianceAccumulator.MAX_COUNT);
        w.version = r.i64("version", 0, Long.MAX_VALUE);
        w.rowsInGroups = r.i64("rows in groups", 0, w.totalSamples);
        int n = r.i32("panes", 1, WindowSpec.MAX_GROUPS + 1);
        int expected = mode == WindowMode.SLIDING ? -1 : groups;
        if (expected >= 0 && n != expected) {
            throw new FormatException(what + ": " + n + " groups stored for a spec of " + groups);
        }
        if (mode == WindowMode.SLIDING && n - 1 > groups) {
            throw new FormatException(what + ": " + (n - 1) + " closed panes for a window of " + groups);
        }
        long counted = 0;
        for (int i = 0; i < n; i++) {
            Pane p = mode == WindowMode.SLIDING ? w.newPane() : w.groups[i];
            p.firstSample = r.i64("pane " + i + " first sample", 0, w.totalSamples);
            p.stepMin = r.i64("pane " + i + " first step", 0, Long.MAX_VALUE);
            p.stepMax = r.i64("pane " + i + " last step", -1, Long.MAX_VALUE);
            CovarianceAccumulator acc = CovarianceAccumulator.fromByteArray(r.block("pane " + i + " accumulator"));
            if (acc.dims() != dims) {
                throw new FormatException(what + ": pane " + i + " has " + acc.dims() + " dims, the window " + dims);
            }
            p.acc.copyFrom(acc);
            counted += acc.count();
            if (mode == WindowMode.SLIDING) {
                if (i < n - 1) {
                    w.closed.addLast(p);
                } else {
                    w.open = p;
                }
            }
        }
        r.end();
        if (counted > w.totalSamples) {
            throw new FormatException(what + ": panes hold " + counted + " samples, more than the total "
                    + w.totalSamples);
        }
        return w;
    }
}
