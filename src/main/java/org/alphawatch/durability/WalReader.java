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
import org.alphawatch.core.format.BinaryReader;
import org.alphawatch.core.format.FormatException;
import org.alphawatch.io.NpyArray;
import org.alphawatch.io.NpyReader;
import org.alphawatch.io.PartialMoments;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.BatchKind;
import org.alphawatch.pipeline.Delivery;
import org.alphawatch.pipeline.LayerOptions;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.pipeline.MonitorConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads write-ahead log segments back in order without ever deleting good data:
 *
 * <ul>
 * <li>A record that does not check out, with intact records after it in the same segment, is
 * corruption: recovery stops with a {@link CorruptLogException} naming file and offset, unless
 * {@code recover} is set, in which case exactly the damaged bytes are skipped and counted.</li>
 * <li>A damaged tail of the newest segment, with nothing valid after it, is a write torn by a
 * crash (never acknowledged: acknowledgement follows the fsync); it is cut off, with a log line.</li>
 * <li>Bytes of an older segment beyond the valid length its successor's header records are a write
 * that failed and was abandoned; they are ignored. Damage within the valid length is corruption.</li>
 * </ul>
 */
public final class WalReader {
    private static final Logger LOG = LoggerFactory.getLogger(WalReader.class);
    private static final int FRAME = 8;

    /** What the reader hands back, in sequence order. */
    public interface Visitor {
        void batch(long seq, ActivationBatch batch) throws Exception;

        void delete(long seq, String run) throws Exception;
    }

    /**
     * Summary of a replay.
     *
     * @param lastSegmentValid valid bytes of the newest segment after recovery (-1: no segment)
     * @param skippedRegions   damaged regions skipped under {@code recover}, with {@code skippedBytes}
     */
    public record Result(long records, long lastSeq, int truncatedTails, int skippedRegions, long skippedBytes,
                         long lastSegmentValid) {}

    /** Damaged records with intact ones after them: recovery must not continue silently. */
    public static final class CorruptLogException extends IOException {
        CorruptLogException(String message) {
            super(message);
        }
    }

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

    /** A segment's header: version 2 with the previous segment's valid length, or version 1 (none). */
    private record Header(int version, long dataStart, long previousValid) {}

    private static Header header(FileChannel ch, Path file) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(WriteAheadLog.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        ch.read(b, 0);
        if (b.position() < 4 || b.getInt(0) != WriteAheadLog.MAGIC) {
            return new Header(1, 0, -1); // version 1 starts with a record (its length is never "AWWL")
        }
        if (b.position() < WriteAheadLog.HEADER_BYTES) {
            throw new CorruptLogException(file + ": segment header truncated at " + b.position() + " bytes");
        }
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, 24);
        if (b.getInt(24) != (int) crc.getValue()) {
            throw new CorruptLogException(file + ": segment header checksum mismatch");
        }
        if (b.getShort(4) != WriteAheadLog.VERSION) {
            throw new CorruptLogException(file + ": segment version " + b.getShort(4) + " is not supported");
        }
        if (b.getLong(8) != firstSeq(file)) {
            throw new CorruptLogException(file + ": header says first sequence number " + b.getLong(8));
        }
        return new Header(2, WriteAheadLog.HEADER_BYTES, b.getLong(16));
    }

    public static Result replay(Path dir, Visitor visitor, boolean recover) throws Exception {
        List<Path> segments = segments(dir);
        long records = 0;
        long last = 0;
        int truncated = 0;
        int skipped = 0;
        long skippedBytes = 0;
        long lastValid = -1;
        Header[] headers = new Header[segments.size()];
        FileChannel[] channels = new FileChannel[segments.size()];
        try {
            for (int i = 0; i < segments.size(); i++) {
                channels[i] = FileChannel.open(segments.get(i), StandardOpenOption.READ, StandardOpenOption.WRITE);
                headers[i] = header(channels[i], segments.get(i));
            }
            for (int i = 0; i < segments.size(); i++) {
                Path file = segments.get(i);
                FileChannel ch = channels[i];
                boolean newest = i == segments.size() - 1;
                long size = ch.size();
                long end = size;
                if (!newest && headers[i + 1].version() == 2 && headers[i + 1].previousValid() >= 0) {
                    end = headers[i + 1].previousValid();
                    if (end > size) {
                        throw new CorruptLogException(file + ": " + size + " bytes, but the next segment says "
                                + end + " of them are valid (the file was cut short)");
                    }
                    if (end < size) {
                        LOG.info("write-ahead log {}: {} bytes after offset {} are an abandoned failed write; ignored",
                                file, size - end, end);
                    }
                }
                long pos = headers[i].dataStart();
                while (pos < end) {
                    Record r = frameAt(ch, pos, end, last);
                    if (r != null) {
                        try {
                            apply(headers[i].version(), r, visitor);
                        } catch (IOException | RuntimeException e) {
                            throw new CorruptLogException(file + ": record " + r.seq() + " at offset " + pos
                                    + " has a valid checksum but does not decode (" + e.getMessage() + ")");
                        }
                        records++;
                        last = r.seq();
                        pos += FRAME + r.length();
                        continue;
                    }
                    long next = scan(ch, pos + 1, end, last);
                    if (next < 0 && newest) {
                        truncated++;
                        LOG.warn("write-ahead log {}: the last {} bytes (from offset {}, after sequence number {}) "
                                + "are a write torn by a crash, never acknowledged; cut off", file, size - pos, pos, last);
                        ch.truncate(pos);
                        ch.force(true);
                        end = pos;
                        break;
                    }
                    long resume = next < 0 ? end : next;
                    String what = file + ": damaged bytes at offset " + pos + ".." + resume + " after sequence number "
                            + last + (next < 0 ? " (within the segment's valid length)" : ", intact records follow");
                    if (!recover) {
                        throw new CorruptLogException(what + "; refusing to start. Restore the file, or start with "
                                + "--recover to skip exactly these bytes (their records are lost and counted)");
                    }
                    skipped++;
                    skippedBytes += resume - pos;
                    LOG.error("{}: skipped (--recover)", what);
                    pos = resume;
                }
                if (newest) {
                    lastValid = end;
                }
            }
        } finally {
            for (FileChannel ch : channels) {
                if (ch != null) {
                    ch.close();
                }
            }
        }
        return new Result(records, last, truncated, skipped, skippedBytes, lastValid);
    }

    private record Record(long seq, byte type, int length, byte[] payload) {}

    /**
     * Decodes one framed record (as {@link WriteAheadLog#encodeBatch} and
     * {@link WriteAheadLog#encodeDelete} write it; Kafka records carry the same bytes) and hands it to
     * {@code visitor} with the frame's sequence number.
     */
    public static void decode(byte[] framed, Visitor visitor) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(framed).order(ByteOrder.LITTLE_ENDIAN);
        if (framed.length < FRAME + 9 || b.getInt(0) != framed.length - FRAME) {
            throw new FormatException("record of " + framed.length + " bytes: its frame says otherwise");
        }
        CRC32C c = new CRC32C();
        c.update(framed, FRAME, framed.length - FRAME);
        if ((int) c.getValue() != b.getInt(4)) {
            throw new FormatException("record checksum mismatch");
        }
        byte type = b.get(FRAME);
        if (!WriteAheadLog.knownType(type)) {
            throw new FormatException("unknown record type " + type);
        }
        byte[] payload = new byte[framed.length - FRAME - 9];
        System.arraycopy(framed, FRAME + 9, payload, 0, payload.length);
        apply(WriteAheadLog.VERSION, new Record(b.getLong(FRAME + 1), type, framed.length - FRAME, payload), visitor);
    }

    /** The record at {@code pos} if its frame is whole and checks out, with a sequence number after {@code after}. */
    private static Record frameAt(FileChannel ch, long pos, long end, long after) throws IOException {
        if (end - pos < FRAME) {
            return null;
        }
        ByteBuffer f = ByteBuffer.allocate(FRAME).order(ByteOrder.LITTLE_ENDIAN);
        ch.read(f, pos);
        int len = f.getInt(0);
        int crc = f.getInt(4);
        if (len < 9 || len > WriteAheadLog.MAX_RECORD || len > end - pos - FRAME) {
            return null;
        }
        ByteBuffer body = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        while (body.hasRemaining()) {
            if (ch.read(body, pos + FRAME + body.position()) < 0) {
                return null;
            }
        }
        CRC32C c = new CRC32C();
        c.update(body.array(), 0, len);
        if ((int) c.getValue() != crc) {
            return null;
        }
        byte type = body.get(0);
        long seq = body.getLong(1);
        if (!WriteAheadLog.knownType(type) || seq <= after) {
            return null;
        }
        byte[] payload = new byte[len - 9];
        System.arraycopy(body.array(), 9, payload, 0, payload.length);
        return new Record(seq, type, len, payload);
    }

    /**
     * The first offset in [from, end) where a valid record after sequence number {@code after}
     * starts, or -1. Reads the file in blocks and checks the checksum only where the length, type
     * and sequence number are plausible.
     */
    private static long scan(FileChannel ch, long from, long end, long after) throws IOException {
        int block = 1 << 20;
        ByteBuffer buf = ByteBuffer.allocate(block + FRAME + 9).order(ByteOrder.LITTLE_ENDIAN);
        for (long base = from; base + FRAME + 9 <= end; base += block) {
            buf.clear();
            buf.limit((int) Math.min(buf.capacity(), end - base));
            while (buf.hasRemaining() && ch.read(buf, base + buf.position()) > 0) {
                // fill the block
            }
            int n = buf.position();
            for (int i = 0; i < Math.min(block, n - FRAME - 9 + 1); i++) {
                long p = base + i;
                int len = buf.getInt(i);
                byte type = buf.get(i + FRAME);
                long seq = buf.getLong(i + FRAME + 1);
                if (len >= 9 && len <= WriteAheadLog.MAX_RECORD && len <= end - p - FRAME
                        && WriteAheadLog.knownType(type) && seq > after
                        && frameAt(ch, p, end, after) != null) {
                    return p;
                }
            }
        }
        return -1;
    }

    private static void apply(int version, Record r, Visitor visitor) throws Exception {
        if (version == 1) {
            applyV1(r, visitor);
            return;
        }
        BinaryReader in = BinaryReader.of(r.payload(), "write-ahead log record " + r.seq());
        if (r.type() == WriteAheadLog.DELETE) {
            String run = in.string("run");
            in.end();
            visitor.delete(r.seq(), run);
            return;
        }
        LayerKey key = new LayerKey(in.string("run"), in.string("layer"));
        if (r.type() == WriteAheadLog.PARTIAL || r.type() == WriteAheadLog.NUMBERED_PARTIAL) {
            String source = in.string("source");
            // Decoded, not validated: the admission checks decide (a refusal is reported, not a corrupt log).
            List<PartialMoments> p = PartialMoments.decodeAll(in.block("partial"), "write-ahead log partial",
                    MonitorConfig.MAX_DIMS_LIMIT, false);
            Delivery delivery = r.type() == WriteAheadLog.NUMBERED_PARTIAL ? delivery(in) : null;
            LayerOptions options = r.type() == WriteAheadLog.NUMBERED_PARTIAL ? options(in) : null;
            in.end();
            visitor.batch(r.seq(), ActivationBatch.partials(key, p, source.isEmpty() ? null : source)
                    .withDelivery(delivery).withOptions(options));
            return;
        }
        long step = in.i64("step", 0, Long.MAX_VALUE);
        int kindId = in.u8("kind");
        BatchKind kind = BatchKind.fromId(kindId);
        if (kind == null) {
            throw new FormatException("unknown batch kind " + kindId);
        }
        int repeat = (byte) in.u8("repeat");
        NpyArray values = array(in.block("values"), "values");
        byte[] latentBytes = in.block("latent");
        String source = r.type() == WriteAheadLog.SOURCED_BATCH || r.type() == WriteAheadLog.NUMBERED_BATCH
                ? in.string("source") : null;
        Delivery delivery = r.type() == WriteAheadLog.NUMBERED_BATCH ? delivery(in) : null;
        LayerOptions options = r.type() == WriteAheadLog.NUMBERED_BATCH ? options(in) : null;
        in.end();
        visitor.batch(r.seq(), new ActivationBatch(key, step, kind, repeat, values,
                latentBytes.length == 0 ? null : array(latentBytes, "latent"), null,
                source == null || source.isEmpty() ? null : source, delivery, options));
    }

    /** Who sent a record of type 5 or 6 and its number; null when it was not numbered (empty sender). */
    private static Delivery delivery(BinaryReader in) {
        String sender = in.string("sender");
        long number = in.i64("request number", 0, Long.MAX_VALUE);
        if (sender.isEmpty() && number == 0) {
            return null;
        }
        try {
            return new Delivery(sender, number);
        } catch (IllegalArgumentException e) {
            throw new FormatException(e.getMessage());
        }
    }

    /** The optional layer settings at the end of a record of type 5 or 6. */
    private static LayerOptions options(BinaryReader in) {
        if (in.remaining() == 0) {
            return null;
        }
        if (in.u8("has layer settings") != 1) {
            throw new FormatException("unknown optional field");
        }
        long window = in.i64("window samples", 0, LayerOptions.MAX);
        long min = in.i64("min samples", 0, LayerOptions.MAX);
        try {
            return new LayerOptions(window, min);
        } catch (IllegalArgumentException e) {
            throw new FormatException(e.getMessage());
        }
    }

    /** Version 1 payloads: DataOutputStream (big-endian) fields. */
    private static void applyV1(Record r, Visitor visitor) throws Exception {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(r.payload()));
        if (r.type() == WriteAheadLog.DELETE) {
            visitor.delete(r.seq(), in.readUTF());
            return;
        }
        LayerKey key = new LayerKey(in.readUTF(), in.readUTF());
        long step = in.readLong();
        BatchKind kind = BatchKind.fromId(in.readByte());
        if (kind == null) {
            throw new IOException("unknown batch kind");
        }
        int repeat = in.readByte();
        NpyArray values = arrayV1(in, "values");
        NpyArray latent = arrayV1(in, "latent");
        visitor.batch(r.seq(), new ActivationBatch(key, step, kind, repeat, values, latent));
    }

    private static NpyArray arrayV1(DataInputStream in, String what) throws IOException {
        int n = in.readInt();
        if (n == 0) {
            return null;
        }
        if (n < 0 || n > in.available()) {
            throw new IOException(what + " length " + n);
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return array(b, what);
    }

    private static NpyArray array(byte[] b, String what) throws IOException {
        try (NpyReader r = NpyReader.of(b, "write-ahead log " + what)) {
            return r.readAll();
        }
    }
}
