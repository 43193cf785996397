package org.alphawatch.pipeline;

import org.alphawatch.io.NpyArray;

/**
 * Validated activations of one layer at one training step: rows are samples, columns are units.
 * For {@link BatchKind#PROBE} the rows are ordered along an input path and {@code latent}
 * (rows x q, optional) holds the input's latent coordinates. {@code repeat} is 0 or 1 for the two
 * passes of a cross-validated spectrum, -1 otherwise. Immutable by convention: the arrays are
 * owned by the batch and never written after construction.
 */
public record ActivationBatch(LayerKey key, long step, BatchKind kind, int repeat, NpyArray values, NpyArray latent) {
    public static final int NO_REPEAT = -1;

    public ActivationBatch {
        if (step < 0) {
            throw new IllegalArgumentException("step " + step + " must be >= 0");
        }
        if (repeat != NO_REPEAT && repeat != 0 && repeat != 1) {
            throw new IllegalArgumentException("repeat " + repeat + " must be 0 or 1");
        }
        if (repeat != NO_REPEAT && kind != BatchKind.TRAIN) {
            throw new IllegalArgumentException("repeat applies to train batches only");
        }
        if (latent != null && (kind != BatchKind.PROBE || latent.rows() != values.rows())) {
            throw new IllegalArgumentException("latent values need a probe batch with the same rows (" + values.rows()
                    + "), got " + latent.rows());
        }
    }

    public static ActivationBatch train(LayerKey key, long step, NpyArray values) {
        return new ActivationBatch(key, step, BatchKind.TRAIN, NO_REPEAT, values, null);
    }

    public int rows() {
        return values.rows();
    }

    public int dims() {
        return values.cols();
    }

    /** Bytes of activation data held. */
    public long bytes() {
        return values.bytes() + (latent == null ? 0 : latent.bytes());
    }
}
