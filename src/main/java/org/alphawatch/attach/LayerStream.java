package org.alphawatch.attach;

import java.util.OptionalDouble;
import java.util.concurrent.atomic.AtomicLong;
import org.alphawatch.io.NpyArray;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.pipeline.Monitor;

/**
 * Streams a Java program's layer activations into alphawatch, in a few lines (docs/attach-java.md):
 *
 * <pre>{@code
 * try (LayerStream stream = LayerStream.http("http://127.0.0.1:9400", null, "my-model")) {
 *     stream.send("layer3", step, rows, n, 384);   // n rows (samples) of 384 units, row-major
 * }
 * }</pre>
 *
 * {@link #inProcess} feeds a {@link Monitor} in the same JVM (what the built-in trainer and
 * {@code demo transformer} use), {@link #http} a monitor over its HTTP API. {@code send} waits
 * while the monitor is full (backpressure) and copies the rows, so the caller may reuse its array.
 * Thread-safe.
 */
public final class LayerStream implements AutoCloseable {
    private final ActivationSink sink;
    private final String run;
    private final AtomicLong samples = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();

    private LayerStream(ActivationSink sink, String run) {
        this.sink = sink;
        this.run = run;
    }

    /** Into a monitor in this JVM. */
    public static LayerStream inProcess(Monitor monitor, String run) {
        return new LayerStream(ActivationSink.of(monitor), run);
    }

    /** Into a monitor over HTTP; {@code token} may be null. */
    public static LayerStream http(String url, String token, String run) {
        return new LayerStream(new HttpActivationSink(url, token), run);
    }

    /**
     * Sends {@code n} rows of {@code dims} units of {@code layer} at training (or inference) step
     * {@code step}; false when the monitor refused them (a bad value, a width that changed, a
     * limit): nothing of them was kept then, and they are counted in {@link #refused()}.
     */
    public boolean send(String layer, long step, float[] rows, int n, int dims) throws InterruptedException {
        if (n < 1 || dims < 1 || (long) n * dims > rows.length) {
            throw new IllegalArgumentException(n + " rows of " + dims + " units do not fit in " + rows.length + " values");
        }
        float[] copy = java.util.Arrays.copyOf(rows, n * dims);
        boolean ok = sink.emit(ActivationBatch.train(new LayerKey(run, layer), step, NpyArray.ofFloats(copy, n, dims)));
        (ok ? samples : refused).addAndGet(ok ? n : 1);
        return ok;
    }

    /** The layer's current alpha once its window is mature. */
    public OptionalDouble alpha(String layer) {
        return sink.alpha(new LayerKey(run, layer));
    }

    public String run() {
        return run;
    }

    /** Rows accepted so far. */
    public long samples() {
        return samples.get();
    }

    /** Batches refused so far. */
    public long refused() {
        return refused.get();
    }

    /**
     * The run is over: the monitor raises no staleness alert for it and shows it as ended (a later
     * batch reopens it). Nothing is buffered: every send has been handed over when it returns.
     */
    @Override
    public void close() {
        sink.endRun(run);
    }
}
