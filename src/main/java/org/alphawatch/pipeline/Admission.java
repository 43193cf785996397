package org.alphawatch.pipeline;

import java.util.concurrent.CompletableFuture;

/**
 * The monitor's answer to an offered batch: accepted with its sequence number and a future that
 * completes once the batch is durable (at once without a write-ahead log), or refused with a
 * reason and a precise message.
 */
public record Admission(RejectReason reason, String message, long seq, CompletableFuture<Void> durable) {
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    public static Admission accepted(long seq) {
        return new Admission(null, "accepted", seq, DONE);
    }

    public static Admission accepted(long seq, CompletableFuture<Void> durable) {
        return new Admission(null, "accepted", seq, durable);
    }

    public static Admission rejected(RejectReason reason, String message) {
        return new Admission(reason, message, -1, DONE);
    }

    public boolean ok() {
        return reason == null;
    }
}
