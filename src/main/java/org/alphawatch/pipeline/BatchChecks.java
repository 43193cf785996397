package org.alphawatch.pipeline;

import org.alphawatch.io.NpyArray;
import org.alphawatch.io.NpyFormatException;
import org.alphawatch.io.NpyReader;
import org.alphawatch.io.PartialMoments;

/**
 * The checks every batch passes on every door before it may change anything (DESIGN.md, "Doors"):
 * rows present, every value finite and within {@link NpyReader#MAX_MAGNITUDE}; partial accumulators
 * {@link PartialMoments#validate valid} and at most {@link PartialMoments#MAX_SAMPLES} samples in
 * all. What depends on the layer (its width, its count so far, limits) is checked under the
 * admission lock. Costs one pass over the values (a row's update costs {@code dims} times more), and
 * one semi-definiteness test per partial that no earlier door validated.
 */
final class BatchChecks {
    /** A batch that must be refused, and why. */
    record Refusal(RejectReason reason, String message) {}

    private BatchChecks() {}

    /** Null when the batch may go on; the first problem otherwise. */
    static Refusal check(ActivationBatch batch, int maxDims) {
        if (batch.dims() > maxDims) {
            return new Refusal(RejectReason.TOO_MANY_DIMS, "layer " + batch.key() + ": " + batch.dims()
                    + " units; the limit is " + maxDims + " (max-dims)");
        }
        if (batch.partials() != null) {
            int i = 0;
            for (PartialMoments p : batch.partials()) {
                i++;
                try {
                    p.validate("partial accumulator " + i + " of " + batch.partials().size(), maxDims);
                } catch (NpyFormatException e) {
                    return new Refusal(RejectReason.of(e.kind()), e.getMessage());
                }
            }
            if (batch.partialSamples() > PartialMoments.MAX_SAMPLES) {
                return new Refusal(RejectReason.TOO_MANY_SAMPLES, "the partials hold " + batch.partialSamples()
                        + " samples; at most " + PartialMoments.MAX_SAMPLES + " (2^53) fit a layer");
            }
            return null;
        }
        if (batch.values().rows() < 1) {
            return new Refusal(RejectReason.BAD_SHAPE, "the batch has 0 rows");
        }
        Refusal r = values(batch.values(), "value");
        return r != null || batch.latent() == null ? r : values(batch.latent(), "latent value");
    }

    private static Refusal values(NpyArray a, String what) {
        float[] f = a.floats();
        double[] d = a.doubles();
        int n = a.rows() * a.cols();
        for (int i = 0; i < n; i++) {
            double v = f != null ? f[i] : d[i];
            if (!(Math.abs(v) <= NpyReader.MAX_MAGNITUDE)) {
                return new Refusal(Double.isFinite(v) ? RejectReason.VALUE_OUT_OF_RANGE : RejectReason.NON_FINITE,
                        what + " at row " + i / a.cols() + ", column " + i % a.cols() + " is " + v
                                + (Double.isFinite(v) ? " (beyond " + NpyReader.MAX_MAGNITUDE + " in magnitude)" : ""));
            }
        }
        return null;
    }
}
