package org.alphawatch.core.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * A growable little-endian byte writer for the saved formats (one byte order everywhere). Strings
 * are a u16 byte length and UTF-8 bytes; byte blocks a u32 length and the bytes.
 */
public final class BinaryWriter {
    private ByteBuffer buf;

    public BinaryWriter(int initial) {
        buf = ByteBuffer.allocate(Math.max(64, initial)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void room(int n) {
        if (buf.remaining() < n) {
            long want = Math.max((long) buf.capacity() * 2, (long) buf.position() + n);
            if (want > Integer.MAX_VALUE - 16) {
                throw new IllegalStateException("record of " + want + " bytes is too large");
            }
            ByteBuffer bigger = ByteBuffer.allocate((int) want).order(ByteOrder.LITTLE_ENDIAN);
            buf.flip();
            bigger.put(buf);
            buf = bigger;
        }
    }

    public BinaryWriter u8(int v) {
        room(1);
        buf.put((byte) v);
        return this;
    }

    public BinaryWriter u16(int v) {
        room(2);
        buf.putShort((short) v);
        return this;
    }

    public BinaryWriter i32(int v) {
        room(4);
        buf.putInt(v);
        return this;
    }

    public BinaryWriter i64(long v) {
        room(8);
        buf.putLong(v);
        return this;
    }

    public BinaryWriter f64(double v) {
        room(8);
        buf.putDouble(v);
        return this;
    }

    public BinaryWriter string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > 0xFFFF) {
            throw new IllegalArgumentException("string of " + b.length + " bytes is too long");
        }
        u16(b.length);
        room(b.length);
        buf.put(b);
        return this;
    }

    /** A u32 length and the bytes. */
    public BinaryWriter block(byte[] b) {
        i32(b.length);
        return raw(b);
    }

    public BinaryWriter raw(byte[] b) {
        room(b.length);
        buf.put(b);
        return this;
    }

    public int position() {
        return buf.position();
    }

    /** Overwrites a u32 written earlier (a length known only afterwards). */
    public void patchI32(int at, int v) {
        buf.putInt(at, v);
    }

    /** The bytes written so far. */
    public byte[] toByteArray() {
        byte[] out = new byte[buf.position()];
        System.arraycopy(buf.array(), 0, out, 0, out.length);
        return out;
    }

    /** The bytes written so far followed by their CRC32C (u32). */
    public byte[] toByteArrayWithCrc() {
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), 0, buf.position());
        i32((int) crc.getValue());
        return toByteArray();
    }
}
