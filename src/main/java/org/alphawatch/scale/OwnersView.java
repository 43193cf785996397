package org.alphawatch.scale;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntPredicate;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.alphawatch.pipeline.LayerKey;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which node owns each partition, read from the compacted owners topic (key: partition, value:
 * the owner's URL; the newest record wins, so a new owner replaces a crashed one as soon as it
 * is assigned). Every node reads it whole, on its own thread.
 */
final class OwnersView implements ClusterView, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OwnersView.class);

    private final KafkaConsumer<String, byte[]> reader;
    private final TopicPartition topic;
    private final int partitions;
    private final Supplier<String> self;
    private final Map<Integer, String> owners = new ConcurrentHashMap<>();
    private final Set<String> unreachable = ConcurrentHashMap.newKeySet();
    private final IntPredicate ownsLocally;
    private final HttpClient probes = HttpClient.newBuilder().connectTimeout(PROBE_TIMEOUT).build();
    private final Thread thread;
    private final Thread prober;
    private volatile boolean running = true;

    /** How often and how long the other owners are asked whether they are alive. */
    static final Duration PROBE_EVERY = Duration.ofSeconds(1);
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);

    /**
     * @param ownsLocally whether this node's worker owns a partition right now (it knows before the
     *                    owners topic says so, and after it stopped owning)
     */
    OwnersView(KafkaConsumer<String, byte[]> reader, String ownersTopic, int partitions, Supplier<String> self,
               IntPredicate ownsLocally) {
        this.reader = reader;
        this.topic = new TopicPartition(ownersTopic, 0);
        this.partitions = partitions;
        this.self = self;
        this.ownsLocally = ownsLocally;
        this.thread = new Thread(this::run, "alphawatch-kafka-owners");
        thread.setDaemon(true);
        this.prober = new Thread(this::probe, "alphawatch-kafka-probes");
        prober.setDaemon(true);
    }

    void start() {
        thread.start();
        prober.start();
    }

    /** Asks every other owner's {@code /healthz} (any answer is alive; no answer within the timeout is not). */
    private void probe() {
        while (running) {
            for (String url : otherOwners()) {
                try {
                    probes.send(HttpRequest.newBuilder(URI.create(url + "/healthz")).timeout(PROBE_TIMEOUT).GET().build(),
                            HttpResponse.BodyHandlers.discarding());
                    if (unreachable.remove(url)) {
                        LOG.info("owner {} answers again", url);
                    }
                } catch (IOException e) {
                    if (unreachable.add(url)) {
                        LOG.warn("owner {} does not answer: {}", url, e.toString());
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    unreachable.add(url);
                }
            }
            unreachable.retainAll(otherOwners());
            try {
                Thread.sleep(PROBE_EVERY.toMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void run() {
        try {
            reader.assign(List.of(topic));
            reader.seekToBeginning(List.of(topic));
            while (running) {
                for (ConsumerRecord<String, byte[]> r : reader.poll(Duration.ofMillis(300))) {
                    if (ClusterSettings.KEY.equals(r.key())) {
                        continue; // read once at start (ScaleOut)
                    }
                    try {
                        int p = Integer.parseInt(r.key());
                        if (r.value() == null || r.value().length == 0) {
                            owners.remove(p); // retracted: the partition is moving
                        } else {
                            owners.put(p, new String(r.value(), StandardCharsets.UTF_8));
                        }
                    } catch (NumberFormatException e) {
                        LOG.warn("owners topic: key '{}' is not a partition", r.key());
                    }
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            LOG.error("owners topic reader stopped: {}", e.toString());
        } finally {
            reader.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        }
    }

    @Override
    public Ownership ownership(LayerKey key) {
        return ownership(Partitioning.partition(key, partitions));
    }

    private Ownership ownership(int partition) {
        if (ownsLocally.test(partition)) {
            return new Ownership(State.LOCAL, self.get());
        }
        String url = owners.get(partition);
        if (url == null || url.equals(self.get())) {
            // No owner, or the topic still names this node though it let go: the partition is moving.
            return new Ownership(State.MOVING, null);
        }
        return new Ownership(unreachable.contains(url) ? State.UNREACHABLE : State.REMOTE, url);
    }

    @Override
    public Set<Integer> partitionsWithoutLiveOwner() {
        Set<Integer> out = new TreeSet<>();
        for (int p = 0; p < partitions; p++) {
            State s = ownership(p).state();
            if (s == State.MOVING || s == State.UNREACHABLE) {
                out.add(p);
            }
        }
        return out;
    }

    @Override
    public Set<String> unreachableOwners() {
        return Set.copyOf(unreachable);
    }

    @Override
    public List<String> otherOwners() {
        String me = self.get();
        return owners.values().stream().distinct().filter(u -> !u.equals(me)).sorted().toList();
    }

    Map<Integer, String> owners() {
        return Map.copyOf(owners);
    }

    @Override
    public void close() {
        running = false;
        prober.interrupt();
        reader.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
