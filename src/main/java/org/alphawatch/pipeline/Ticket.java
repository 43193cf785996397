package org.alphawatch.pipeline;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The queue room an admitted batch holds until it is applied or fails: released exactly once,
 * whichever path the batch takes (applied, refused by the log, dropped with its layer).
 */
final class Ticket {
    final long seq;
    final long bytes;
    private final IngestQueue queue;
    private final AtomicBoolean released = new AtomicBoolean();

    Ticket(IngestQueue queue, long seq, long bytes) {
        this.queue = queue;
        this.seq = seq;
        this.bytes = bytes;
    }

    void release() {
        if (released.compareAndSet(false, true)) {
            queue.release(this);
        }
    }
}
