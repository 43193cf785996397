package org.alphawatch.durability;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.alphawatch.io.NpyArray;
import org.alphawatch.io.NpyReader;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.BatchKind;
import org.alphawatch.pipeline.LayerKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads write-ahead log segments back in order. A record whose length or checksum is wrong ends
 * its segment: the file is truncated to the last good record with a log line naming file, offset
 * and sequence number (a torn tail after a crash, or corruption), so nothing after it is applied
 * silently.
 */
public final class WalReader {
    private static final Logger LOG = LoggerFactory.getLogger(WalReader.class);

    /** What the reader hands back, in sequence order. */
    public interface Visitor {
        void batch(long seq, ActivationBatch batch) throws Exception;

        void delete(long seq, String run) throws Exception;
    }

    /** Summary of a replay. */
    public record Result(long records, long lastSeq, int truncatedSegments) {}

    private WalReader() {}

    public static List<Path> segments(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("wal-\\d{19}\\.log"))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        }
    }

    static long firstSeq(Path segment) {
        String n = segment.getFileName().toString();
        return Long.parseLong(n.substring(4, 23));
    }

    public static Result replay(Path dir, Visitor visitor) throws Exception {
        long records = 0;
        long last = 0;
        int truncated = 0;
        for (Path segment : segments(dir)) {
            byte[] all = Files.readAllBytes(segment);
            ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
            int good = 0;
            String problem = null;
            while (b.remaining() > 0) {
                if (b.remaining() < 8) {
                    problem = "a torn record header";
                    break;
                }
                int len = b.getInt();
                int crc = b.getInt();
                if (len < 9 || len > WriteAheadLog.MAX_RECORD || len > b.remaining()) {
                    problem = "a record length of " + len + " with " + b.remaining() + " bytes left";
                    break;
                }
                CRC32C c = new CRC32C();
                c.update(all, b.position(), len);
                if ((int) c.getValue() != crc) {
                    problem = "a checksum mismatch";
                    break;
                }
                byte type = b.get();
                long seq = b.getLong();
                byte[] payload = new byte[len - 9];
                b.get(payload);
                try {
                    apply(type, seq, payload, visitor);
                } catch (IOException | IllegalArgumentException e) {
                    problem = "an undecodable record (" + e.getMessage() + ")";
                    b.position(good);
                    break;
                }
                records++;
                last = Math.max(last, seq);
                good = b.position();
            }
            if (problem != null) {
                truncated++;
                LOG.warn("write-ahead log {}: {} at offset {} (after sequence number {}); truncating the segment to "
                        + "its last good record ({} bytes dropped)", segment, problem, good, last, all.length - good);
                try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
                    ch.truncate(good);
                    ch.force(true);
                }
            }
        }
        return new Result(records, last, truncated);
    }

    private static void apply(byte type, long seq, byte[] payload, Visitor visitor) throws Exception {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload));
        if (type == WriteAheadLog.DELETE) {
            visitor.delete(seq, in.readUTF());
            return;
        }
        if (type != WriteAheadLog.BATCH) {
            throw new IOException("unknown record type " + type);
        }
        LayerKey key = new LayerKey(in.readUTF(), in.readUTF());
        long step = in.readLong();
        BatchKind kind = BatchKind.values()[in.readByte()];
        int repeat = in.readByte();
        NpyArray values = array(in, "values");
        NpyArray latent = array(in, "latent");
        visitor.batch(seq, new ActivationBatch(key, step, kind, repeat, values, latent));
    }

    private static NpyArray array(DataInputStream in, String what) throws IOException {
        int n = in.readInt();
        if (n == 0) {
            return null;
        }
        byte[] b = new byte[n];
        in.readFully(b);
        try (NpyReader r = NpyReader.of(b, "write-ahead log " + what)) {
            return r.readAll();
        }
    }
}
