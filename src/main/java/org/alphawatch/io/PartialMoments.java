package org.alphawatch.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The sufficient statistics of rows a trainer aggregated itself (a <em>partial accumulator</em>):
 * sample count, mean and centred co-moment {@code M = sum (x - mean)(x - mean)^T}, optionally with
 * the cross-moments of paired repeat passes (cvPCA). The monitor merges it exactly into a layer's
 * window (Chan). Wire format version 1, little-endian (docs/http-api.md, "partial accumulators"):
 *
 * <pre>
 * u32 magic "AWPA"  u16 version 1  u16 flags (bit 0: repeat pairs follow)  u32 dims d
 * u64 samples n (>= 1; 0 only with repeat pairs, then mean and co-moment are zeros)
 * u64 first step  u64 last step
 * f64[d] mean   f64[d(d+1)/2] co-moment, upper triangle row by row
 * [bit 0: u64 pairs p >= 1, f64[d] mean of pass 0, f64[d] mean of pass 1,
 *         f64[d(d+1)/2] co-moment of pass 0 (upper), f64[d*d] cross co-moment (pass 0 x pass 1, row-major)]
 * u32 CRC-32 (IEEE, as zlib.crc32) of everything before
 * </pre>
 *
 * Decoding validates every field before anything is allocated for the payload: lengths against
 * the header, finite values, magnitudes (means within {@link NpyReader#MAX_MAGNITUDE}),
 * non-negative variances and {@code |M_ij| <= sqrt(M_ii M_jj)} (a co-moment is positive
 * semi-definite). Immutable.
 */
public final class PartialMoments {
    public static final int MAGIC = 0x41505741; // "AWPA" little-endian
    public static final short VERSION = 1;
    private static final int HEADER = 36;
    private static final double CAUCHY_SCHWARZ_SLACK = 1e-9;

    private final int dims;
    private final long samples;
    private final long firstStep;
    private final long lastStep;
    private final double[] mean;
    private final double[] comoment;
    private final long pairs;
    private final double[] meanA;
    private final double[] meanB;
    private final double[] comomentA;
    private final double[] cross;

    private PartialMoments(int dims, long samples, long firstStep, long lastStep, double[] mean, double[] comoment,
                           long pairs, double[] meanA, double[] meanB, double[] comomentA, double[] cross) {
        this.dims = dims;
        this.samples = samples;
        this.firstStep = firstStep;
        this.lastStep = lastStep;
        this.mean = mean;
        this.comoment = comoment;
        this.pairs = pairs;
        this.meanA = meanA;
        this.meanB = meanB;
        this.comomentA = comomentA;
        this.cross = cross;
    }

    /**
     * Moments computed by a sender (a Java trainer, tests): no pairs. The receiver validates them
     * when it decodes {@link #encode()}.
     */
    public static PartialMoments of(int dims, long samples, long firstStep, long lastStep, double[] mean,
                                    double[] upper) {
        if (mean.length != dims || upper.length != triangle(dims)) {
            throw new IllegalArgumentException(mean.length + " / " + upper.length + " values for " + dims + " dims");
        }
        return new PartialMoments(dims, samples, firstStep, lastStep, mean.clone(), upper.clone(), 0, null, null,
                null, null);
    }

    static long triangle(int d) {
        return (long) d * (d + 1) / 2;
    }

    /** Bytes of a body of {@code dims} units (with repeat pairs or not). */
    public static long bodyBytes(int dims, boolean withPairs) {
        long doubles = dims + triangle(dims) + (withPairs ? 2L * dims + triangle(dims) + (long) dims * dims : 0);
        return HEADER + 8 * doubles + (withPairs ? 8 : 0) + 4;
    }

    /**
     * Decodes a body of one or more partial accumulators, back to back (a sender's partials of
     * one layer, in order), all of the same dims; the message names the first problem and which
     * partial has it.
     */
    public static List<PartialMoments> decodeAll(byte[] body, String source, int maxDims)
            throws NpyFormatException {
        List<PartialMoments> out = new ArrayList<>();
        int at = 0;
        while (at < body.length || out.isEmpty()) {
            String which = source + (at == 0 && body.length == 0 ? "" : " (partial " + (out.size() + 1) + ")");
            if (body.length - at < HEADER + 4) {
                throw new NpyFormatException(which, (body.length - at) + " bytes is shorter than a partial accumulator");
            }
            ByteBuffer b = ByteBuffer.wrap(body, at, body.length - at).order(ByteOrder.LITTLE_ENDIAN);
            int dims = b.getInt(at + 8);
            boolean withPairs = (b.getShort(at + 6) & 1) != 0;
            long length = dims < 1 || dims > maxDims ? body.length - at : bodyBytes(dims, withPairs);
            if (length != body.length - at && checksumHolds(body, at, body.length)) {
                length = body.length - at; // one partial whose header disagrees with its length: say so
            }
            byte[] one = Arrays.copyOfRange(body, at, (int) Math.min(body.length, at + length));
            PartialMoments p = decode(one, which, maxDims);
            if (!out.isEmpty() && p.dims() != out.get(0).dims()) {
                throw new NpyFormatException(which, NpyFormatException.Kind.SHAPE, "dims " + p.dims()
                        + " after partials of " + out.get(0).dims());
            }
            out.add(p);
            at += one.length;
        }
        return out;
    }

    private static boolean checksumHolds(byte[] body, int from, int to) {
        CRC32 crc = new CRC32();
        crc.update(body, from, to - from - 4);
        return ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN).getInt(to - 4) == (int) crc.getValue();
    }

    /** Decodes and validates a body; the message names the first problem. */
    public static PartialMoments decode(byte[] body, String source, int maxDims) throws NpyFormatException {
        if (body.length < HEADER + 4) {
            throw new NpyFormatException(source, body.length + " bytes is shorter than a partial accumulator header");
        }
        ByteBuffer b = ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0) != MAGIC) {
            throw new NpyFormatException(source, NpyFormatException.Kind.NOT_NPY,
                    "not a partial accumulator (magic \"AWPA\" missing)");
        }
        CRC32 crc = new CRC32();
        crc.update(body, 0, body.length - 4);
        if (b.getInt(body.length - 4) != (int) crc.getValue()) {
            throw new NpyFormatException(source, "checksum mismatch (CRC-32 of the body): truncated or corrupt");
        }
        int version = b.getShort(4) & 0xffff;
        if (version != VERSION) {
            throw new NpyFormatException(source, "partial accumulator version " + version + " is not supported (1)");
        }
        int flags = b.getShort(6) & 0xffff;
        if ((flags & ~1) != 0) {
            throw new NpyFormatException(source, "unknown flags " + flags);
        }
        int dims = b.getInt(8);
        if (dims < 1 || dims > maxDims) {
            throw new NpyFormatException(source, NpyFormatException.Kind.SHAPE, "dims " + dims + " outside 1.." + maxDims);
        }
        long samples = b.getLong(12);
        long firstStep = b.getLong(20);
        long lastStep = b.getLong(28);
        boolean withPairs = (flags & 1) != 0;
        if (samples < (withPairs ? 0 : 1)) {
            throw new NpyFormatException(source, NpyFormatException.Kind.SHAPE, "samples " + samples + " must be >= "
                    + (withPairs ? "0" : "1"));
        }
        if (firstStep < 0 || lastStep < firstStep) {
            throw new NpyFormatException(source, "steps " + firstStep + ".." + lastStep + " are not a range of steps >= 0");
        }
        long expected = bodyBytes(dims, withPairs);
        if (body.length != expected) {
            throw new NpyFormatException(source, body.length + " bytes, but " + dims + " dims"
                    + (withPairs ? " with repeat pairs" : "") + " take " + expected);
        }
        b.position(HEADER);
        double[] mean = vector(b, dims, source, "mean", true);
        double[] m = vector(b, (int) triangle(dims), source, "co-moment", false);
        checkComoment(m, dims, source, "co-moment");
        if (samples == 0 && (!allZero(mean) || !allZero(m))) {
            throw new NpyFormatException(source, "0 samples with a non-zero mean or co-moment");
        }
        if (!withPairs) {
            return new PartialMoments(dims, samples, firstStep, lastStep, mean, m, 0, null, null, null, null);
        }
        long pairs = b.getLong();
        if (pairs < 1) {
            throw new NpyFormatException(source, NpyFormatException.Kind.SHAPE, "pairs " + pairs + " must be >= 1");
        }
        double[] meanA = vector(b, dims, source, "mean of pass 0", true);
        double[] meanB = vector(b, dims, source, "mean of pass 1", true);
        double[] mA = vector(b, (int) triangle(dims), source, "co-moment of pass 0", false);
        checkComoment(mA, dims, source, "co-moment of pass 0");
        double[] ab = vector(b, dims * dims, source, "cross co-moment", false);
        return new PartialMoments(dims, samples, firstStep, lastStep, mean, m, pairs, meanA, meanB, mA, ab);
    }

    private static double[] vector(ByteBuffer b, int n, String source, String what, boolean bounded)
            throws NpyFormatException {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            double x = b.getDouble();
            if (!Double.isFinite(x) || (bounded && Math.abs(x) > NpyReader.MAX_MAGNITUDE)) {
                throw new NpyFormatException(source, Double.isFinite(x) ? NpyFormatException.Kind.OUT_OF_RANGE
                        : NpyFormatException.Kind.NON_FINITE, what + " entry " + i + " is " + x);
            }
            v[i] = x;
        }
        return v;
    }

    private static boolean allZero(double[] v) {
        for (double x : v) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    /** Variances >= 0 and |M_ij| <= sqrt(M_ii M_jj): what every centred co-moment satisfies. */
    private static void checkComoment(double[] upper, int d, String source, String what) throws NpyFormatException {
        double[] diag = new double[d];
        int k = 0;
        for (int i = 0; i < d; i++) {
            diag[i] = upper[k];
            if (diag[i] < 0) {
                throw new NpyFormatException(source, what + ": negative variance at unit " + i);
            }
            k += d - i;
        }
        k = 0;
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++, k++) {
                if (Math.abs(upper[k]) > Math.sqrt(diag[i] * diag[j]) * (1 + CAUCHY_SCHWARZ_SLACK) + 1e-300) {
                    throw new NpyFormatException(source, what + " is not positive semi-definite: |M[" + i + "," + j
                            + "]| exceeds sqrt(M[" + i + "," + i + "] M[" + j + "," + j + "])");
                }
            }
        }
    }

    public int dims() {
        return dims;
    }

    public long samples() {
        return samples;
    }

    public long firstStep() {
        return firstStep;
    }

    public long lastStep() {
        return lastStep;
    }

    /** Whether repeat-pair cross-moments came along. */
    public boolean hasPairs() {
        return pairs > 0;
    }

    public long pairs() {
        return pairs;
    }

    /** The mean (a copy). */
    public double[] mean() {
        return mean.clone();
    }

    /** The co-moment's upper triangle, row by row (a copy). */
    public double[] comomentUpper() {
        return comoment.clone();
    }

    public double[] meanA() {
        return meanA.clone();
    }

    public double[] meanB() {
        return meanB.clone();
    }

    public double[] comomentAUpper() {
        return comomentA.clone();
    }

    /** Cross co-moment, row-major d x d (a copy). */
    public double[] crossComoment() {
        return cross.clone();
    }

    /** Bytes held (what the ingest queue charges). */
    public long bytes() {
        return 8L * (mean.length + comoment.length + (hasPairs() ? meanA.length + meanB.length + comomentA.length
                + cross.length : 0));
    }

    /** The body this decodes from (for the write-ahead log and tests). */
    public byte[] encode() {
        boolean withPairs = hasPairs();
        ByteBuffer b = ByteBuffer.allocate((int) bodyBytes(dims, withPairs)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).putShort(VERSION).putShort((short) (withPairs ? 1 : 0)).putInt(dims).putLong(samples)
                .putLong(firstStep).putLong(lastStep);
        for (double v : mean) {
            b.putDouble(v);
        }
        for (double v : comoment) {
            b.putDouble(v);
        }
        if (withPairs) {
            b.putLong(pairs);
            for (double[] part : new double[][] {meanA, meanB, comomentA, cross}) {
                for (double v : part) {
                    b.putDouble(v);
                }
            }
        }
        CRC32 crc = new CRC32();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        return b.array();
    }
}
