package org.alphawatch.scale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.alphawatch.durability.WriteAheadLog;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.Admission;
import org.alphawatch.pipeline.BatchSink;
import org.alphawatch.pipeline.IngestPort;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.pipeline.RejectReason;
import org.alphawatch.report.JsonFields;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP ingest in scale-out: each validated batch becomes one record of the batch topic, in its
 * layer's partition, in the write-ahead log's record format; the 202 waits for Kafka's
 * acknowledgement (acks=all). A run's deletion is a record in every partition.
 *
 * <p>Never acknowledge what no worker will apply: before the first batch of a layer (and again
 * after {@link #KNOWN_FOR} or a change of width) the layer's owner is asked whether it would admit
 * it ({@code GET /v1/cluster/admission}: its width, limits and memory budget), and its refusal is
 * this node's answer (400, 507...); with no live owner the answer is 503 (retry). While the
 * workers are more than {@code maxLag} records behind the acknowledged records of a partition,
 * batches for it are answered 429 (retry) instead of being acknowledged at broker speed.
 * Thread-safe; {@link #offer} blocks (an owner's answer, Kafka's buffer): call it off event loops.
 */
final class KafkaIngest implements BatchSink, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaIngest.class);
    /** How long an owner's yes about a layer is trusted (the layer may be deleted and re-created). */
    static final Duration KNOWN_FOR = Duration.ofSeconds(30);
    private static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration LAG_EVERY = Duration.ofSeconds(1);

    private final KafkaProducer<String, byte[]> producer;
    private final ScaleSettings settings;
    private final int partitions;
    private final ClusterView owners;
    private final IngestPort local;
    private final Admin admin;
    private final long maxLag;
    private final Optional<String> token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(ASK_TIMEOUT).build();
    private final ObjectMapper json = new ObjectMapper();
    /** Layers an owner said yes to: their width and when. */
    private final Map<LayerKey, long[]> known = new ConcurrentHashMap<>();
    private final Map<Integer, Long> lag = new ConcurrentHashMap<>();
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong publishErrors = new AtomicLong();
    private final AtomicLong publishNanos = new AtomicLong();
    private final AtomicLong acknowledged = new AtomicLong();
    private final Thread lagReader;
    private volatile boolean running = true;

    /**
     * @param local  this node's own monitor (it answers for the partitions its worker owns)
     * @param maxLag records a partition's workers may be behind before its batches are answered 429 (0: no limit)
     */
    KafkaIngest(KafkaProducer<String, byte[]> producer, ScaleSettings settings, int partitions, ClusterView owners,
                IngestPort local, Admin admin, long maxLag, Optional<String> token) {
        this.producer = producer;
        this.settings = settings;
        this.partitions = partitions;
        this.owners = owners;
        this.local = local;
        this.admin = admin;
        this.maxLag = maxLag;
        this.token = token;
        this.lagReader = new Thread(this::readLag, "alphawatch-kafka-lag");
        lagReader.setDaemon(true);
    }

    void start() {
        lagReader.start();
    }

    @Override
    public Admission offer(ActivationBatch batch) {
        int partition = Partitioning.partition(batch.key(), partitions);
        Long behind = lag.get(partition);
        if (maxLag > 0 && behind != null && behind > maxLag) {
            return Admission.rejected(RejectReason.CLUSTER_BEHIND, "the workers are " + behind + " records behind in "
                    + "partition " + partition + " (more than kafka-max-lag " + maxLag + "); retry");
        }
        Admission owner = askOwner(batch);
        if (owner != null) {
            return owner;
        }
        long seq = published.incrementAndGet();
        CompletableFuture<Void> acked = new CompletableFuture<>();
        long start = System.nanoTime();
        try {
            producer.send(new ProducerRecord<>(settings.topic(), partition,
                    batch.key().run() + "/" + batch.key().layer(), WriteAheadLog.encodeBatch(seq, batch)), (meta, e) -> {
                        publishNanos.addAndGet(System.nanoTime() - start);
                        if (e == null) {
                            acknowledged.incrementAndGet();
                            acked.complete(null);
                        } else {
                            publishErrors.incrementAndGet();
                            acked.completeExceptionally(e);
                        }
                    });
        } catch (RuntimeException e) { // the producer refused at once (closed, buffer full past max.block.ms)
            publishErrors.incrementAndGet();
            acked.completeExceptionally(e);
        }
        return Admission.accepted(seq, acked);
    }

    /** The owner's refusal of a layer it has not said yes to recently, or null (go on). */
    private Admission askOwner(ActivationBatch batch) {
        LayerKey key = batch.key();
        long[] k = known.get(key);
        if (k != null && k[0] == batch.dims() && System.nanoTime() - k[1] < KNOWN_FOR.toNanos()) {
            return null;
        }
        boolean pairs = batch.repeatPairs() > 0 || batch.repeat() == 0;
        ClusterView.Ownership o = owners.ownership(key);
        Admission answer = switch (o.state()) {
            case LOCAL -> local.check(key, batch.dims(), pairs);
            case REMOTE -> ask(o.url(), key, batch.dims(), pairs);
            case MOVING -> Admission.rejected(RejectReason.NO_LIVE_OWNER, "layer " + key + ": its partition has no "
                    + "owner now (a hand-over, or no worker yet); retry");
            case UNREACHABLE -> Admission.rejected(RejectReason.NO_LIVE_OWNER, "layer " + key + ": its owner "
                    + o.url() + " does not answer; retry");
        };
        if (answer.ok()) {
            known.put(key, new long[] {batch.dims(), System.nanoTime()});
            return null;
        }
        return answer;
    }

    private Admission ask(String owner, LayerKey key, int dims, boolean pairs) {
        String uri = owner + "/v1/cluster/admission?run=" + enc(key.run()) + "&layer=" + enc(key.layer()) + "&dims="
                + dims + "&pairs=" + (pairs ? 1 : 0);
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(uri)).timeout(ASK_TIMEOUT).GET()
                .header(ClusterView.LOCAL_HEADER, "1");
        token.ifPresent(t -> req.header("Authorization", "Bearer " + t));
        try {
            HttpResponse<String> r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                return Admission.accepted(-1);
            }
            JsonNode body = json.readTree(r.body());
            String error = body.path(JsonFields.ERROR).asText("");
            for (RejectReason reason : RejectReason.values()) {
                if (reason.label().equals(error)) {
                    return Admission.rejected(reason, "the layer's owner " + owner + " refuses it: "
                            + body.path(JsonFields.DETAIL).asText());
                }
            }
            return Admission.rejected(RejectReason.NO_LIVE_OWNER, "the layer's owner " + owner + " answered "
                    + r.statusCode() + "; retry");
        } catch (IOException e) {
            return Admission.rejected(RejectReason.NO_LIVE_OWNER, "the layer's owner " + owner + " did not answer ("
                    + e.getMessage() + "); retry");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Admission.rejected(RejectReason.SHUTTING_DOWN, "interrupted");
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** Lag thread: the workers' committed (applied) offsets against the partitions' ends, every second. */
    private void readLag() {
        while (running) {
            try {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(settings.group())
                        .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
                Map<TopicPartition, OffsetSpec> ask = new HashMap<>();
                for (int p = 0; p < partitions; p++) {
                    ask.put(new TopicPartition(settings.topic(), p), OffsetSpec.latest());
                }
                Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(ask).all()
                        .get(10, TimeUnit.SECONDS);
                ends.forEach((tp, end) -> {
                    OffsetAndMetadata c = committed.get(tp);
                    lag.put(tp.partition(), c == null ? end.offset() : Math.max(0, end.offset() - c.offset()));
                });
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                LOG.debug("lag of group {} not read: {}", settings.group(), e.toString());
            }
            try {
                Thread.sleep(LAG_EVERY.toMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
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
            producer.send(new ProducerRecord<>(settings.topic(), p, run, record), (meta, e) -> {
                if (e == null) {
                    acked.complete(null);
                } else {
                    publishErrors.incrementAndGet();
                    acked.completeExceptionally(e);
                }
            });
        }
        known.keySet().removeIf(k -> k.run().equals(run));
        return CompletableFuture.allOf(acks).thenApply(v -> seq);
    }

    long publishErrors() {
        return publishErrors.get();
    }

    long acknowledged() {
        return acknowledged.get();
    }

    /** Mean seconds from send to Kafka's acknowledgement (or failure), over all records so far. */
    double meanPublishSeconds() {
        long n = acknowledged.get() + publishErrors.get();
        return n == 0 ? 0 : publishNanos.get() / 1e9 / n;
    }

    /** Records the workers are behind, all partitions together (as of the last reading). */
    long lagRecords() {
        return lag.values().stream().mapToLong(Long::longValue).sum();
    }

    @Override
    public void close() {
        running = false;
        lagReader.interrupt();
        producer.close(Duration.ofSeconds(10));
        admin.close(Duration.ofSeconds(5));
    }
}
