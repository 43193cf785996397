package org.alphawatch.pipeline;

import java.util.concurrent.CompletableFuture;

/**
 * The monitor's answer to an offered batch: accepted with its sequence number and a future that
 * completes once the batch is durable (at once without a write-ahead log), accepted as a duplicate
 * of one applied before, or refused with a reason and a precise message.
 */
public record Admission(RejectReason reason, String message, long seq, CompletableFuture<Void> durable,
                        boolean duplicate) {
    /** A future that is already complete: nothing to wait for. */
    public static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    public static Admission accepted(long seq) {
        return new Admission(null, "accepted", seq, DONE, false);
    }

    public static Admission accepted(long seq, CompletableFuture<Void> durable) {
        return new Admission(null, "accepted", seq, durable, false);
    }

    /**
     * A copy of a request already admitted (same sender and number): nothing is applied again;
     * {@code durable} is the first copy's (the answer waits for it when it is still in flight).
     */
    public static Admission duplicate(long seq, CompletableFuture<Void> durable) {
        return new Admission(null, "duplicate", seq, durable, true);
    }

    public static Admission rejected(RejectReason reason, String message) {
        return new Admission(reason, message, -1, DONE, false);
    }

    public boolean ok() {
        return reason == null;
    }
}
