package org.alphawatch.pipeline;

import java.util.HashMap;
import java.util.Map;
import org.alphawatch.core.format.BinaryReader;
import org.alphawatch.core.format.BinaryWriter;
import org.alphawatch.core.stat.CrossCovarianceAccumulator;
import org.alphawatch.io.NpyArray;

/**
 * The cross-covariance of a layer's repeat passes (cvPCA). Repeat 0 waits for the repeat 1 of the
 * same step and shape; the pair updates the current accumulator. Windowed like the spectrum but
 * coarser: with a span, the pairs live in two halves (previous and current, each up to
 * {@code span} pairs) so a refresh always sees between one and two spans of pairs, never a reset
 * to nothing. Writer thread only; {@link #forRefresh} fills a buffer the single running refresh reads.
 */
final class RepeatPairs {
    private final int dims;
    private final long span;
    private CrossCovarianceAccumulator current;
    private CrossCovarianceAccumulator previous;
    private CrossCovarianceAccumulator refreshCopy;
    /** Repeat 0 waiting for its repeat 1, per sender: passes from two ranks are never paired. */
    private final Map<String, ActivationBatch> pendingFirst = new HashMap<>();

    /** @param span pairs per half; 0: cumulative (never forgets) */
    RepeatPairs(int dims, long span) {
        this.dims = dims;
        this.span = span;
        this.current = CrossCovarianceAccumulator.create(dims);
    }

    /**
     * Takes one repeat batch from {@code source} (null: anonymous); false when a repeat 1 has no
     * matching repeat 0 from the same sender, or a repeat 0 finds
     * {@link MonitorConfig#MAX_WAITING_REPEAT_SENDERS} other senders waiting (the pass is dropped).
     */
    boolean add(ActivationBatch batch, String source) {
        String sender = source == null ? "" : source;
        if (batch.repeat() == 0) {
            if (pendingFirst.size() >= MonitorConfig.MAX_WAITING_REPEAT_SENDERS && !pendingFirst.containsKey(sender)) {
                return false;
            }
            pendingFirst.put(sender, batch);
            return true;
        }
        ActivationBatch first = pendingFirst.remove(sender);
        if (first == null || first.step() != batch.step() || first.rows() != batch.rows()) {
            return false;
        }
        rotateIfFull();
        NpyArray a = first.values();
        NpyArray b = batch.values();
        if (a.floats() != null && b.floats() != null) {
            current.update(a.floats(), b.floats(), a.rows());
        } else {
            current.update(a.toDoubles(), b.toDoubles(), a.rows());
        }
        return true;
    }

    /** Pairs aggregated by a trainer (already paired by their sender). */
    void merge(CrossCovarianceAccumulator pairs) {
        rotateIfFull();
        current.merge(pairs);
    }

    private void rotateIfFull() {
        if (span > 0 && current.count() >= span) {
            if (previous == null) {
                previous = CrossCovarianceAccumulator.create(dims);
            }
            CrossCovarianceAccumulator t = previous;
            previous = current;
            current = t;
            current.reset();
        }
    }

    long pairs() {
        return current.count() + (previous == null ? 0 : previous.count());
    }

    /** The pairs as one accumulator for a refresh (a buffer reused by the next refresh), or null below 3 pairs. */
    CrossCovarianceAccumulator forRefresh() {
        if (pairs() < 3) {
            return null;
        }
        if (refreshCopy == null) {
            refreshCopy = CrossCovarianceAccumulator.create(dims);
        }
        refreshCopy.reset();
        if (previous != null) {
            refreshCopy.merge(previous);
        }
        refreshCopy.merge(current);
        return refreshCopy;
    }

    void write(BinaryWriter w) {
        w.i64(span).block(current.toByteArray());
        w.block(previous == null ? new byte[0] : previous.toByteArray());
    }

    static RepeatPairs read(BinaryReader r, int dims) {
        long span = r.i64("repeat span", 0, Long.MAX_VALUE);
        RepeatPairs p = new RepeatPairs(dims, span);
        p.current = check(CrossCovarianceAccumulator.fromByteArray(r.block("repeat pairs")), dims);
        byte[] prev = r.block("previous repeat pairs");
        if (prev.length > 0) {
            p.previous = check(CrossCovarianceAccumulator.fromByteArray(prev), dims);
        }
        return p;
    }

    /** A restored cumulative cross-covariance (layer state version 1). */
    static RepeatPairs cumulative(CrossCovarianceAccumulator cross) {
        RepeatPairs p = new RepeatPairs(cross.dims(), 0);
        p.current = cross;
        return p;
    }

    private static CrossCovarianceAccumulator check(CrossCovarianceAccumulator c, int dims) {
        if (c.dims() != dims) {
            throw new org.alphawatch.core.format.FormatException("layer state: repeat pairs of " + c.dims()
                    + " dims in a " + dims + "-unit layer");
        }
        return c;
    }
}
