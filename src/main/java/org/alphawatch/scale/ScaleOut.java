package org.alphawatch.scale;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.alphawatch.metrics.MetricNames;
import org.alphawatch.pipeline.BatchSink;
import org.alphawatch.pipeline.Monitor;
import org.alphawatch.report.JsonFields;

/**
 * A node of a scale-out cluster (docs/scale-out.md): HTTP ingest publishes to Kafka, a worker (role
 * worker or all) owns partitions of the batch topic and their layers, and every node knows the
 * owners, for queries. The only class outside this package that {@code serve} touches, and only
 * when Kafka is configured: without it no Kafka class is ever loaded.
 */
public final class ScaleOut implements AutoCloseable {
    private final ScaleSettings settings;
    private final int partitions;
    private final KafkaIngest ingest;
    private final OwnersView owners;
    private final KafkaWorker worker;

    private ScaleOut(ScaleSettings settings, int partitions, KafkaIngest ingest, OwnersView owners, KafkaWorker worker) {
        this.settings = settings;
        this.partitions = partitions;
        this.ingest = ingest;
        this.owners = owners;
        this.worker = worker;
    }

    /**
     * Connects (creating the topics when missing); nothing is consumed before {@link #start}.
     *
     * @param self this node's URL for the others (known once its server listens)
     */
    public static ScaleOut connect(ScaleSettings settings, Monitor monitor, Path stateDir, Duration checkpointEvery,
                                   long maxBodyBytes, Optional<String> token, Supplier<String> self) throws Exception {
        int maxRecord = KafkaClients.maxRecordBytes(maxBodyBytes);
        KafkaClients.TopicInfo topic = KafkaClients.ensureTopics(settings, maxRecord);
        int partitions = topic.partitions();
        String id = "alphawatch-" + ProcessHandle.current().pid();
        agree(settings, ClusterSettings.of(monitor.config()), id);
        Supplier<String> url = () -> settings.advertise().orElseGet(self);
        KafkaWorker worker = null;
        if (settings.role().consumes()) {
            worker = new KafkaWorker(settings, partitions, monitor,
                    new PartitionCheckpoints(stateDir.resolve("partitions"), settings.topic(), topic.id()),
                    KafkaClients.worker(settings, id + "-worker", maxRecord, stateDir),
                    KafkaClients.producer(settings, id + "-owners", maxRecord), KafkaClients.admin(settings), url,
                    checkpointEvery);
        }
        KafkaWorker w = worker;
        OwnersView owners = new OwnersView(KafkaClients.reader(settings, id + "-owners"), settings.ownersTopic(),
                partitions, url, p -> w != null && w.owns(p));
        KafkaIngest ingest = new KafkaIngest(KafkaClients.producer(settings, id + "-ingest", maxRecord), settings,
                partitions, owners, monitor.ingest(), KafkaClients.admin(settings), settings.maxLag(), token);
        return new ScaleOut(settings, partitions, ingest, owners, worker);
    }

    /**
     * The cluster's settings (ClusterSettings): recorded by the first node, compared by every
     * other; a node that differs refuses to start, naming the setting. When two first nodes race,
     * the record written last is the cluster's (compaction keeps it) and the other node refuses.
     */
    static void agree(ScaleSettings s, ClusterSettings mine, String clientId) throws Exception {
        ClusterSettings found = readSettings(s, clientId);
        if (found == null) {
            try (KafkaProducer<String, byte[]> p = KafkaClients.producer(s, clientId + "-settings", 1 << 20)) {
                p.send(new ProducerRecord<>(s.ownersTopic(), 0, ClusterSettings.KEY, mine.encode())).get(30,
                        TimeUnit.SECONDS);
            }
            found = readSettings(s, clientId);
        }
        Optional<String> difference = mine.difference(found);
        if (difference.isPresent()) {
            throw new IllegalStateException("this node's settings differ from the cluster's: " + difference.get());
        }
    }

    /** The newest settings record of the owners topic, or null. */
    private static ClusterSettings readSettings(ScaleSettings s, String clientId) {
        TopicPartition tp = new TopicPartition(s.ownersTopic(), 0);
        try (KafkaConsumer<String, byte[]> r = KafkaClients.reader(s, clientId + "-settings")) {
            r.assign(List.of(tp));
            r.seekToBeginning(List.of(tp));
            long end = r.endOffsets(List.of(tp)).get(tp);
            ClusterSettings last = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (r.position(tp) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> rec : r.poll(Duration.ofMillis(200))) {
                    if (ClusterSettings.KEY.equals(rec.key()) && rec.value() != null) {
                        last = ClusterSettings.decode(rec.value());
                    }
                }
            }
            return last;
        }
    }

    public ScaleOut start() {
        owners.start();
        ingest.start();
        if (worker != null) {
            worker.start();
        }
        return this;
    }

    public BatchSink sink() {
        return ingest;
    }

    public ClusterView view() {
        return owners;
    }

    /**
     * An operator's reset of a refused partition (the {@code kafka-reset} command): its checkpoint is
     * moved aside so the next owner starts from the topic's first record, or with {@code adoptAt} >= 0
     * its layers are kept and count from that offset of the topic as it is now. Returns what was done.
     */
    public static String resetPartition(ScaleSettings settings, Path stateDir, int partition, long adoptAt)
            throws Exception {
        KafkaClients.TopicInfo topic;
        try (var admin = KafkaClients.admin(settings)) {
            var d = admin.describeTopics(List.of(settings.topic())).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(settings.topic());
            topic = new KafkaClients.TopicInfo(d.partitions().size(), d.topicId().toString());
        }
        if (partition < 0 || partition >= topic.partitions()) {
            throw new IllegalArgumentException("partition " + partition + " is not within 0.." + (topic.partitions() - 1)
                    + " of " + settings.topic());
        }
        return new PartitionCheckpoints(stateDir.resolve("partitions"), settings.topic(), topic.id())
                .reset(partition, adoptAt);
    }

    /** Exports this node's scale-out state in {@code /metrics} (names: MetricNames, docs/metrics-reference.md). */
    public void bindMetrics(MeterRegistry r) {
        Gauge.builder(MetricNames.KAFKA_PARTITIONS_UNOWNED, () -> owners.partitionsWithoutLiveOwner().size())
                .description("Partitions no live node owns").register(r);
        Gauge.builder(MetricNames.KAFKA_UNREACHABLE_PEERS, () -> owners.unreachableOwners().size())
                .description("Owners that did not answer their last probe").register(r);
        FunctionCounter.builder(MetricNames.KAFKA_PUBLISHED, ingest, KafkaIngest::acknowledged)
                .description("Batches this node had acknowledged by Kafka").register(r);
        FunctionCounter.builder(MetricNames.KAFKA_PUBLISH_ERRORS, ingest, KafkaIngest::publishErrors)
                .description("Batches Kafka did not acknowledge").register(r);
        Gauge.builder(MetricNames.KAFKA_PUBLISH_SECONDS, ingest, KafkaIngest::meanPublishSeconds)
                .description("Mean seconds from send to Kafka's acknowledgement").register(r);
        Gauge.builder(MetricNames.KAFKA_GROUP_LAG, ingest, KafkaIngest::lagRecords)
                .description("Records the workers are behind, as committed offsets show").register(r);
        if (worker == null) {
            return;
        }
        KafkaWorker w = worker;
        Gauge.builder(MetricNames.KAFKA_PARTITIONS_OWNED, w, KafkaWorker::ownedPartitions)
                .description("Partitions this worker owns").register(r);
        Gauge.builder(MetricNames.KAFKA_PARTITIONS_REFUSED, w, KafkaWorker::refusedPartitions)
                .description("Owned partitions refused (checkpoint or offsets unusable)").register(r);
        FunctionCounter.builder(MetricNames.KAFKA_RECORDS_APPLIED, w, KafkaWorker::recordsApplied)
                .description("Records handed to the monitor").register(r);
        for (String reason : KafkaWorker.refusalReasons()) {
            FunctionCounter.builder(MetricNames.KAFKA_RECORDS_REFUSED, w, x -> x.refusedRecords(reason))
                    .tag("reason", reason).description("Acknowledged records this worker refused").register(r);
        }
        Gauge.builder(MetricNames.KAFKA_LAG, w, KafkaWorker::lagRecords)
                .description("Records this worker's partitions are behind").register(r);
        Gauge.builder(MetricNames.KAFKA_CHECKPOINT_AGE, w, KafkaWorker::checkpointAgeSeconds)
                .description("Seconds since the last partition checkpoint").register(r);
        Gauge.builder(MetricNames.KAFKA_CHECKPOINT_BYTES, w, KafkaWorker::lastCheckpointBytes)
                .description("Bytes of the last partition checkpoint").register(r);
        FunctionCounter.builder(MetricNames.KAFKA_CHECKPOINT_FAILURES, w, KafkaWorker::checkpointFailures)
                .description("Partition checkpoints that failed or were refused").register(r);
    }

    /** Degraded on every node while a partition has no live owner (its layers have no answer), or this worker is unwell. */
    public boolean healthy() {
        return (worker == null || worker.healthy()) && owners.partitionsWithoutLiveOwner().isEmpty();
    }

    /** For /healthz. */
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(JsonFields.ROLE, settings.role().label());
        m.put(JsonFields.TOPIC, settings.topic());
        m.put(JsonFields.PARTITIONS, partitions);
        m.put(JsonFields.OWNERS, new java.util.TreeMap<>(owners.owners()));
        m.put(JsonFields.UNOWNED_PARTITIONS, owners.partitionsWithoutLiveOwner());
        m.put(JsonFields.UNREACHABLE, new java.util.TreeSet<>(owners.unreachableOwners()));
        if (worker != null) {
            m.put(JsonFields.WORKER, worker.status());
        }
        return m;
    }

    @Override
    public void close() {
        if (worker != null) {
            worker.close();
        }
        owners.close();
        ingest.close();
    }
}
