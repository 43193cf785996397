package org.alphawatch.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads a 2-D {@code .npy} array (rows = samples, columns = units) row block by row block,
 * converting any supported element type to float64 or float32 and rejecting NaN/infinity with the
 * row and column. The header and the data length are validated when the reader is opened, so a
 * truncated or padded file fails before any row is returned. C order streams; Fortran order is
 * read whole and transposed.
 *
 * <p>Not thread-safe. Allocates one chunk buffer per reader.
 */
public final class NpyReader implements Closeable {
    private static final int CHUNK_BYTES = 1 << 20;

    private final String source;
    private final NpyHeader header;
    private final ReadableByteChannel channel;
    private final int rows;
    private final int cols;
    private final ByteBuffer chunk;
    private int rowsRead;
    private double[] fortranData; // column-major, loaded on first read

    private NpyReader(String source, NpyHeader header, ReadableByteChannel channel) throws NpyFormatException {
        this.source = source;
        this.header = header;
        this.channel = channel;
        long[] shape = header.shape();
        if (shape.length != 2) {
            throw new NpyFormatException(source, NpyFormatException.Kind.SHAPE, "array is " + shape.length + "-D with shape " + header.shapeText()
                    + "; expected 2-D [samples, units]");
        }
        if (shape[1] == 0) {
            throw new NpyFormatException(source, NpyFormatException.Kind.SHAPE, "array has 0 columns (units)");
        }
        if (shape[0] > Integer.MAX_VALUE || shape[1] > Integer.MAX_VALUE) {
            throw new NpyFormatException(source, "shape " + header.shapeText() + " is too large");
        }
        this.rows = (int) shape[0];
        this.cols = (int) shape[1];
        // Sized by the data actually present (validated), never by the header's row width alone:
        // a header may declare 0 rows of 2 billion columns.
        int item = header.type().size();
        this.chunk = ByteBuffer.allocate((int) Math.max(item, Math.min(CHUNK_BYTES, header.dataBytes())))
                .order(header.order());
    }

    /** Opens a file, validating header and length. */
    public static NpyReader open(Path path) throws IOException {
        String source = path.toString();
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new NpyFormatException(source, "no such file");
        }
        try {
            NpyHeader header = readHeader(ch, source);
            checkLength(header, ch.size(), source);
            return new NpyReader(source, header, ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** A reader over an in-memory body (e.g. an HTTP request), validating header and length. */
    public static NpyReader of(byte[] bytes, String source) throws NpyFormatException {
        return of(bytes, 0, bytes.length, source);
    }

    /** A reader over {@code bytes[offset, offset + length)}, which must hold exactly one array. */
    public static NpyReader of(byte[] bytes, int offset, int length, String source) throws NpyFormatException {
        ByteBufferChannel ch = new ByteBufferChannel(ByteBuffer.wrap(bytes, offset, length));
        NpyHeader header;
        try {
            header = readHeader(ch, source);
        } catch (NpyFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new NpyFormatException(source, e.getMessage());
        }
        checkLength(header, length, source);
        return new NpyReader(source, header, ch);
    }

    private static NpyHeader readHeader(ReadableByteChannel ch, String source) throws IOException {
        byte[] first = new byte[10];
        int got = readFully(ch, ByteBuffer.wrap(first));
        if (got < 10) {
            byte[] shortBytes = java.util.Arrays.copyOf(first, got);
            NpyHeader.preambleBytes(shortBytes, source);
        }
        int preambleLength = NpyHeader.preambleBytes(first, source);
        byte[] preamble = java.util.Arrays.copyOf(first, preambleLength);
        if (preambleLength > 10 && readFully(ch, ByteBuffer.wrap(preamble, 10, preambleLength - 10)) < preambleLength - 10) {
            throw new NpyFormatException(source, "truncated inside the header length field");
        }
        long headerLength = NpyHeader.headerLength(preamble);
        if (headerLength > NpyHeader.MAX_HEADER_BYTES) {
            throw new NpyFormatException(source, "header length " + headerLength + " exceeds "
                    + NpyHeader.MAX_HEADER_BYTES + " bytes");
        }
        byte[] dict = new byte[(int) headerLength];
        if (readFully(ch, ByteBuffer.wrap(dict)) < headerLength) {
            throw new NpyFormatException(source, "truncated inside the header (declared " + headerLength + " bytes)");
        }
        return NpyHeader.parse(preamble, dict, source);
    }

    /**
     * Total bytes (header and data) of the array that starts at {@code offset}, from its header
     * alone; used to split a body holding two arrays back to back.
     */
    public static long arrayLength(byte[] bytes, int offset, int length, String source) throws NpyFormatException {
        ByteBufferChannel ch = new ByteBufferChannel(ByteBuffer.wrap(bytes, offset, length));
        try {
            NpyHeader header = readHeader(ch, source);
            return header.dataOffset() + header.dataBytes();
        } catch (NpyFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new NpyFormatException(source, e.getMessage());
        }
    }

    private static void checkLength(NpyHeader header, long totalBytes, String source) throws NpyFormatException {
        long have = totalBytes - header.dataOffset();
        long want = header.dataBytes();
        String declared = "header declares shape " + header.shapeText() + " of " + header.type().name().toLowerCase(java.util.Locale.ROOT)
                + " (" + want + " data bytes)";
        if (have < want) {
            throw new NpyFormatException(source, "truncated: " + declared + " but only " + have + " follow");
        }
        if (have > want) {
            throw new NpyFormatException(source, declared + " but " + (have - want)
                    + " more bytes follow (wrong shape in the header?)");
        }
    }

    private static int readFully(ReadableByteChannel ch, ByteBuffer dst) throws IOException {
        int total = 0;
        while (dst.hasRemaining()) {
            int n = ch.read(dst);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    public NpyHeader header() {
        return header;
    }

    public String source() {
        return source;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public int rowsRemaining() {
        return rows - rowsRead;
    }

    /**
     * Reads up to {@code maxRows} rows into {@code dst} (row-major, from index 0) as float64.
     *
     * @return rows read, 0 at the end
     * @throws NonFiniteValueException naming the first NaN/infinite value (its row counts from the
     *                                 start of the array)
     */
    public int readRows(double[] dst, int maxRows) throws IOException {
        int n = Math.min(maxRows, rows - rowsRead);
        if (n <= 0) {
            return 0;
        }
        if ((long) n * cols > dst.length) {
            throw new IllegalArgumentException("buffer of " + dst.length + " holds fewer than " + n + " rows");
        }
        if (header.fortranOrder()) {
            loadFortran();
            for (int r = 0; r < n; r++) {
                for (int c = 0; c < cols; c++) {
                    dst[r * cols + c] = fortranData[c * rows + rowsRead + r];
                }
            }
        } else {
            readElements((long) n * cols, dst, null);
        }
        checkFinite(dst, null, n);
        rowsRead += n;
        return n;
    }

    /** As {@link #readRows(double[], int)} into float32 (rounding float64 and large integers). */
    public int readRows(float[] dst, int maxRows) throws IOException {
        int n = Math.min(maxRows, rows - rowsRead);
        if (n <= 0) {
            return 0;
        }
        if ((long) n * cols > dst.length) {
            throw new IllegalArgumentException("buffer of " + dst.length + " holds fewer than " + n + " rows");
        }
        if (header.fortranOrder()) {
            loadFortran();
            for (int r = 0; r < n; r++) {
                for (int c = 0; c < cols; c++) {
                    dst[r * cols + c] = (float) fortranData[c * rows + rowsRead + r];
                }
            }
        } else {
            readElements((long) n * cols, null, dst);
        }
        checkFinite(null, dst, n);
        rowsRead += n;
        return n;
    }

    /**
     * Reads the whole array: float32 storage when the element type converts to float32 exactly,
     * float64 otherwise.
     */
    public NpyArray readAll() throws IOException {
        if ((long) rows * cols > Integer.MAX_VALUE - 16) {
            throw new NpyFormatException(source, "shape " + header.shapeText() + " is too large to hold in memory");
        }
        boolean floats = header.type().exactInFloat32();
        if (header.fortranOrder() && rowsRead == 0) {
            // Straight into the row-major result: no whole-array copy in between (a uint8 array costs
            // its float32 size, not 12 times its own).
            float[] f = floats ? new float[rows * cols] : null;
            double[] d = floats ? null : new double[rows * cols];
            readFortranTransposed(d, f);
            checkFinite(d, f, rows);
            rowsRead = rows;
            return floats ? NpyArray.ofFloats(f, rows, cols) : NpyArray.ofDoubles(d, rows, cols);
        }
        if (floats) {
            float[] data = new float[rows * cols];
            readRows(data, rows);
            return NpyArray.ofFloats(data, rows, cols);
        }
        double[] data = new double[rows * cols];
        readRows(data, rows);
        return NpyArray.ofDoubles(data, rows, cols);
    }

    /** Bytes {@link #readAll} will allocate for the array (to be checked against a budget first). */
    public long decodedBytes() {
        return (long) rows * cols * (header.type().exactInFloat32() ? 4 : 8);
    }

    /** Reads the whole column-major data chunk by chunk, scattering each element to its row-major place. */
    private void readFortranTransposed(double[] d, float[] f) throws IOException {
        int size = header.type().size();
        long count = (long) rows * cols;
        int per = chunk.capacity() / size;
        double[] tmp = new double[(int) Math.min(per, count)];
        long done = 0;
        while (done < count) {
            int take = (int) Math.min(count - done, per);
            chunk.clear().limit(take * size);
            if (readFully(channel, chunk) < take * size) {
                throw new NpyFormatException(source, "data ended early after " + done + " elements");
            }
            chunk.flip();
            convert(chunk, take, tmp, null, 0);
            for (int i = 0; i < take; i++) {
                long k = done + i;
                int r = (int) (k % rows);
                int c = (int) (k / rows);
                if (d != null) {
                    d[r * cols + c] = tmp[i];
                } else {
                    f[r * cols + c] = (float) tmp[i];
                }
            }
            done += take;
        }
    }

    /**
     * Largest magnitude accepted: squares stay below 1e200, so sums of even 10^18 of them stay far
     * from float64's 1.8e308 (a layer fed 1e200 could otherwise never be decomposed again).
     */
    public static final double MAX_MAGNITUDE = 1e100;

    private void checkFinite(double[] d, float[] f, int n) throws NonFiniteValueException {
        int count = n * cols;
        for (int i = 0; i < count; i++) {
            double v = d != null ? d[i] : f[i];
            if (!(Math.abs(v) <= MAX_MAGNITUDE)) {
                throw new NonFiniteValueException(source, rowsRead + i / cols, i % cols, v);
            }
        }
    }

    private void loadFortran() throws IOException {
        if (fortranData != null) {
            return;
        }
        if ((long) rows * cols > Integer.MAX_VALUE - 16) {
            throw new NpyFormatException(source, "Fortran-order shape " + header.shapeText() + " is too large");
        }
        fortranData = new double[rows * cols];
        readElements((long) rows * cols, fortranData, null);
    }

    /** Reads {@code count} elements from the data stream, converting into exactly one of the destinations. */
    private void readElements(long count, double[] d, float[] f) throws IOException {
        int size = header.type().size();
        int done = 0;
        while (done < count) {
            int take = (int) Math.min(count - done, chunk.capacity() / size);
            chunk.clear().limit(take * size);
            if (readFully(channel, chunk) < take * size) {
                throw new NpyFormatException(source, "data ended early after " + (done + rowsRead * (long) cols)
                        + " elements");
            }
            chunk.flip();
            convert(chunk, take, d, f, done);
            done += take;
        }
    }

    private void convert(ByteBuffer b, int n, double[] d, float[] f, int off) {
        switch (header.type()) {
            case FLOAT32 -> {
                if (f != null) {
                    b.asFloatBuffer().get(f, off, n);
                } else {
                    for (int i = 0; i < n; i++) {
                        d[off + i] = b.getFloat();
                    }
                }
            }
            case FLOAT64 -> {
                if (d != null) {
                    b.asDoubleBuffer().get(d, off, n);
                } else {
                    for (int i = 0; i < n; i++) {
                        f[off + i] = (float) b.getDouble();
                    }
                }
            }
            default -> {
                for (int i = 0; i < n; i++) {
                    double v = element(b);
                    if (d != null) {
                        d[off + i] = v;
                    } else {
                        f[off + i] = (float) v;
                    }
                }
            }
        }
    }

    private double element(ByteBuffer b) {
        return switch (header.type()) {
            case FLOAT16 -> Half.toFloat(b.getShort());
            case FLOAT32 -> b.getFloat();
            case FLOAT64 -> b.getDouble();
            case INT8 -> b.get();
            case INT16 -> b.getShort();
            case INT32 -> b.getInt();
            case INT64 -> b.getLong();
            case UINT8, BOOL -> b.get() & 0xff;
            case UINT16 -> b.getShort() & 0xffff;
            case UINT32 -> b.getInt() & 0xffffffffL;
            case UINT64 -> {
                long v = b.getLong();
                yield v >= 0 ? (double) v : (double) (v >>> 1) * 2.0 + (v & 1);
            }
        };
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    /** IEEE 754 binary16 to float32 (Java 17 has no Float.float16ToFloat). */
    static final class Half {
        private Half() {}

        static float toFloat(short bits) {
            int h = bits & 0xffff;
            int sign = (h >>> 15) << 31;
            int exp = (h >>> 10) & 0x1f;
            int mant = h & 0x3ff;
            if (exp == 0x1f) {
                return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
            }
            if (exp == 0) {
                float v = mant * 0x1p-24f; // subnormal
                return sign == 0 ? v : -v;
            }
            return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
        }
    }

    /** A readable channel over a heap buffer (avoids copying request bodies). */
    private static final class ByteBufferChannel implements ReadableByteChannel {
        private final ByteBuffer src;
        private boolean open = true;

        ByteBufferChannel(ByteBuffer src) {
            this.src = src;
        }

        @Override
        public int read(ByteBuffer dst) {
            if (!src.hasRemaining()) {
                return -1;
            }
            int n = Math.min(dst.remaining(), src.remaining());
            ByteBuffer slice = src.duplicate();
            slice.limit(slice.position() + n);
            dst.put(slice);
            src.position(src.position() + n);
            return n;
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public void close() {
            open = false;
        }
    }
}
