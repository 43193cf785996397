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
 *
 * <pre>
 * u32 magic "AWKP"  u16 version 1  u16 0  string topic  i32 partition  i64 next offset
 * i32 layers  { block layer state (LayerState, as in checkpoints) }*  u32 CRC32C of everything before
 * (little-endian; strings u16 length + UTF-8, blocks u32 length + bytes)
 * </pre>
 */
final class PartitionCheckpoints {
    static final int MAGIC = 0x504b5741; // "AWKP" little-endian
    static final short VERSION = 1;

    /** A partition's saved state. */
    record Saved(long nextOffset, List<byte[]> layers) {}

    private final Path dir;
    private final String topic;

    PartitionCheckpoints(Path dir, String topic) throws IOException {
        this.dir = dir;
        this.topic = topic;
        Files.createDirectories(dir);
    }

    Path file(int partition) {
        return dir.resolve(topic + "-" + partition + ".ckpt");
    }

    void save(int partition, long nextOffset, List<byte[]> layers) throws IOException {
        BinaryWriter w = new BinaryWriter(1 << 16);
        w.i32(MAGIC).u16(VERSION).u16(0).string(topic).i32(partition).i64(nextOffset).i32(layers.size());
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
    }

    /** The partition's state, or null when it was never checkpointed; a damaged file is an error (never skipped). */
    Saved load(int partition) throws IOException {
        Path f = file(partition);
        if (!Files.exists(f)) {
            return null;
        }
        BinaryReader r = BinaryReader.withCrc(Files.readAllBytes(f), f.toString());
        if (r.i32("magic") != MAGIC) {
            throw new FormatException(f + ": not a partition checkpoint (magic)");
        }
        int version = r.u16("version");
        if (version != VERSION) {
            throw new FormatException(f + ": partition checkpoint version " + version + " is not supported");
        }
        r.u16("reserved");
        String t = r.string("topic");
        int p = r.i32("partition");
        if (!t.equals(topic) || p != partition) {
            throw new FormatException(f + ": holds " + t + "-" + p + ", not " + topic + "-" + partition);
        }
        long next = r.i64("next offset", 0, Long.MAX_VALUE);
        int n = r.i32("layers", 0, Integer.MAX_VALUE);
        List<byte[]> layers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            layers.add(r.block("layer state"));
        }
        r.end();
        return new Saved(next, layers);
    }
}
