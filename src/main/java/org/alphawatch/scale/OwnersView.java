package org.alphawatch.scale;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
    private final Thread thread;
    private volatile boolean running = true;

    OwnersView(KafkaConsumer<String, byte[]> reader, String ownersTopic, int partitions, Supplier<String> self) {
        this.reader = reader;
        this.topic = new TopicPartition(ownersTopic, 0);
        this.partitions = partitions;
        this.self = self;
        this.thread = new Thread(this::run, "alphawatch-kafka-owners");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    private void run() {
        try {
            reader.assign(List.of(topic));
            reader.seekToBeginning(List.of(topic));
            while (running) {
                for (ConsumerRecord<String, byte[]> r : reader.poll(Duration.ofMillis(300))) {
                    try {
                        int p = Integer.parseInt(r.key());
                        if (r.value() == null) {
                            owners.remove(p);
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
    public Optional<String> remoteOwner(LayerKey key) {
        String url = owners.get(Partitioning.partition(key, partitions));
        return url == null || url.equals(self.get()) ? Optional.empty() : Optional.of(url);
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
        reader.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
