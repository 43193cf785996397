package org.alphawatch.scale;

import java.util.Locale;
import java.util.Optional;

/**
 * Scale-out on Apache Kafka ({@code serve --kafka}): docs/scale-out.md.
 *
 * @param bootstrap  the brokers, {@code HOST:PORT[,...]}
 * @param role       what this process does
 * @param topic      the batch topic, partitioned by layer
 * @param partitions partitions of the topic when it is created (many more than workers)
 * @param group      the workers' consumer group
 * @param advertise  the URL other nodes reach this one at (default: its own listening URL)
 * @param maxLag     records the workers may be behind in a partition before ingest answers 429 (0: no limit)
 */
public record ScaleSettings(String bootstrap, Role role, String topic, int partitions, String group,
                            Optional<String> advertise, long maxLag) {
    public static final String DEFAULT_TOPIC = "alphawatch.batches";
    public static final int DEFAULT_PARTITIONS = 16;
    public static final String DEFAULT_GROUP = "alphawatch";

    /** ingest: HTTP into Kafka; worker: owns partitions and their layers; all: both. */
    public enum Role {
        INGEST, WORKER, ALL;

        public static Role parse(String s) {
            for (Role r : values()) {
                if (r.label().equals(s)) {
                    return r;
                }
            }
            throw new IllegalArgumentException("role '" + s + "' is not ingest, worker or all");
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        public boolean consumes() {
            return this != INGEST;
        }
    }

    public ScaleSettings {
        if (bootstrap == null || bootstrap.isBlank()) {
            throw new IllegalArgumentException("kafka: a bootstrap address HOST:PORT is required");
        }
        if (partitions < 1 || partitions > 10_000) {
            throw new IllegalArgumentException("kafka-partitions " + partitions + " must be within 1..10000");
        }
        if (maxLag < 0) {
            throw new IllegalArgumentException("kafka-max-lag " + maxLag + " must be >= 0");
        }
        if (topic.isBlank() || group.isBlank()) {
            throw new IllegalArgumentException("kafka-topic and kafka-group must not be empty");
        }
    }

    /** Where workers keep the records they refused (with why), for an operator to replay. */
    public String refusedTopic() {
        return topic + ".refused";
    }

    /** The compacted topic where each partition's owner advertises its URL. */
    public String ownersTopic() {
        return topic + ".owners";
    }
}
