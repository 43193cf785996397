package org.alphawatch.attach;

import java.time.Duration;
import java.util.OptionalDouble;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.Admission;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.pipeline.Monitor;

/** Where the trainer's activations go: the in-process monitor, or a remote one over HTTP. */
public interface ActivationSink {
    /** Delivers a batch, waiting while the monitor is full; false when it was refused. */
    boolean emit(ActivationBatch batch) throws InterruptedException;

    /** The layer's current (mature) alpha, for the progress line; empty while the window is immature. */
    OptionalDouble alpha(LayerKey key);

    /** Tells the monitor the run is over (no staleness alerts; a later batch reopens it). A hint: never throws. */
    void endRun(String run);

    /** The in-process monitor, with its backpressure rule: block while the queue is full. */
    static ActivationSink of(Monitor monitor) {
        return new ActivationSink() {
            @Override
            public boolean emit(ActivationBatch batch) throws InterruptedException {
                Admission a = monitor.ingest().offerBlocking(batch, Duration.ofSeconds(60));
                return a.ok();
            }

            @Override
            public void endRun(String run) {
                monitor.ingest().endRun(run);
            }

            @Override
            public OptionalDouble alpha(LayerKey key) {
                return monitor.snapshot(key).filter(s -> s.mature()).map(s -> OptionalDouble.of(s.report().alpha()))
                        .orElse(OptionalDouble.empty());
            }
        };
    }
}
