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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.alphawatch.durability.WalReader;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.Admission;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.pipeline.Monitor;
import org.alphawatch.pipeline.RecoveryPort;
import org.alphawatch.report.JsonFields;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A member of the workers' consumer group: applies the records of the partitions it is assigned
 * to their layers in the local {@link Monitor}, through the monitor's ingest door (the same checks,
 * limits and de-duplication as HTTP), and checkpoints each partition (its layers and the offset
 * after the last record they contain) to the shared state directory. On assignment it restores the
 * partition's checkpoint and seeks to that offset, so that whoever owned the partition before (a
 * worker that crashed, or handed it over in a rebalance) leaves nothing lost and nothing counted
 * twice.
 *
 * <p>Refused, loudly (named in {@code /healthz}, counted, the partition paused, never started from
 * scratch): a checkpoint of another incarnation of the topic, an offset the topic no longer holds
 * (retention, a broker that lost its data), a log whose first records are gone with no checkpoint.
 * A record the monitor refuses was acknowledged to a client already: it is counted, copied to the
 * refused-records topic (where an operator can replay it) and shown in {@code /healthz}.
 *
 * <p>Checkpoints: every {@code checkpointEvery}, of partitions that applied records since the last
 * one; the layers' states are captured in their mailboxes (after every record admitted before) and
 * written off the poll thread; the records before the previous checkpoint are then purged from
 * the topic (one interval kept as margin). Kafka's committed offsets are the applied position, for
 * lag and tooling only: the checkpoint is the truth. Everything touching the consumer runs on its
 * one thread.
 */
final class KafkaWorker implements ConsumerRebalanceListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaWorker.class);
    private static final Duration CAPTURE_WAIT = Duration.ofMinutes(10);
    private static final Duration COMMIT_EVERY = Duration.ofSeconds(1);

    private final ScaleSettings settings;
    private final int partitions;
    private final Monitor monitor;
    private final PartitionCheckpoints store;
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, byte[]> producer;
    private final Admin admin;
    private final Supplier<String> self;
    private final Duration checkpointEvery;
    private final Thread thread;
    /** Writes checkpoint files in order, off the poll thread. */
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "alphawatch-kafka-checkpoint");
        t.setDaemon(true);
        return t;
    });

    /** Owned partitions and the offset after the last record handed to the monitor (poll thread only). */
    private final Map<Integer, Long> next = new HashMap<>();
    /** Offset of each partition's last checkpoint asked for (poll thread only). */
    private final Map<Integer, Long> checkpointed = new HashMap<>();
    /** Offset of each partition's last checkpoint on disk (writer thread): what purging may rely on. */
    private final Map<Integer, Long> durable = new ConcurrentHashMap<>();
    /** Partitions whose last checkpoint failed: tried again at the next interval. */
    private final Set<Integer> retry = ConcurrentHashMap.newKeySet();
    private final Set<Integer> owned = ConcurrentHashMap.newKeySet();
    /** Partitions whose checkpoint or offsets cannot be used: paused, reported, never started from scratch. */
    private final Map<Integer, String> refused = new ConcurrentHashMap<>();
    /** The checkpoint file of each refused partition as it was when refused (poll thread only). */
    private final Map<Integer, String> refusedStamp = new HashMap<>();
    /** Layers whose saved state could not be read: their records are refused, the others go on. */
    private final Map<String, String> refusedLayers = new ConcurrentHashMap<>();
    /** Records the monitor refused (acknowledged by ingest, so nobody can be told): by reason. */
    private final Map<String, AtomicLong> refusedRecords = new ConcurrentHashMap<>();
    private final Map<Integer, Long> lag = new ConcurrentHashMap<>();
    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong unreadable = new AtomicLong();
    private final AtomicLong checkpoints = new AtomicLong();
    private final AtomicLong checkpointFailures = new AtomicLong();
    private volatile long lastCheckpointMillis = -1;
    private volatile long lastCheckpointBytes;
    private volatile String lastRefusal;
    private volatile String lastError;
    private volatile boolean running = true;

    KafkaWorker(ScaleSettings settings, int partitions, Monitor monitor, PartitionCheckpoints store,
                KafkaConsumer<String, byte[]> consumer, KafkaProducer<String, byte[]> producer, Admin admin,
                Supplier<String> self, Duration checkpointEvery) {
        this.settings = settings;
        this.partitions = partitions;
        this.monitor = monitor;
        this.store = store;
        this.consumer = consumer;
        this.producer = producer;
        this.admin = admin;
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
        long lastCommit = System.nanoTime();
        try {
            consumer.subscribe(List.of(settings.topic()), this);
            while (running) {
                ConsumerRecords<String, byte[]> records;
                try {
                    records = consumer.poll(Duration.ofMillis(200));
                } catch (OffsetOutOfRangeException e) {
                    // Records this worker was about to read are gone (deleted or lost by the broker).
                    e.offsetOutOfRangePartitions().forEach((tp, offset) -> refuse(tp, "offset " + offset
                            + " is no longer in the topic (deleted, expired or lost by the broker): its records "
                            + "were never applied"));
                    continue;
                } catch (org.apache.kafka.clients.consumer.InvalidOffsetException e) {
                    e.partitions().forEach(tp -> refuse(tp, "no position to resume from: " + e.getMessage()));
                    continue;
                }
                for (TopicPartition tp : records.partitions()) {
                    for (ConsumerRecord<String, byte[]> r : records.records(tp)) {
                        apply(tp.partition(), r);
                    }
                }
                if (System.nanoTime() - lastCommit >= COMMIT_EVERY.toNanos()) {
                    commitPositions();
                    retryRefused();
                    lastCommit = System.nanoTime();
                }
                if (System.nanoTime() - lastCheckpoint >= checkpointEvery.toNanos()) {
                    checkpoint(changedPartitions(), false);
                    lastCheckpoint = System.nanoTime();
                }
            }
            checkpoint(new ArrayList<>(next.keySet()), true); // a clean stop hands over everything
        } catch (WakeupException e) {
            if (running) {
                lastError = "woken unexpectedly";
            } else {
                checkpoint(new ArrayList<>(next.keySet()), true);
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
                        refusedRecord(partition, r, batch.key(), "layer_unreadable", unreadableLayer);
                        return;
                    }
                    // The live door, as HTTP ingest: validated, limited, budgeted, de-duplicated.
                    Admission a = monitor.ingest().offerFromWorker(batch);
                    if (!a.ok()) {
                        refusedRecord(partition, r, batch.key(), a.reason().label(), a.message());
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

    /** Counts a refused record and keeps a copy, with why, in the refused-records topic (for replay). */
    private void refusedRecord(int partition, ConsumerRecord<String, byte[]> r, LayerKey key, String reason,
                               String message) {
        refusedRecords.computeIfAbsent(reason, k -> new AtomicLong()).incrementAndGet();
        lastRefusal = settings.topic() + "-" + partition + " offset " + r.offset() + " (" + key + "): " + reason + ": "
                + message;
        LOG.error("record refused, its data is not applied: {}", lastRefusal);
        ProducerRecord<String, byte[]> copy = new ProducerRecord<>(settings.refusedTopic(), r.key(), r.value());
        copy.headers().add("reason", reason.getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .add("detail", message.getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .add("source", (settings.topic() + "-" + partition + "@" + r.offset())
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        producer.send(copy, (meta, e) -> {
            if (e != null) {
                LOG.error("the refused record {} could not be kept in {}: {}", lastRefusal, settings.refusedTopic(),
                        e.toString());
            }
        });
    }

    /** Partitions that handed records to the monitor since their last checkpoint. */
    private List<Integer> changedPartitions() {
        List<Integer> out = new ArrayList<>();
        next.forEach((p, offset) -> {
            if (!offset.equals(checkpointed.get(p)) || retry.remove(p)) {
                out.add(p);
            }
        });
        return out;
    }

    /**
     * Checkpoints {@code parts} at their current offsets: captures are posted now (poll thread);
     * files are written on the writer thread, and waited for only when {@code wait} (a hand-over).
     */
    private void checkpoint(Collection<Integer> parts, boolean wait) {
        int epoch = consumer.groupMetadata().generationId();
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        for (int p : parts) {
            Long offset = next.get(p);
            if (offset == null || refused.containsKey(p)) {
                continue;
            }
            List<CompletableFuture<byte[]>> captures = monitor.recovery().captureLayersAsync(inPartition(Set.of(p)));
            checkpointed.put(p, offset);
            writes.add(CompletableFuture.runAsync(() -> write(p, offset, epoch, captures), writer));
        }
        if (wait) {
            try {
                CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(CAPTURE_WAIT.toMillis(),
                        TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                LOG.error("hand-over checkpoint of {} did not finish: {}", parts, e.toString());
            }
        }
    }

    /** Writer thread: waits for the captures, writes the file, purges what the previous checkpoint on disk covers. */
    private void write(int p, long offset, int epoch, List<CompletableFuture<byte[]>> captures) {
        try {
            List<byte[]> layers = new ArrayList<>();
            for (CompletableFuture<byte[]> c : captures) {
                byte[] state = c.get(CAPTURE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                if (state != null) {
                    layers.add(state);
                }
            }
            lastCheckpointBytes = store.save(p, offset, epoch, layers);
            checkpoints.incrementAndGet();
            lastCheckpointMillis = System.currentTimeMillis();
            Long previous = durable.put(p, offset);
            if (previous != null && previous > 0) {
                // One checkpoint interval kept as margin; older records are in every checkpoint since.
                admin.deleteRecords(Map.of(new TopicPartition(settings.topic(), p), RecordsToDelete.beforeOffset(previous)));
            }
        } catch (PartitionCheckpoints.Refused e) {
            // A newer owner wrote it: this worker lost the partition; nothing to retry.
            checkpointFailures.incrementAndGet();
            lastError = "checkpoint of partition " + p + " refused: " + e.getMessage();
            LOG.error("{}", lastError);
        } catch (Exception e) {
            checkpointFailures.incrementAndGet();
            retry.add(p);
            lastError = "checkpoint of partition " + p + " failed: " + e;
            LOG.error("checkpoint of partition {} failed: {}", p, e.toString());
        }
    }

    /** The applied positions as committed offsets: what other nodes read as this group's lag. */
    private void commitPositions() {
        Map<TopicPartition, OffsetAndMetadata> positions = new HashMap<>();
        next.forEach((p, offset) -> positions.put(new TopicPartition(settings.topic(), p),
                new OffsetAndMetadata(offset, "applied")));
        for (int p : next.keySet()) {
            consumer.currentLag(new TopicPartition(settings.topic(), p)).ifPresent(l -> lag.put(p, l));
        }
        if (!positions.isEmpty()) {
            consumer.commitAsync(positions, (offsets, e) -> {
                if (e != null) {
                    LOG.debug("informational offset commit failed: {}", e.toString());
                }
            });
        }
    }

    private Predicate<LayerKey> inPartition(Set<Integer> parts) {
        return key -> parts.contains(partitionOf(key));
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
        for (TopicPartition tp : assigned) {
            try {
                take(tp);
            } catch (Exception e) {
                // Never start a partition from scratch over a checkpoint it cannot use: that would
                // count its early records twice or lose those the topic no longer keeps.
                refuse(tp, e.getMessage());
            }
        }
    }

    /** Restores a partition from its checkpoint and seeks there, or throws why it cannot (poll thread). */
    private void take(TopicPartition tp) throws Exception {
        int p = tp.partition();
        PartitionCheckpoints.Saved saved = store.load(p);
        long first = consumer.beginningOffsets(List.of(tp)).get(tp);
        long end = consumer.endOffsets(List.of(tp)).get(tp);
        long from = saved == null ? 0 : saved.nextOffset();
        if (from < first) {
            throw new PartitionCheckpoints.Refused("records " + from + ".." + (first - 1) + " are no longer in "
                    + "the topic (retention or a deletion) and " + (saved == null ? "no checkpoint holds them"
                    : "the checkpoint does not hold them") + ": starting would lose them silently");
        }
        if (from > end) {
            throw new PartitionCheckpoints.Refused("the checkpoint resumes at offset " + from + " but the topic "
                    + "ends at " + end + " (a broker that lost its data?): not this topic's records");
        }
        if (saved != null) {
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
        }
        consumer.seek(tp, from);
        next.put(p, from);
        checkpointed.put(p, from);
        owned.add(p);
        refused.remove(p);
        refusedStamp.remove(p);
        advertise(p, self.get());
        LOG.info("owns {} from {}", tp, saved == null ? "the beginning" : "offset " + from + " ("
                + saved.layers().size() + " layers)");
    }

    /** Poll thread: a refused partition whose checkpoint an operator reset (the file changed) is taken again. */
    private void retryRefused() {
        for (int p : new ArrayList<>(refused.keySet())) {
            if (!stamp(p).equals(refusedStamp.get(p))) {
                TopicPartition tp = new TopicPartition(settings.topic(), p);
                try {
                    take(tp);
                    consumer.resume(List.of(tp));
                    LOG.info("partition {} taken again after its checkpoint changed", p);
                } catch (Exception e) {
                    refuse(tp, e.getMessage());
                }
            }
        }
    }

    private String stamp(int p) {
        java.nio.file.Path f = store.file(p);
        try {
            return java.nio.file.Files.exists(f) ? java.nio.file.Files.getLastModifiedTime(f) + "/"
                    + java.nio.file.Files.size(f) : "absent";
        } catch (java.io.IOException e) {
            return "unreadable";
        }
    }

    private void refuse(TopicPartition tp, String why) {
        refused.put(tp.partition(), why);
        refusedStamp.put(tp.partition(), stamp(tp.partition()));
        lastError = "partition " + tp.partition() + ": " + why;
        consumer.pause(List.of(tp));
        // A paused partition still needs a position (no reset policy): any will do, it is not fetched.
        consumer.seek(tp, 0);
        LOG.error("partition {} paused and refused: {}", tp.partition(), why);
    }

    /** Publishes this node as the partition's owner; null: retracts (the partition is moving). */
    private void advertise(int p, String url) {
        try {
            producer.send(new ProducerRecord<>(settings.ownersTopic(), 0, Integer.toString(p),
                    url == null ? new byte[0] : url.getBytes(java.nio.charset.StandardCharsets.UTF_8))).get(10,
                    TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("owners topic: partition {} not advertised: {}", p, e.toString());
        }
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
        Set<Integer> parts = numbers(revoked);
        parts.retainAll(next.keySet());
        // Queries for these layers answer 503 "moving" from now until the next owner advertises.
        parts.forEach(p -> advertise(p, null));
        checkpoint(parts, true); // a graceful hand-over: the next owner starts from here
        release(parts);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> lost) {
        release(numbers(lost)); // someone else may own them already: no checkpoint, no retraction
    }

    private void release(Set<Integer> parts) {
        monitor.recovery().releaseLayers(inPartition(parts));
        parts.forEach(p -> {
            next.remove(p);
            checkpointed.remove(p);
            durable.remove(p);
            retry.remove(p);
            owned.remove(p);
            refused.remove(p);
            lag.remove(p);
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

    /** Whether this worker owns partition {@code p} now (from assignment, before the owners topic says so). */
    boolean owns(int p) {
        return owned.contains(p);
    }

    int ownedPartitions() {
        return owned.size();
    }

    int refusedPartitions() {
        return refused.size();
    }

    long recordsApplied() {
        return applied.get();
    }

    long lagRecords() {
        return lag.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Every reason a record can be refused for (the labels of alphawatch_kafka_records_refused_total). */
    static List<String> refusalReasons() {
        List<String> out = new ArrayList<>();
        for (org.alphawatch.pipeline.RejectReason r : org.alphawatch.pipeline.RejectReason.values()) {
            out.add(r.label());
        }
        out.add("layer_unreadable");
        return out;
    }

    long refusedRecords(String reason) {
        AtomicLong n = refusedRecords.get(reason);
        return n == null ? 0 : n.get();
    }

    /** Seconds since the last checkpoint written (NaN before the first). */
    double checkpointAgeSeconds() {
        long t = lastCheckpointMillis;
        return t < 0 ? Double.NaN : (System.currentTimeMillis() - t) / 1e3;
    }

    long lastCheckpointBytes() {
        return lastCheckpointBytes;
    }

    long checkpointFailures() {
        return checkpointFailures.get();
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
        m.put(JsonFields.LAG_RECORDS, lagRecords());
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
        writer.shutdown();
        try {
            writer.awaitTermination(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(5));
        admin.close(Duration.ofSeconds(5));
    }
}
