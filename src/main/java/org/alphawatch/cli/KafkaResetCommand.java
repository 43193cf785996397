package org.alphawatch.cli;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.alphawatch.scale.ScaleOut;
import org.alphawatch.scale.ScaleSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * An operator's way out of a refused partition (docs/scale-out.md, "refused partitions"): the
 * partition's checkpoint is moved aside (never deleted) so it starts again from the topic's first
 * record, or kept with {@code --adopt OFFSET}. The worker that refused it retries on its own.
 */
@Command(name = "kafka-reset", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Reset a scale-out partition a worker refused (another topic, offsets the topic lost).",
            "Its checkpoint is kept aside as <file>.reset-<millis>. See docs/scale-out.md."})
public final class KafkaResetCommand implements Callable<Integer> {
    @Option(names = "--kafka", required = true, paramLabel = "HOST:PORT", description = "the brokers")
    String bootstrap;

    @Option(names = "--state-dir", required = true, paramLabel = "DIR", description = "the workers' shared state directory")
    Path stateDir;

    @Option(names = "--kafka-topic", defaultValue = ScaleSettings.DEFAULT_TOPIC, paramLabel = "TOPIC",
            description = "the batch topic (default ${DEFAULT-VALUE})")
    String topic;

    @Option(names = "--partition", required = true, paramLabel = "N", description = "the refused partition")
    int partition;

    @Option(names = "--adopt", paramLabel = "OFFSET", defaultValue = "-1",
            description = "keep the partition's layers and count from this offset of the topic as it is now "
                    + "(default: start the partition from the topic's first record without them)")
    long adopt;

    @Override
    public Integer call() throws Exception {
        ScaleSettings s;
        try {
            s = new ScaleSettings(bootstrap, ScaleSettings.Role.WORKER, topic, ScaleSettings.DEFAULT_PARTITIONS,
                    ScaleSettings.DEFAULT_GROUP, Optional.empty(), 0);
            System.out.println(ScaleOut.resetPartition(s, stateDir, partition, adopt));
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage());
        }
        return 0;
    }
}
