package org.alphawatch.pipeline;

/**
 * Settings a sender may choose for a layer when it first reports it (docs/http-api.md,
 * {@code window} and {@code min_samples}): the layer's window in samples (rows: a sender of conv
 * positions or tokens converts its images or sequences to rows) and its maturity threshold. They
 * apply when the batch creates the layer and are kept with it (checkpoints, the log, hand-overs);
 * later batches do not change them. 0: the server's setting for a layer of that width.
 *
 * @param windowSamples sliding window length or decay half-life, in samples (0, or 2 .. 2^40)
 * @param minSamples    window samples from which snapshots are mature (0, or 1 .. 2^40)
 */
public record LayerOptions(long windowSamples, long minSamples) {
    /** The largest window or maturity a sender may ask for (about 10^12 samples). */
    public static final long MAX = 1L << 40;

    public LayerOptions {
        if (windowSamples != 0 && (windowSamples < 2 || windowSamples > MAX)) {
            throw new IllegalArgumentException("window " + windowSamples + " must be within 2.." + MAX + " samples");
        }
        if (minSamples < 0 || minSamples > MAX) {
            throw new IllegalArgumentException("min_samples " + minSamples + " must be within 0.." + MAX);
        }
    }

    /** Nothing chosen: the server's settings. */
    public boolean isDefault() {
        return windowSamples == 0 && minSamples == 0;
    }
}
