package org.alphawatch.scale;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.alphawatch.core.format.BinaryReader;
import org.alphawatch.core.format.BinaryWriter;
import org.alphawatch.core.format.FormatException;

/**
 * One file per partition of the batch topic, in a directory every worker reaches: the states of
 * the partition's layers and the offset of the first record they do not contain, written together
 * atomically (temporary file, fsync, rename). The offset in the file, not Kafka's committed offset,
 * is where a new owner resumes: that is what makes a crash lose nothing and count nothing twice.
 * Version 2 (written) also records which topic the offset counts in (its id: a topic deleted and
 * created again under the same name has another) and the owner's epoch (the consumer group's
 * generation when it wrote), so that a file is never applied to another topic's records and a
 * stale owner never overwrites a newer owner's file:
 *
 * <pre>
 * u32 magic "AWKP"  u16 version 2  u16 0  string topic  string topic id  i32 partition
 * i64 next offset   i32 owner epoch
 * i32 layers  { block layer state (LayerState, as in checkpoints) }*  u32 CRC32C of everything before
 * (little-endian; strings u16 length + UTF-8, blocks u32 length + bytes)
 * </pre>
 *
 * Version 1 (no topic id, no epoch) is still read; its topic cannot be verified.
 */
final class PartitionCheckpoints {
    static final int MAGIC = 0x504b5741; // "AWKP" little-endian
    static final short VERSION = 2;
    static final short V1 = 1;

    /** A partition's saved state; {@code topicId} empty for version 1. */
    record Saved(long nextOffset, List<byte[]> layers, String topicId, int epoch) {}

    /** The file belongs to another incarnation of the topic, or a newer owner wrote it: refused, never overwritten. */
    static final class Refused extends IOException {
        Refused(String message) {
            super(message);
        }
    }

    private final Path dir;
    private final String topic;
    private final String topicId;

    PartitionCheckpoints(Path dir, String topic, String topicId) throws IOException {
        this.dir = dir;
        this.topic = topic;
        this.topicId = topicId;
        Files.createDirectories(dir);
    }

    Path file(int partition) {
        return dir.resolve(topic + "-" + partition + ".ckpt");
    }

    /**
     * Writes the partition's state at {@code nextOffset} as owner {@code epoch}; refuses (throws
     * {@link Refused}, the file unchanged) when the file holds a newer owner's state: a worker that
     * lost its partitions while paused must not overwrite its successor's checkpoint.
     */
    long save(int partition, long nextOffset, int epoch, List<byte[]> layers) throws IOException {
        Saved existing = loadQuietly(partition);
        if (existing != null && existing.epoch() > epoch) {
            throw new Refused(file(partition).getFileName() + " was written by a newer owner (epoch "
                    + existing.epoch() + ", this worker's is " + epoch + "): this worker lost the partition");
        }
        BinaryWriter w = new BinaryWriter(1 << 16);
        w.i32(MAGIC).u16(VERSION).u16(0).string(topic).string(topicId).i32(partition).i64(nextOffset).i32(epoch)
                .i32(layers.size());
        for (byte[] layer : layers) {
            w.block(layer);
        }
        byte[] bytes = w.toByteArrayWithCrc();
        Path tmp = Files.createTempFile(dir, "partition-" + partition + "-", ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, file(partition), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return bytes.length;
    }

    private Saved loadQuietly(int partition) {
        try {
            return read(file(partition), partition);
        } catch (IOException | RuntimeException e) {
            return null; // unreadable: not a newer owner's, and loading it is refused elsewhere
        }
    }

    /**
     * The partition's state, or null when it was never checkpointed; a damaged file is an error
     * (never skipped), and so is a file of another topic id ({@link Refused}).
     */
    Saved load(int partition) throws IOException {
        Saved s = read(file(partition), partition);
        if (s != null && !s.topicId().isEmpty() && !s.topicId().equals(topicId)) {
            throw new Refused(file(partition).getFileName() + " counts offsets of topic id " + s.topicId() + ", but "
                    + topic + " now has id " + topicId + " (the topic was deleted and created again: its records "
                    + "are not the ones the checkpoint holds); reset the partition with `alphawatch kafka-reset`");
        }
        return s;
    }

    private Saved read(Path f, int partition) throws IOException {
        if (!Files.exists(f)) {
            return null;
        }
        BinaryReader r = BinaryReader.withCrc(Files.readAllBytes(f), f.getFileName().toString());
        if (r.i32("magic") != MAGIC) {
            throw new FormatException(f.getFileName() + ": not a partition checkpoint (magic)");
        }
        int version = r.u16("version");
        if (version != VERSION && version != V1) {
            throw new FormatException(f.getFileName() + ": partition checkpoint version " + version
                    + " is not supported (1, 2)");
        }
        r.u16("reserved");
        String t = r.string("topic");
        String id = version >= VERSION ? r.string("topic id") : "";
        int p = r.i32("partition");
        if (!t.equals(topic) || p != partition) {
            throw new FormatException(f.getFileName() + ": holds " + t + "-" + p + ", not " + topic + "-" + partition);
        }
        long next = r.i64("next offset", 0, Long.MAX_VALUE);
        int epoch = version >= VERSION ? r.i32("owner epoch") : -1;
        int n = r.i32("layers", 0, Integer.MAX_VALUE);
        List<byte[]> layers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            layers.add(r.block("layer state"));
        }
        r.end();
        return new Saved(next, layers, id, epoch);
    }

    /**
     * An operator's reset of a refused partition ({@code alphawatch kafka-reset}): the file is moved
     * aside (kept, renamed {@code .reset-<millis>}), so the next owner starts the partition from the
     * topic's first record; with {@code adoptAt} >= 0 the layers are kept instead and re-stamped to
     * count from that offset of the current topic. Returns what was done.
     */
    String reset(int partition, long adoptAt) throws IOException {
        Path f = file(partition);
        Saved s = read(f, partition);
        if (s == null) {
            return topic + "-" + partition + ": no checkpoint, nothing to reset";
        }
        Path aside = f.resolveSibling(f.getFileName() + ".reset-" + System.currentTimeMillis());
        Files.copy(f, aside);
        if (adoptAt < 0) {
            Files.delete(f);
            return topic + "-" + partition + ": checkpoint moved to " + aside.getFileName()
                    + "; the partition starts from the topic's first record";
        }
        Files.delete(f);
        save(partition, adoptAt, Math.max(0, s.epoch()), s.layers());
        return topic + "-" + partition + ": " + s.layers().size() + " layers kept, counting from offset " + adoptAt
                + " of topic id " + topicId + " (the old file is " + aside.getFileName() + ")";
    }
}
