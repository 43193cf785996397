package org.alphawatch.scale;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.alphawatch.durability.WriteAheadLog;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.Admission;
import org.alphawatch.pipeline.BatchSink;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.pipeline.RejectReason;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * HTTP ingest in scale-out: each validated batch becomes one record of the batch topic, in its
 * layer's partition, in the write-ahead log's record format; the 202 waits for Kafka's
 * acknowledgement (acks=all). A run's deletion is a record in every partition.
 */
final class KafkaIngest implements BatchSink, AutoCloseable {
    private final KafkaProducer<String, byte[]> producer;
    private final String topic;
    private final int partitions;
    /** Units of the layers this node has published: a batch of another width is refused here, before Kafka. */
    private final Map<LayerKey, Integer> dims = new ConcurrentHashMap<>();
    private final AtomicLong published = new AtomicLong();

    KafkaIngest(KafkaProducer<String, byte[]> producer, String topic, int partitions) {
        this.producer = producer;
        this.topic = topic;
        this.partitions = partitions;
    }

    @Override
    public Admission offer(ActivationBatch batch) {
        Integer known = dims.putIfAbsent(batch.key(), batch.dims());
        if (known != null && known != batch.dims()) {
            return Admission.rejected(RejectReason.DIMS_MISMATCH, "batch has " + batch.dims() + " units, layer "
                    + batch.key() + " has " + known);
        }
        long seq = published.incrementAndGet();
        CompletableFuture<Void> acked = new CompletableFuture<>();
        try {
            producer.send(new ProducerRecord<>(topic, Partitioning.partition(batch.key(), partitions),
                    batch.key().run() + "/" + batch.key().layer(), WriteAheadLog.encodeBatch(seq, batch)), (meta, e) -> {
                        if (e == null) {
                            acked.complete(null);
                        } else {
                            acked.completeExceptionally(e);
                        }
                    });
        } catch (RuntimeException e) { // the producer refused at once (closed, buffer full past max.block.ms)
            acked.completeExceptionally(e);
        }
        return Admission.accepted(seq, acked);
    }

    /** A deletion record in every partition; completes when all are acknowledged. */
    @Override
    public CompletableFuture<Long> deleteRun(String run) {
        long seq = published.incrementAndGet();
        byte[] record = WriteAheadLog.encodeDelete(seq, run);
        CompletableFuture<?>[] acks = new CompletableFuture<?>[partitions];
        for (int p = 0; p < partitions; p++) {
            CompletableFuture<Void> acked = new CompletableFuture<>();
            acks[p] = acked;
            producer.send(new ProducerRecord<>(topic, p, run, record), (meta, e) -> {
                if (e == null) {
                    acked.complete(null);
                } else {
                    acked.completeExceptionally(e);
                }
            });
        }
        dims.keySet().removeIf(k -> k.run().equals(run));
        return CompletableFuture.allOf(acks).thenApply(v -> seq);
    }

    @Override
    public void close() {
        producer.close(java.time.Duration.ofSeconds(10));
    }
}
