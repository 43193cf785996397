package org.alphawatch.durability;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Checkpoint files {@code checkpoint-<wal start>.ckpt}:
 *
 * <pre>
 * "AWCK" u16 version (1) u64 walStart u32 layers { u32 n, n bytes of layer state }* u32 CRC32C of all before
 * </pre>
 *
 * walStart is the first sequence number not guaranteed to be in the checkpoint: recovery replays
 * logged records from there (each layer also knows its last applied sequence number). Written to a
 * temporary file, fsynced, renamed, and the directory fsynced; the two newest are kept so that a
 * corrupt newest one falls back to the previous.
 */
public final class Checkpoints {
    private static final int MAGIC = 0x4b435741; // "AWCK" little-endian
    private static final short VERSION = 1;
    static final int KEEP = 2;

    /** A checkpoint read back. */
    public record Loaded(Path file, long walStart, List<byte[]> layers) {}

    private Checkpoints() {}

    static String name(long walStart) {
        return String.format("checkpoint-%019d.ckpt", walStart);
    }

    public static Path write(Path dir, long walStart, List<byte[]> layers) throws IOException {
        Files.createDirectories(dir);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        ByteBuffer head = ByteBuffer.allocate(18).order(ByteOrder.LITTLE_ENDIAN);
        head.putInt(MAGIC).putShort(VERSION).putLong(walStart).putInt(layers.size());
        out.write(head.array());
        for (byte[] layer : layers) {
            out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(layer.length).array());
            out.write(layer);
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes.toByteArray());
        out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue()).array());
        out.flush();
        Path target = dir.resolve(name(walStart));
        Path tmp = dir.resolve(name(walStart) + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(bytes.toByteArray());
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        fsyncDirectory(dir);
        return target;
    }

    /** Parses and validates one checkpoint file; throws with the problem named. */
    public static Loaded read(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        if (all.length < 22) {
            throw new IOException(file + ": " + all.length + " bytes is shorter than a checkpoint header (truncated)");
        }
        CRC32C crc = new CRC32C();
        crc.update(all, 0, all.length - 4);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(all.length - 4) != (int) crc.getValue()) {
            throw new IOException(file + ": checksum mismatch (truncated or corrupt)");
        }
        if (b.getInt() != MAGIC) {
            throw new IOException(file + ": not a checkpoint (bad magic)");
        }
        short version = b.getShort();
        if (version != VERSION) {
            throw new IOException(file + ": checkpoint version " + version + " is not supported");
        }
        long walStart = b.getLong();
        int n = b.getInt();
        if (n < 0) {
            throw new IOException(file + ": negative layer count");
        }
        List<byte[]> layers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = b.getInt();
            if (len < 0 || len > b.remaining() - 4) {
                throw new IOException(file + ": layer " + i + " length " + len + " runs past the end");
            }
            byte[] layer = new byte[len];
            b.get(layer);
            layers.add(layer);
        }
        if (b.remaining() != 4) {
            throw new IOException(file + ": " + (b.remaining() - 4) + " unexpected bytes after the layers");
        }
        return new Loaded(file, walStart, layers);
    }

    /** The first sequence number not in a checkpoint, from its file name. */
    static long walStart(Path file) {
        String n = file.getFileName().toString();
        return Long.parseLong(n.substring("checkpoint-".length(), "checkpoint-".length() + 19));
    }

    /** Checkpoint files, newest first. */
    public static List<Path> list(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("checkpoint-\\d{19}\\.ckpt"))
                    .sorted(Comparator.comparing((Path p) -> p.getFileName().toString()).reversed()).toList();
        }
    }

    static void fsyncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some file systems cannot fsync a directory; the rename is then as durable as they allow.
        }
    }
}
