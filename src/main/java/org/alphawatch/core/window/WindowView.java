package org.alphawatch.core.window;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.alphawatch.core.stat.CovarianceAccumulator;

/**
 * A window's groups at one moment, handed from the writer to a refresh: read them, never modify
 * them, and {@link #close()} the view (from any thread) so their panes can be recycled.
 *
 * @see WindowedCovariance#view()
 */
public final class WindowView implements AutoCloseable {
    private final WindowedCovariance owner;
    private final List<CovarianceAccumulator> groups;
    private final List<?> held;
    private final long samples;
    private final double weight;
    private final long firstSample;
    private final long endSample;
    private final long stepMin;
    private final long stepMax;
    private final long version;
    private final AtomicBoolean closed = new AtomicBoolean();

    WindowView(WindowedCovariance owner, List<CovarianceAccumulator> groups, List<?> held, long samples, double weight,
               long firstSample, long endSample, long stepMin, long stepMax, long version) {
        this.owner = owner;
        this.groups = groups;
        this.held = held;
        this.samples = samples;
        this.weight = weight;
        this.firstSample = firstSample;
        this.endSample = endSample;
        this.stepMin = stepMin;
        this.stepMax = stepMax;
        this.version = version;
    }

    /** The non-empty groups (panes) of the window; their union is the window. Read only. */
    public List<CovarianceAccumulator> groups() {
        return groups;
    }

    public int dims() {
        return owner.dims();
    }

    public WindowSpec spec() {
        return owner.spec();
    }

    /** Samples in the window (for decay, the rounded sum of weights). */
    public long samples() {
        return samples;
    }

    public double weight() {
        return weight;
    }

    /** The window covers the stream's samples [firstSample, endSample) (decay: its effective span). */
    public long firstSample() {
        return firstSample;
    }

    public long endSample() {
        return endSample;
    }

    /** Training steps of the window's samples; -1 when empty. */
    public long stepMin() {
        return stepMin;
    }

    public long stepMax() {
        return stepMax;
    }

    /** The window's {@link WindowedCovariance#version()} when the view was taken. */
    public long version() {
        return version;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            owner.release(this, held);
        }
    }
}
