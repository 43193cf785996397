package org.alphawatch.scale;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
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
                                   long maxBodyBytes, Supplier<String> self) throws Exception {
        int maxRecord = KafkaClients.maxRecordBytes(maxBodyBytes);
        int partitions = KafkaClients.ensureTopics(settings, maxRecord);
        String id = "alphawatch-" + ProcessHandle.current().pid();
        Supplier<String> url = () -> settings.advertise().orElseGet(self);
        KafkaIngest ingest = new KafkaIngest(KafkaClients.producer(settings, id + "-ingest", maxRecord),
                settings.topic(), partitions);
        OwnersView owners = new OwnersView(KafkaClients.reader(settings, id + "-owners"), settings.ownersTopic(),
                partitions, url);
        KafkaWorker worker = null;
        if (settings.role().consumes()) {
            worker = new KafkaWorker(settings, partitions, monitor,
                    new PartitionCheckpoints(stateDir.resolve("partitions"), settings.topic()),
                    KafkaClients.worker(settings, id + "-worker", maxRecord),
                    KafkaClients.producer(settings, id + "-owners", 1 << 20), url, checkpointEvery);
        }
        return new ScaleOut(settings, partitions, ingest, owners, worker);
    }

    public ScaleOut start() {
        owners.start();
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

    public boolean healthy() {
        return worker == null || worker.healthy();
    }

    /** For /healthz. */
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(JsonFields.ROLE, settings.role().label());
        m.put(JsonFields.TOPIC, settings.topic());
        m.put(JsonFields.PARTITIONS, partitions);
        m.put(JsonFields.OWNERS, new java.util.TreeMap<>(owners.owners()));
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
