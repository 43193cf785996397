package org.alphawatch.pipeline;

import java.util.concurrent.CompletableFuture;

/**
 * The monitor's answer to an offered batch: accepted (with a future that completes once the batch
 * is durable, at once without a write-ahead log), or refused with a reason and a precise message.
 */
public record Admission(RejectReason reason, String message, CompletableFuture<Void> durable) {
    private static final Admission ACCEPTED = new Admission(null, "accepted", CompletableFuture.completedFuture(null));

    public static Admission accepted() {
        return ACCEPTED;
    }

    public static Admission accepted(CompletableFuture<Void> durable) {
        return new Admission(null, "accepted", durable);
    }

    public static Admission rejected(RejectReason reason, String message) {
        return new Admission(reason, message, CompletableFuture.completedFuture(null));
    }

    public boolean ok() {
        return reason == null;
    }
}
