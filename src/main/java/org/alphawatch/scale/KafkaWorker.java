package org.alphawatch.scale;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.alphawatch.durability.WalReader;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.Admission;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.pipeline.Monitor;
import org.alphawatch.pipeline.RecoveryPort;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.alphawatch.report.JsonFields;

/**
 * A member of the workers' consumer group: applies the records of the partitions it is assigned
 * to their layers in the local {@link Monitor}, and checkpoints each partition (its layers and the
 * offset after the last record they contain) to the shared state directory. On assignment it
 * restores the partition's checkpoint and seeks to that offset, so that whoever owned the
 * partition before (a worker that crashed, or handed it over in a rebalance) leaves nothing lost
 * and nothing counted twice. Kafka's committed offsets are written for information only (lag).
 * Everything touching the consumer runs on its one thread.
 */
final class KafkaWorker implements ConsumerRebalanceListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaWorker.class);
    private static final Duration APPLY_WAIT = Duration.ofMinutes(10);

    private final ScaleSettings settings;
    private final int partitions;
    private final Monitor monitor;
    private final PartitionCheckpoints store;
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, byte[]> advertiser;
    private final Supplier<String> self;
    private final Duration checkpointEvery;
    private final Thread thread;

    /** Owned partitions and the offset after the last record applied (poll thread only). */
    private final Map<Integer, Long> next = new HashMap<>();
    private final Set<Integer> owned = ConcurrentHashMap.newKeySet();
    /** Partitions whose checkpoint cannot be read: paused, reported, never started from scratch. */
    private final Map<Integer, String> refused = new ConcurrentHashMap<>();
    private final AtomicLong applied = new AtomicLong();
    /** Layers whose saved state could not be read: their records are refused, the others go on. */
    private final Map<String, String> refusedLayers = new ConcurrentHashMap<>();
    /** Records the monitor refused (acknowledged by ingest, so nobody can be told): by reason. */
    private final Map<String, AtomicLong> refusedRecords = new ConcurrentHashMap<>();
    private volatile String lastRefusal;
    private final AtomicLong unreadable = new AtomicLong();
    private final AtomicLong checkpoints = new AtomicLong();
    private volatile long lastCheckpointMillis = -1;
    private volatile String lastError;
    private volatile boolean running = true;

    KafkaWorker(ScaleSettings settings, int partitions, Monitor monitor, PartitionCheckpoints store,
                KafkaConsumer<String, byte[]> consumer, KafkaProducer<String, byte[]> advertiser, Supplier<String> self,
                Duration checkpointEvery) {
        this.settings = settings;
        this.partitions = partitions;
        this.monitor = monitor;
        this.store = store;
        this.consumer = consumer;
        this.advertiser = advertiser;
        this.self = self;
        this.checkpointEvery = checkpointEvery;
        this.thread = new Thread(this::run, "alphawatch-kafka-worker");
    }

    void start() {
        thread.start();
    }

    private int partitionOf(LayerKey key) {
        return Partitioning.partition(key, partitions);
    }

    private void run() {
        long lastCheckpoint = System.nanoTime();
        try {
            consumer.subscribe(List.of(settings.topic()), this);
            while (running) {
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(200));
                for (TopicPartition tp : records.partitions()) {
                    for (ConsumerRecord<String, byte[]> r : records.records(tp)) {
                        apply(tp.partition(), r);
                    }
                }
                if (System.nanoTime() - lastCheckpoint >= checkpointEvery.toNanos()) {
                    checkpoint(new ArrayList<>(next.keySet()));
                    lastCheckpoint = System.nanoTime();
                }
            }
            checkpoint(new ArrayList<>(next.keySet())); // a clean stop hands over everything
        } catch (WakeupException e) {
            if (running) {
                lastError = "woken unexpectedly";
            } else {
                checkpoint(new ArrayList<>(next.keySet()));
            }
        } catch (Exception e) {
            lastError = e.toString();
            LOG.error("kafka worker stopped: {}", e.toString(), e);
        } finally {
            running = false;
            try {
                consumer.close(CloseOptions.timeout(Duration.ofSeconds(10))); // revokes: already checkpointed above
            } catch (RuntimeException e) {
                LOG.warn("closing the consumer: {}", e.toString());
            }
        }
    }

    private void apply(int partition, ConsumerRecord<String, byte[]> r) throws InterruptedException {
        try {
            WalReader.decode(r.value(), new WalReader.Visitor() {
                @Override
                public void batch(long seq, ActivationBatch batch) throws InterruptedException {
                    if (partitionOf(batch.key()) != partition) {
                        throw new IllegalStateException("layer " + batch.key() + " belongs to partition "
                                + partitionOf(batch.key()));
                    }
                    String unreadableLayer = refusedLayers.get(batch.key().toString());
                    if (unreadableLayer != null) {
                        refusedRecord(partition, r.offset(), batch.key(), "layer_unreadable", unreadableLayer);
                        return;
                    }
                    // The live door, as HTTP ingest: validated, limited, budgeted, de-duplicated.
                    Admission a = monitor.ingest().offerFromWorker(batch);
                    if (!a.ok()) {
                        refusedRecord(partition, r.offset(), batch.key(), a.reason().label(), a.message());
                    }
                }

                @Override
                public void delete(long seq, String run) {
                    monitor.ingest().deleteFromWorker(run, key -> partitionOf(key) == partition);
                }
            });
            applied.incrementAndGet();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            // Not a record our ingest wrote: there is nothing in it to apply. Counted and named, loudly.
            unreadable.incrementAndGet();
            lastError = settings.topic() + "-" + partition + " offset " + r.offset() + ": " + e.getMessage();
            LOG.error("unreadable record {}", lastError);
        }
        next.put(partition, r.offset() + 1);
    }

    private void refusedRecord(int partition, long offset, LayerKey key, String reason, String message) {
        refusedRecords.computeIfAbsent(reason, k -> new AtomicLong()).incrementAndGet();
        lastRefusal = settings.topic() + "-" + partition + " offset " + offset + " (" + key + "): " + reason + ": "
                + message;
        LOG.error("record refused, its data is not applied: {}", lastRefusal);
    }

    /** Saves the partitions' layers with their next offsets (after every record handed over is applied). */
    private void checkpoint(Collection<Integer> parts) {
        if (parts.isEmpty()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
        try {
            if (!monitor.recovery().awaitAppliedBelow(monitor.recovery().lastSeq() + 1, APPLY_WAIT)) {
                throw new IllegalStateException("records were not applied within " + APPLY_WAIT);
            }
            for (int p : parts) {
                Long offset = next.get(p);
                if (offset == null) {
                    continue;
                }
                store.save(p, offset, monitor.recovery().captureLayers(inPartition(Set.of(p)), APPLY_WAIT));
                commit.put(new TopicPartition(settings.topic(), p), new OffsetAndMetadata(offset, "checkpoint"));
            }
            checkpoints.incrementAndGet();
            lastCheckpointMillis = System.currentTimeMillis();
        } catch (Exception e) {
            lastError = "checkpoint failed: " + e;
            LOG.error("checkpoint of partitions {} failed: {}", parts, e.toString());
            return;
        }
        try {
            consumer.commitSync(commit); // for lag and tooling only: the checkpoint is the truth
        } catch (RuntimeException e) {
            LOG.debug("informational offset commit failed: {}", e.toString());
        }
    }

    private Predicate<LayerKey> inPartition(Set<Integer> parts) {
        return key -> parts.contains(partitionOf(key));
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
        for (TopicPartition tp : assigned) {
            int p = tp.partition();
            try {
                PartitionCheckpoints.Saved saved = store.load(p);
                if (saved == null) {
                    consumer.seekToBeginning(List.of(tp));
                    next.put(p, 0L);
                } else {
                    RecoveryPort.Restored restored = monitor.recovery().restoreLayers(saved.layers());
                    for (RecoveryPort.Unreadable bad : restored.unreadable()) {
                        // That layer alone is refused: its records are skipped (and counted) until an
                        // operator restores its state; the partition's other layers go on.
                        String name = bad.layer() == null ? "layer #" + bad.index() : bad.layer();
                        refusedLayers.put(name, "partition " + p + " checkpoint: " + bad.problem());
                        lastError = "partition " + p + ": " + name + " is unreadable: " + bad.problem();
                        LOG.error("partition {}: {} in its checkpoint is unreadable ({}); its records are refused",
                                p, name, bad.problem());
                    }
                    consumer.seek(tp, saved.nextOffset());
                    next.put(p, saved.nextOffset());
                }
                owned.add(p);
                refused.remove(p);
                advertiser.send(new ProducerRecord<>(settings.ownersTopic(), 0, Integer.toString(p),
                        self.get().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                LOG.info("owns {} from {}", tp, saved == null ? "the beginning" : "offset " + saved.nextOffset()
                        + " (" + saved.layers().size() + " layers)");
            } catch (Exception e) {
                // Never start a partition from scratch over a checkpoint it cannot read: that would
                // count its early records twice or lose those the topic no longer keeps.
                refused.put(p, e.getMessage());
                lastError = "partition " + p + ": " + e.getMessage();
                consumer.pause(List.of(tp));
                LOG.error("partition {} paused: its checkpoint is unusable: {}", p, e.getMessage());
            }
        }
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
        Set<Integer> parts = numbers(revoked);
        parts.retainAll(next.keySet());
        checkpoint(parts); // a graceful hand-over: the next owner starts from here
        release(parts);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> lost) {
        release(numbers(lost)); // someone else may own them already: no checkpoint
    }

    private void release(Set<Integer> parts) {
        monitor.recovery().releaseLayers(inPartition(parts));
        parts.forEach(p -> {
            next.remove(p);
            owned.remove(p);
            refused.remove(p);
        });
        if (!parts.isEmpty()) {
            LOG.info("released partitions {}", new java.util.TreeSet<>(parts));
        }
    }

    private static Set<Integer> numbers(Collection<TopicPartition> tps) {
        Set<Integer> out = new HashSet<>();
        tps.forEach(tp -> out.add(tp.partition()));
        return out;
    }

    /** Unhealthy while it stopped, a partition or a layer is refused, or an acknowledged record was refused. */
    boolean healthy() {
        return running && refused.isEmpty() && refusedLayers.isEmpty() && refusedRecords.isEmpty();
    }

    Map<String, Object> status() {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put(JsonFields.OWNED_PARTITIONS, new java.util.TreeSet<>(owned));
        m.put(JsonFields.REFUSED_PARTITIONS, new TreeMap<>(refused));
        m.put(JsonFields.RECORDS_APPLIED, applied.get());
        m.put(JsonFields.RECORDS_UNREADABLE, unreadable.get());
        Map<String, Long> byReason = new TreeMap<>();
        refusedRecords.forEach((k, v) -> byReason.put(k, v.get()));
        m.put(JsonFields.RECORDS_REFUSED, byReason);
        m.put(JsonFields.LAST_REFUSAL, lastRefusal);
        m.put(JsonFields.REFUSED_LAYERS, new TreeMap<>(refusedLayers));
        m.put(JsonFields.CHECKPOINTS, checkpoints.get());
        m.put(JsonFields.LAST_CHECKPOINT_MS, lastCheckpointMillis);
        m.put(JsonFields.RUNNING, running);
        m.put(JsonFields.LAST_ERROR, lastError);
        return m;
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        advertiser.close(Duration.ofSeconds(5));
    }
}
