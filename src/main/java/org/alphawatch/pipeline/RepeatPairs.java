package org.alphawatch.pipeline;

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
    private ActivationBatch pendingFirst;

    /** @param span pairs per half; 0: cumulative (never forgets) */
    RepeatPairs(int dims, long span) {
        this.dims = dims;
        this.span = span;
        this.current = CrossCovarianceAccumulator.create(dims);
    }

    /** Takes one repeat batch; false when a repeat 1 has no matching repeat 0 (the pair is dropped). */
    boolean add(ActivationBatch batch) {
        if (batch.repeat() == 0) {
            pendingFirst = batch;
            return true;
        }
        ActivationBatch first = pendingFirst;
        pendingFirst = null;
        if (first == null || first.step() != batch.step() || first.rows() != batch.rows()) {
            return false;
        }
        if (span > 0 && current.count() >= span) {
            if (previous == null) {
                previous = CrossCovarianceAccumulator.create(dims);
            }
            CrossCovarianceAccumulator t = previous;
            previous = current;
            current = t;
            current.reset();
        }
        NpyArray a = first.values();
        NpyArray b = batch.values();
        if (a.floats() != null && b.floats() != null) {
            current.update(a.floats(), b.floats(), a.rows());
        } else {
            current.update(a.toDoubles(), b.toDoubles(), a.rows());
        }
        return true;
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
