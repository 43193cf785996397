package org.alphawatch.pipeline;

import java.util.concurrent.CompletableFuture;

/**
 * Where the HTTP server hands accepted batches and deletions: the local {@link Monitor}, or in
 * scale-out a Kafka topic that workers consume ({@code org.alphawatch.scale}).
 */
public interface BatchSink {
    /** Accepted (with a future that completes once the batch is durable) or refused with a reason. */
    Admission offer(ActivationBatch batch);

    /** Deletes a run: its sequence number once durable, -1 when there is no such run. */
    CompletableFuture<Long> deleteRun(String run);
}
