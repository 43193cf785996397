package org.alphawatch.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Writes 2-D C-order little-endian float32/float64 {@code .npy} files (format 1.0, header padded to 64 bytes). */
public final class NpyWriter {
    private NpyWriter() {}

    public static byte[] toBytes(double[] data, int rows, int cols) {
        return encode(data, null, rows, cols);
    }

    public static byte[] toBytes(float[] data, int rows, int cols) {
        return encode(null, data, rows, cols);
    }

    /** Writes atomically: to a temporary sibling, then renamed over {@code path}. */
    public static void write(Path path, double[] data, int rows, int cols) throws IOException {
        writeAtomically(path, toBytes(data, rows, cols));
    }

    public static void write(Path path, float[] data, int rows, int cols) throws IOException {
        writeAtomically(path, toBytes(data, rows, cols));
    }

    public static void write(OutputStream out, float[] data, int rows, int cols) throws IOException {
        out.write(toBytes(data, rows, cols));
    }

    /** The header bytes for a C-order little-endian array of the given type and shape. */
    public static byte[] header(NpyType type, long... shape) {
        StringBuilder s = new StringBuilder("{'descr': '").append(type.size() == 1 ? "|" : "<").append(type.code())
                .append("', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.length; i++) {
            s.append(shape[i]).append(shape.length == 1 ? "," : i + 1 < shape.length ? ", " : "");
        }
        s.append("), }");
        int unpadded = 10 + s.length() + 1;
        int pad = (64 - unpadded % 64) % 64;
        s.append(" ".repeat(pad)).append('\n');
        byte[] dict = s.toString().getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(10 + dict.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(NpyHeader.MAGIC).put((byte) 1).put((byte) 0).putShort((short) dict.length).put(dict);
        return b.array();
    }

    private static byte[] encode(double[] d, float[] f, int rows, int cols) {
        int n = d != null ? d.length : f.length;
        if ((long) rows * cols != n) {
            throw new IllegalArgumentException(n + " values are not " + rows + " x " + cols);
        }
        byte[] head = header(d != null ? NpyType.FLOAT64 : NpyType.FLOAT32, rows, cols);
        int item = d != null ? 8 : 4;
        ByteBuffer b = ByteBuffer.allocate(head.length + n * item).order(ByteOrder.LITTLE_ENDIAN);
        b.put(head);
        if (d != null) {
            b.asDoubleBuffer().put(d);
        } else {
            b.asFloatBuffer().put(f);
        }
        return b.array();
    }

    private static void writeAtomically(Path path, byte[] bytes) throws IOException {
        Path parent = path.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(parent, path.getFileName().toString(), ".tmp");
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
