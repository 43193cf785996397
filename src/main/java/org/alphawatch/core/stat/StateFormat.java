package org.alphawatch.core.stat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The one binary layout of accumulator state (little-endian):
 *
 * <pre>
 * offset  size  field
 * 0       4     magic: "AWCV" (covariance) or "AWXC" (cross-covariance)
 * 4       2     format version, currently 1
 * 6       2     reserved, must be 0
 * 8       4     dims m, 1..MAX_DIMS
 * 12      8     count: samples accepted (long, 0..2^53)
 * 20      8     weight: sum of (decayed) sample weights (double, finite, 0 <= weight <= count)
 * 28      8*k   payload doubles, all finite; k depends on the magic (see the accumulators)
 * end-4   4     CRC32C of every preceding byte
 * </pre>
 *
 * Reading validates every field and names the first one that is wrong.
 */
final class StateFormat {
    static final short VERSION = 1;
    static final int HEADER_BYTES = 28;
    static final int MAX_DIMS = CovarianceAccumulator.MAX_DIMS;

    private StateFormat() {}

    /**
     * Starts a state; the header is checked as {@link #read} checks it, so a writer never produces
     * state that its reader refuses.
     */
    static ByteBuffer begin(int magic, int dims, long count, double weight, long payloadDoubles) {
        String problem = headerProblem(dims, count, weight);
        if (problem != null) {
            throw new IllegalStateException("refusing to serialize invalid state: " + problem);
        }
        long size = HEADER_BYTES + 8 * payloadDoubles + 4;
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalStateException("state of " + dims + " dims is too large to serialize");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        buf.putInt(magic).putShort(VERSION).putShort((short) 0).putInt(dims).putLong(count).putDouble(weight);
        return buf;
    }

    static byte[] finish(ByteBuffer buf) {
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), 0, buf.position());
        buf.putInt((int) crc.getValue());
        if (buf.hasRemaining()) {
            throw new IllegalStateException("serializer wrote " + buf.position() + " of " + buf.capacity() + " bytes");
        }
        return buf.array();
    }

    /** Header fields after validation; {@code payload} is positioned at the first payload double. */
    record Header(int dims, long count, double weight, ByteBuffer payload) {}

    /**
     * Validates framing, checksum and header; {@code payloadDoubles} gives the payload length for a
     * dims value.
     */
    static Header read(byte[] bytes, int magic, String what, java.util.function.IntToLongFunction payloadDoubles) {
        if (bytes == null) {
            throw new InvalidStateException(what + ": no bytes");
        }
        if (bytes.length < HEADER_BYTES + 4) {
            throw new InvalidStateException(what + ": " + bytes.length + " bytes is shorter than the "
                    + (HEADER_BYTES + 4) + "-byte header and checksum (truncated)");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int gotMagic = buf.getInt();
        if (gotMagic != magic) {
            throw new InvalidStateException(String.format("%s: magic 0x%08x is not 0x%08x (not this kind of state)",
                    what, gotMagic, magic));
        }
        short version = buf.getShort();
        if (version != VERSION) {
            throw new InvalidStateException(what + ": format version " + version + " is not supported (expected "
                    + VERSION + ")");
        }
        short reserved = buf.getShort();
        if (reserved != 0) {
            throw new InvalidStateException(what + ": reserved field is " + reserved + ", expected 0");
        }
        int dims = buf.getInt();
        if (dims < 1 || dims > MAX_DIMS) {
            throw new InvalidStateException(what + ": dims " + dims + " outside 1.." + MAX_DIMS);
        }
        long expected = HEADER_BYTES + 8 * payloadDoubles.applyAsLong(dims) + 4;
        if (bytes.length != expected) {
            throw new InvalidStateException(what + ": " + bytes.length + " bytes, but " + dims + " dims need "
                    + expected + (bytes.length < expected ? " (truncated)" : " (trailing bytes)"));
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, bytes.length - 4);
        int stored = ByteBuffer.wrap(bytes, bytes.length - 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (stored != (int) crc.getValue()) {
            throw new InvalidStateException(String.format("%s: checksum mismatch (stored 0x%08x, computed 0x%08x): "
                    + "the bytes are corrupt", what, stored, (int) crc.getValue()));
        }
        long count = buf.getLong();
        double weight = buf.getDouble();
        String problem = headerProblem(dims, count, weight);
        if (problem != null) {
            throw new InvalidStateException(what + ": " + problem);
        }
        return new Header(dims, count, weight, buf);
    }

    /** What is wrong with a header's counts, or null: the one rule for writing and reading. */
    private static String headerProblem(int dims, long count, double weight) {
        if (dims < 1 || dims > MAX_DIMS) {
            return "dims " + dims + " outside 1.." + MAX_DIMS;
        }
        if (count < 0) {
            return "negative count " + count;
        }
        if (count > CovarianceAccumulator.MAX_COUNT) {
            return "count " + count + " exceeds " + CovarianceAccumulator.MAX_COUNT + " (2^53)";
        }
        if (!Double.isFinite(weight) || weight < 0 || weight > count) {
            return "weight " + weight + " is not within 0.." + count;
        }
        return null;
    }

    /** Writes a payload value, refusing one {@link #readFinite} would refuse. */
    static void putFinite(ByteBuffer buf, double v, String field) {
        if (!Double.isFinite(v)) {
            throw new IllegalStateException("refusing to serialize invalid state: " + field + " holds " + v);
        }
        buf.putDouble(v);
    }

    /** A co-moment's diagonal entry: finite and >= 0, as the readers require. */
    static void putDiagonal(ByteBuffer buf, double v, int unit) {
        if (!(v >= 0) || v == Double.POSITIVE_INFINITY) {
            throw new IllegalStateException("refusing to serialize invalid state: co-moment diagonal at " + unit
                    + " is " + v);
        }
        buf.putDouble(v);
    }

    static void readFinite(ByteBuffer buf, double[] dst, int from, int to, String what, String field) {
        for (int i = from; i < to; i++) {
            double v = buf.getDouble();
            if (!Double.isFinite(v)) {
                throw new InvalidStateException(what + ": " + field + " holds a non-finite value " + v);
            }
            dst[i] = v;
        }
    }
}
