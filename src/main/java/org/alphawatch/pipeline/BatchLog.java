package org.alphawatch.pipeline;

import java.util.concurrent.CompletableFuture;

/**
 * Where the monitor makes admitted work durable before it is applied (the write-ahead log). Calls
 * arrive in sequence order under the monitor's admission lock and must complete in that order;
 * a completed future means the record survives a crash.
 */
public interface BatchLog {
    CompletableFuture<Void> appendBatch(long seq, ActivationBatch batch);

    CompletableFuture<Void> appendDelete(long seq, String run);
}
