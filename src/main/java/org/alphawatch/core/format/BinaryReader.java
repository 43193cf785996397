package org.alphawatch.core.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * Reads what {@link BinaryWriter} wrote, naming the field and offset of the first problem
 * ({@link FormatException}); lengths are checked against the bytes left before anything is
 * allocated, so a lying length cannot make a large allocation.
 */
public final class BinaryReader {
    private final ByteBuffer buf;
    private final String what;

    private BinaryReader(ByteBuffer buf, String what) {
        this.buf = buf;
        this.what = what;
    }

    public static BinaryReader of(byte[] bytes, String what) {
        return new BinaryReader(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN), what);
    }

    /** Checks the trailing CRC32C over everything before it, then reads the rest. */
    public static BinaryReader withCrc(byte[] bytes, String what) {
        if (bytes.length < 4) {
            throw new FormatException(what + ": " + bytes.length + " bytes is too short for a checksum");
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, bytes.length - 4);
        int stored = ByteBuffer.wrap(bytes, bytes.length - 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (stored != (int) crc.getValue()) {
            throw new FormatException(what + ": checksum mismatch (corrupt or truncated)");
        }
        return new BinaryReader(ByteBuffer.wrap(bytes, 0, bytes.length - 4).slice().order(ByteOrder.LITTLE_ENDIAN),
                what);
    }

    private FormatException fail(String field, String problem) {
        return new FormatException(what + ": " + field + " at offset " + buf.position() + ": " + problem);
    }

    public int u8(String field) {
        need(1, field);
        return buf.get() & 0xFF;
    }

    public int u16(String field) {
        need(2, field);
        return buf.getShort() & 0xFFFF;
    }

    public int i32(String field) {
        need(4, field);
        return buf.getInt();
    }

    public long i64(String field) {
        need(8, field);
        return buf.getLong();
    }

    public double f64(String field) {
        need(8, field);
        return buf.getDouble();
    }

    /** An i32 within [lo, hi]. */
    public int i32(String field, int lo, int hi) {
        int v = i32(field);
        if (v < lo || v > hi) {
            buf.position(buf.position() - 4);
            throw fail(field, v + " is outside " + lo + ".." + hi);
        }
        return v;
    }

    /** An i64 within [lo, hi]. */
    public long i64(String field, long lo, long hi) {
        long v = i64(field);
        if (v < lo || v > hi) {
            buf.position(buf.position() - 8);
            throw fail(field, v + " is outside " + lo + ".." + hi);
        }
        return v;
    }

    /** A finite f64. */
    public double finite(String field) {
        double v = f64(field);
        if (!Double.isFinite(v)) {
            buf.position(buf.position() - 8);
            throw fail(field, v + " is not finite");
        }
        return v;
    }

    public String string(String field) {
        int n = u16(field + " length");
        need(n, field);
        byte[] b = new byte[n];
        buf.get(b);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw fail(field, "not UTF-8");
        }
    }

    /** A u32 length (checked against the bytes left) and the bytes. */
    public byte[] block(String field) {
        int n = i32(field + " length");
        if (n < 0 || n > buf.remaining()) {
            buf.position(buf.position() - 4);
            throw fail(field, "length " + n + " with " + buf.remaining() + " bytes left");
        }
        byte[] b = new byte[n];
        buf.get(b);
        return b;
    }

    public int remaining() {
        return buf.remaining();
    }

    public int position() {
        return buf.position();
    }

    /** Fails unless every byte was read. */
    public void end() {
        if (buf.hasRemaining()) {
            throw fail("end", buf.remaining() + " unexpected bytes");
        }
    }

    private void need(int n, String field) {
        if (buf.remaining() < n) {
            throw fail(field, "needs " + n + " bytes, " + buf.remaining() + " left (truncated)");
        }
    }

}
