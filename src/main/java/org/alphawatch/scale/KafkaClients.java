package org.alphawatch.scale;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** The client configurations of scale-out, in one place (docs/scale-out.md explains each choice). */
final class KafkaClients {
    private KafkaClients() {}

    /** Largest record: a request body of max-body-bytes, framed, and some slack. */
    static int maxRecordBytes(long maxBodyBytes) {
        return (int) Math.min(Integer.MAX_VALUE - 1024, maxBodyBytes + (1 << 16));
    }

    /** Idempotent, acks=all, no compression, records as large as the largest body. */
    static KafkaProducer<String, byte[]> producer(ScaleSettings s, String clientId, int maxRecord) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrap());
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "1");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(maxRecord));
        p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(Math.max(64L << 20, 2L * maxRecord)));
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    /**
     * A member of the workers' group: offsets are never auto-committed (they live in checkpoints),
     * and never reset: an offset the topic no longer has is a refused partition, not a silent jump.
     */
    static KafkaConsumer<String, byte[]> worker(ScaleSettings s, String clientId, int maxRecord, java.nio.file.Path stateDir) {
        Properties p = consumerBase(s, clientId, maxRecord);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        p.put(ConsumerConfig.GROUP_ID_CONFIG, s.group());
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        // Placement by what partitions cost (their layers' memory), sticky and cooperative.
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CostBalancedAssignor.class.getName());
        p.put(CostBalancedAssignor.STATE_DIR, stateDir.toString());
        p.put(CostBalancedAssignor.TOPIC, s.topic());
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "64");
        p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "600000");
        return new KafkaConsumer<>(p);
    }

    /** A reader without a group (the owners topic, read whole by every node). */
    static KafkaConsumer<String, byte[]> reader(ScaleSettings s, String clientId) {
        return new KafkaConsumer<>(consumerBase(s, clientId, 1 << 20));
    }

    private static Properties consumerBase(ScaleSettings s, String clientId, int maxRecord) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrap());
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(maxRecord));
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(Math.max(maxRecord, 64 << 20)));
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    /** The batch topic as it is: its partitions and its id (another id: the topic was deleted and created again). */
    record TopicInfo(int partitions, String id) {}

    static Admin admin(ScaleSettings s) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrap());
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        return Admin.create(p);
    }

    /**
     * Creates the batch topic (s.partitions(), records up to maxRecord), the compacted owners topic
     * and the refused-records topic when missing; returns the batch topic's actual partition count
     * (an existing topic keeps its own: partitions are never added to a live topic) and id.
     */
    static TopicInfo ensureTopics(ScaleSettings s, int maxRecord) throws InterruptedException, ExecutionException {
        try (Admin admin = admin(s)) {
            // Replication: the brokers' default.replication.factor (1 on the local broker).
            create(admin, new NewTopic(s.topic(), Optional.of(s.partitions()), Optional.empty())
                    .configs(Map.of("max.message.bytes", Integer.toString(maxRecord))));
            create(admin, new NewTopic(s.ownersTopic(), Optional.of(1), Optional.empty())
                    .configs(Map.of("cleanup.policy", "compact")));
            create(admin, new NewTopic(s.refusedTopic(), Optional.of(1), Optional.empty())
                    .configs(Map.of("max.message.bytes", Integer.toString(maxRecord))));
            var d = admin.describeTopics(List.of(s.topic())).allTopicNames().get(30, TimeUnit.SECONDS).get(s.topic());
            return new TopicInfo(d.partitions().size(), d.topicId().toString());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new ExecutionException("Kafka at " + s.bootstrap() + " did not answer", e);
        }
    }

    private static void create(Admin admin, NewTopic topic) throws InterruptedException, ExecutionException {
        try {
            admin.createTopics(List.of(topic)).all().get();
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
    }
}
