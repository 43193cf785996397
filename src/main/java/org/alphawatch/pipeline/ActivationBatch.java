package org.alphawatch.pipeline;

import java.util.List;
import org.alphawatch.io.NpyArray;
import org.alphawatch.io.PartialMoments;

/**
 * Validated activations of one layer at one training step: rows are samples, columns are units;
 * or, with {@code partials}, the sufficient statistics of rows aggregated by the trainer, one or
 * more partial accumulators in order (then {@code values} is null and the batch stands for the
 * sum of their {@link PartialMoments#samples()}).
 * For {@link BatchKind#PROBE} the rows are ordered along an input path and {@code latent}
 * (rows x q, optional) holds the input's latent coordinates. {@code repeat} is 0 or 1 for the two
 * passes of a cross-validated spectrum, -1 otherwise. {@code source} names the sender's rank or
 * process for per-source counts (null: anonymous); {@code delivery} numbers the request for
 * exactly-once delivery (null: not numbered, every copy is applied); {@code options} are the
 * sender's settings for the layer, used if this batch creates it (null: the server's). Immutable by
 * convention: the arrays are owned by the batch and never written after construction.
 */
public record ActivationBatch(LayerKey key, long step, BatchKind kind, int repeat, NpyArray values, NpyArray latent,
                              List<PartialMoments> partials, String source, Delivery delivery, LayerOptions options) {
    public static final int NO_REPEAT = -1;

    public ActivationBatch(LayerKey key, long step, BatchKind kind, int repeat, NpyArray values, NpyArray latent) {
        this(key, step, kind, repeat, values, latent, null, null, null, null);
    }

    public ActivationBatch(LayerKey key, long step, BatchKind kind, int repeat, NpyArray values, NpyArray latent,
                           List<PartialMoments> partials, String source) {
        this(key, step, kind, repeat, values, latent, partials, source, null, null);
    }

    /** This batch numbered for exactly-once delivery. */
    public ActivationBatch withDelivery(Delivery d) {
        return new ActivationBatch(key, step, kind, repeat, values, latent, partials, source, d, options);
    }

    /** This batch with the sender's settings for its layer (null or default: the server's). */
    public ActivationBatch withOptions(LayerOptions o) {
        return new ActivationBatch(key, step, kind, repeat, values, latent, partials, source, delivery,
                o == null || o.isDefault() ? null : o);
    }

    /**
     * A trainer's partial accumulators for a layer, in order, from {@code source} (its rank or
     * process; null: anonymous). Their repeat pairs, if any, were paired by that sender.
     */
    public static ActivationBatch partials(LayerKey key, List<PartialMoments> partials, String source) {
        long step = partials.stream().mapToLong(PartialMoments::lastStep).max().orElse(0);
        return new ActivationBatch(key, step, BatchKind.TRAIN, NO_REPEAT, null, null, List.copyOf(partials), source);
    }

    public ActivationBatch {
        if ((values == null) == (partials == null) || (partials != null && partials.isEmpty())) {
            throw new IllegalArgumentException("a batch holds either rows or partial accumulators");
        }
        if (step < 0) {
            throw new IllegalArgumentException("step " + step + " must be >= 0");
        }
        if (repeat != NO_REPEAT && repeat != 0 && repeat != 1) {
            throw new IllegalArgumentException("repeat " + repeat + " must be 0 or 1");
        }
        if (repeat != NO_REPEAT && kind != BatchKind.TRAIN) {
            throw new IllegalArgumentException("repeat applies to train batches only");
        }
        if (latent != null && (values == null || kind != BatchKind.PROBE || latent.rows() != values.rows())) {
            throw new IllegalArgumentException("latent values need a probe batch with the same rows, got "
                    + latent.rows());
        }
    }

    public static ActivationBatch train(LayerKey key, long step, NpyArray values) {
        return new ActivationBatch(key, step, BatchKind.TRAIN, NO_REPEAT, values, null);
    }

    /** Samples of the partials (0 for rows), saturating at Long.MAX_VALUE (admission refuses beyond 2^53). */
    public long partialSamples() {
        long n = 0;
        if (partials != null) {
            for (PartialMoments p : partials) {
                n = p.samples() > Long.MAX_VALUE - n ? Long.MAX_VALUE : n + p.samples();
            }
        }
        return n;
    }

    /** Samples the batch adds to its layer's window: rows of a train batch, the partials' samples; probes add none. */
    public long windowSamples() {
        if (partials != null) {
            return partialSamples();
        }
        return kind == BatchKind.TRAIN && repeat == NO_REPEAT ? values.rows() : 0;
    }

    /** Pairs the batch adds to its layer's repeat pairs (at most): a repeat pass's rows, the partials' pairs. */
    public long repeatPairs() {
        if (partials != null) {
            long n = 0;
            for (PartialMoments p : partials) {
                n = p.pairs() > Long.MAX_VALUE - n ? Long.MAX_VALUE : n + p.pairs();
            }
            return n;
        }
        return repeat == 1 ? values.rows() : 0;
    }

    /** Rows the batch stands for (for partials, their samples, capped at the int range). */
    public int rows() {
        return partials != null ? (int) Math.min(Integer.MAX_VALUE, partialSamples()) : values.rows();
    }

    public int dims() {
        return partials != null ? partials.get(0).dims() : values.cols();
    }

    /** Bytes of activation data held. */
    public long bytes() {
        return partials != null ? partials.stream().mapToLong(PartialMoments::bytes).sum()
                : values.bytes() + (latent == null ? 0 : latent.bytes());
    }
}
