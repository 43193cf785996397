package org.alphawatch.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import org.alphawatch.core.linalg.Semidefinite;
import org.alphawatch.core.stat.CovarianceAccumulator;

/**
 * The sufficient statistics of rows a trainer aggregated itself (a <em>partial accumulator</em>):
 * sample count, mean and centred co-moment {@code M = sum (x - mean)(x - mean)^T}, optionally with
 * the moments of paired repeat passes (cvPCA). The monitor merges it exactly into a layer's window
 * (Chan). Wire format, little-endian (docs/http-api.md, "partial accumulators"):
 *
 * <pre>
 * u32 magic "AWPA"  u16 version (1 or 2)  u16 flags (bit 0: repeat pairs follow)  u32 dims d
 * u64 samples n (>= 1; 0 only with repeat pairs, then mean and co-moment are zeros)
 * u64 first step  u64 last step
 * f64[d] mean   f64[d(d+1)/2] co-moment, upper triangle row by row
 * [bit 0: u64 pairs p >= 1, f64[d] mean of pass 0, f64[d] mean of pass 1,
 *         f64[d(d+1)/2] co-moment of pass 0 (upper),
 *         version 2 only: f64[d(d+1)/2] co-moment of pass 1 (upper),
 *         f64[d*d] cross co-moment (pass 0 x pass 1, row-major)]
 * u32 CRC-32 (IEEE, as zlib.crc32) of everything before
 * </pre>
 *
 * Version 2 differs only in carrying pass 1's co-moment, so the cross co-moment can be checked;
 * a partial without pairs is written as version 1.
 *
 * <p>{@link #validate} checks what any real set of rows satisfies, so a partial no rows could have
 * produced is refused before it reaches a window: finite values; means within
 * {@link NpyReader#MAX_MAGNITUDE} (as rows are); {@code 1 <= n <= 2^53} (counts stay exact); every
 * co-moment positive semi-definite ({@link org.alphawatch.core.linalg.Semidefinite}: a Cholesky test
 * with a stated tolerance) with variances at most {@code n * MAX_MAGNITUDE^2} (what rows within the
 * bound can give) and zero when {@code n = 1}; for pairs, the joint co-moment of both passes
 * {@code [[M_00, M_01], [M_01^T, M_11]]} positive semi-definite (version 2), which includes
 * Cauchy-Schwarz {@code |M_01[i][j]| <= sqrt(M_00[i][i] M_11[j][j])}; version 1 pairs (no
 * {@code M_11}) are held to {@code |M_01[i][j]| <= sqrt(M_00[i][i] p) MAX_MAGNITUDE}. Decoding
 * validates; a partial made with {@link #of} is validated by the monitor. Immutable.
 */
public final class PartialMoments {
    public static final int MAGIC = 0x41505741; // "AWPA" little-endian
    public static final short VERSION = 1;
    /** The version that carries pass 1's co-moment with repeat pairs. */
    public static final short VERSION_2 = 2;
    /** The most samples (and pairs) a partial, or a layer, may hold: counts stay exact in doubles. */
    public static final long MAX_SAMPLES = CovarianceAccumulator.MAX_COUNT;
    private static final int HEADER = 36;
    /** The largest variance rows within {@link NpyReader#MAX_MAGNITUDE} give, per sample. */
    private static final double MAX_VARIANCE = NpyReader.MAX_MAGNITUDE * NpyReader.MAX_MAGNITUDE;

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
    private final double[] comomentB; // null: version 1
    private final double[] cross;
    /** Set once {@link #validate} passed (the object is immutable, so it stays valid). */
    private volatile boolean validated;

    private PartialMoments(int dims, long samples, long firstStep, long lastStep, double[] mean, double[] comoment,
                           long pairs, double[] meanA, double[] meanB, double[] comomentA, double[] comomentB,
                           double[] cross) {
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
        this.comomentB = comomentB;
        this.cross = cross;
    }

    /**
     * Moments computed by a sender (a Java trainer, tests): no pairs. The receiver validates them
     * ({@link #validate}).
     */
    public static PartialMoments of(int dims, long samples, long firstStep, long lastStep, double[] mean,
                                    double[] upper) {
        if (mean.length != dims || upper.length != triangle(dims)) {
            throw new IllegalArgumentException(mean.length + " / " + upper.length + " values for " + dims + " dims");
        }
        return new PartialMoments(dims, samples, firstStep, lastStep, mean.clone(), upper.clone(), 0, null, null,
                null, null, null);
    }

    /** Moments with repeat pairs, as a sender computes them (version 2); validated by the receiver. */
    public static PartialMoments withPairs(int dims, long samples, long firstStep, long lastStep, double[] mean,
                                           double[] upper, long pairs, double[] meanA, double[] meanB,
                                           double[] upperA, double[] upperB, double[] cross) {
        long t = triangle(dims);
        if (mean.length != dims || upper.length != t || meanA.length != dims || meanB.length != dims
                || upperA.length != t || upperB.length != t || cross.length != (long) dims * dims) {
            throw new IllegalArgumentException("moments with pairs do not fit " + dims + " dims");
        }
        return new PartialMoments(dims, samples, firstStep, lastStep, mean.clone(), upper.clone(), pairs,
                meanA.clone(), meanB.clone(), upperA.clone(), upperB.clone(), cross.clone());
    }

    static long triangle(int d) {
        return (long) d * (d + 1) / 2;
    }

    /** Bytes of a version-1 body of {@code dims} units (with repeat pairs or not). */
    public static long bodyBytes(int dims, boolean withPairs) {
        return bodyBytes(dims, withPairs, VERSION);
    }

    /** Bytes of a body of {@code dims} units in {@code version}. */
    public static long bodyBytes(int dims, boolean withPairs, int version) {
        long pairDoubles = withPairs ? 2L * dims + triangle(dims) * (version >= VERSION_2 ? 2 : 1)
                + (long) dims * dims : 0;
        return HEADER + 8 * (dims + triangle(dims) + pairDoubles) + (withPairs ? 8 : 0) + 4;
    }

    /**
     * Decodes a body of one or more partial accumulators, back to back (a sender's partials of
     * one layer, in order), all of the same dims; the message names the first problem and which
     * partial has it.
     */
    public static List<PartialMoments> decodeAll(byte[] body, String source, int maxDims)
            throws NpyFormatException {
        return decodeAll(body, source, maxDims, true);
    }

    /**
     * As {@link #decodeAll(byte[], String, int)}; without {@code validate} only the layout is
     * checked (recovery decodes what an older version logged and lets the admission checks refuse).
     */
    public static List<PartialMoments> decodeAll(byte[] body, String source, int maxDims, boolean validate)
            throws NpyFormatException {
        List<PartialMoments> out = new ArrayList<>();
        int at = 0;
        long total = 0;
        while (at < body.length || out.isEmpty()) {
            String which = source + (at == 0 && body.length == 0 ? "" : " (partial " + (out.size() + 1) + ")");
            if (body.length - at < HEADER + 4) {
                throw new NpyFormatException(which, (body.length - at) + " bytes is shorter than a partial accumulator");
            }
            ByteBuffer b = ByteBuffer.wrap(body, at, body.length - at).order(ByteOrder.LITTLE_ENDIAN);
            int dims = b.getInt(at + 8);
            int version = b.getShort(at + 4) & 0xffff;
            boolean withPairs = (b.getShort(at + 6) & 1) != 0;
            long length = dims < 1 || dims > maxDims || version < VERSION || version > VERSION_2 ? body.length - at
                    : bodyBytes(dims, withPairs, version);
            if (length != body.length - at && checksumHolds(body, at, body.length)) {
                length = body.length - at; // one partial whose header disagrees with its length: say so
            }
            byte[] one = Arrays.copyOfRange(body, at, (int) Math.min(body.length, at + length));
            PartialMoments p = decode(one, which, maxDims, validate);
            if (!out.isEmpty() && p.dims() != out.get(0).dims()) {
                throw new NpyFormatException(which, NpyFormatException.Kind.SHAPE, "dims " + p.dims()
                        + " after partials of " + out.get(0).dims());
            }
            total += Math.min(p.samples(), MAX_SAMPLES + 1);
            if (validate && total > MAX_SAMPLES) {
                throw new NpyFormatException(which, NpyFormatException.Kind.OUT_OF_RANGE, "the partials hold more than "
                        + MAX_SAMPLES + " samples (2^53) together");
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
        return decode(body, source, maxDims, true);
    }

    private static PartialMoments decode(byte[] body, String source, int maxDims, boolean validate)
            throws NpyFormatException {
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
        if (version != VERSION && version != VERSION_2) {
            throw new NpyFormatException(source, "partial accumulator version " + version + " is not supported (1, 2)");
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
        long expected = bodyBytes(dims, withPairs, version);
        if (body.length != expected) {
            throw new NpyFormatException(source, body.length + " bytes, but " + dims + " dims"
                    + (withPairs ? " with repeat pairs" : "") + " take " + expected + " in version " + version);
        }
        b.position(HEADER);
        double[] mean = vector(b, dims);
        double[] m = vector(b, (int) triangle(dims));
        PartialMoments p;
        if (!withPairs) {
            p = new PartialMoments(dims, samples, firstStep, lastStep, mean, m, 0, null, null, null, null, null);
        } else {
            long pairs = b.getLong();
            if (pairs < 1) {
                throw new NpyFormatException(source, NpyFormatException.Kind.SHAPE, "pairs " + pairs + " must be >= 1");
            }
            // pairs > 0 marks a partial with pairs; validate() bounds it
            double[] meanA = vector(b, dims);
            double[] meanB = vector(b, dims);
            double[] mA = vector(b, (int) triangle(dims));
            double[] mB = version >= VERSION_2 ? vector(b, (int) triangle(dims)) : null;
            double[] ab = vector(b, dims * dims);
            p = new PartialMoments(dims, samples, firstStep, lastStep, mean, m, pairs, meanA, meanB, mA, mB, ab);
        }
        if (validate) {
            p.validate(source, maxDims);
        }
        return p;
    }

    private static double[] vector(ByteBuffer b, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = b.getDouble();
        }
        return v;
    }

    /**
     * Checks what every partial made from real rows satisfies (see the class comment); the message
     * names the first problem. Runs the semi-definiteness test at most once per object.
     */
    public void validate(String source, int maxDims) throws NpyFormatException {
        if (validated) {
            return;
        }
        if (dims < 1 || dims > maxDims) {
            throw new NpyFormatException(source, NpyFormatException.Kind.SHAPE, "dims " + dims + " outside 1.." + maxDims);
        }
        boolean withPairs = pairs > 0;
        if (samples < (withPairs ? 0 : 1) || samples > MAX_SAMPLES) {
            throw new NpyFormatException(source, samples > MAX_SAMPLES ? NpyFormatException.Kind.OUT_OF_RANGE
                    : NpyFormatException.Kind.SHAPE, "samples " + samples + " must be within " + (withPairs ? 0 : 1)
                    + ".." + MAX_SAMPLES + " (2^53)");
        }
        if (firstStep < 0 || lastStep < firstStep) {
            throw new NpyFormatException(source, "steps " + firstStep + ".." + lastStep + " are not a range of steps >= 0");
        }
        checkMean(mean, source, "mean");
        checkComoment(comoment, samples, source, "co-moment");
        if (!withPairs) {
            validated = true;
            return;
        }
        if (pairs > MAX_SAMPLES) {
            throw new NpyFormatException(source, NpyFormatException.Kind.OUT_OF_RANGE, "pairs " + pairs
                    + " exceed " + MAX_SAMPLES + " (2^53)");
        }
        checkMean(meanA, source, "mean of pass 0");
        checkMean(meanB, source, "mean of pass 1");
        checkComoment(comomentA, pairs, source, "co-moment of pass 0");
        if (comomentB != null) {
            checkComoment(comomentB, pairs, source, "co-moment of pass 1");
        }
        int[] rowStart = rowStarts(dims);
        for (int i = 0; i < dims; i++) {
            double bound = comomentB == null ? Math.sqrt(comomentA[rowStart[i]] * pairs) * NpyReader.MAX_MAGNITUDE
                    : Double.NaN;
            for (int j = 0; j < dims; j++) {
                double x = cross[i * dims + j];
                if (!Double.isFinite(x)) {
                    throw new NpyFormatException(source, NpyFormatException.Kind.NON_FINITE, "cross co-moment entry "
                            + (i * dims + j) + " is " + x);
                }
                double b = comomentB == null ? bound : Math.sqrt(comomentA[rowStart[i]] * comomentB[rowStart[j]]);
                if (Math.abs(x) > b * (1 + 1e-9) + 1e-300) {
                    throw new NpyFormatException(source, comomentB == null ? NpyFormatException.Kind.OUT_OF_RANGE
                            : NpyFormatException.Kind.MALFORMED, "cross co-moment ["
                            + i + "," + j + "] = " + x + " exceeds " + (comomentB == null
                            ? "sqrt(M_00[i][i] pairs) * " + NpyReader.MAX_MAGNITUDE
                            : "sqrt(M_00[i][i] M_11[j][j]) (Cauchy-Schwarz)"));
                }
            }
        }
        if (pairs == 1 && (!allZero(comomentA) || !allZero(cross) || (comomentB != null && !allZero(comomentB)))) {
            throw new NpyFormatException(source, "1 pair with a non-zero co-moment: one pair of rows has none");
        }
        if (comomentB != null) {
            int d = dims;
            boolean psd = Semidefinite.holds(2 * d, (i, j) -> i < d
                    ? (j < d ? comomentA[rowStart[i] + j - i] : cross[i * d + j - d])
                    : comomentB[rowStart[i - d] + j - i]);
            if (!psd) {
                throw new NpyFormatException(source, "the joint co-moment of "
                        + "the two passes is not positive semi-definite (smallest eigenvalue below -"
                        + Semidefinite.RELATIVE_TOLERANCE + " x its trace): no paired rows give these moments");
            }
        }
        validated = true;
    }

    private static int[] rowStarts(int d) {
        int[] rowStart = new int[d];
        for (int i = 1; i < d; i++) {
            rowStart[i] = rowStart[i - 1] + d - (i - 1);
        }
        return rowStart;
    }

    private static void checkMean(double[] v, String source, String what) throws NpyFormatException {
        for (int i = 0; i < v.length; i++) {
            double x = v[i];
            if (!Double.isFinite(x) || Math.abs(x) > NpyReader.MAX_MAGNITUDE) {
                throw new NpyFormatException(source, Double.isFinite(x) ? NpyFormatException.Kind.OUT_OF_RANGE
                        : NpyFormatException.Kind.NON_FINITE, what + " entry " + i + " is " + x);
            }
        }
    }

    private static boolean allZero(double[] v) {
        for (double x : v) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * A co-moment of {@code n} samples: finite, variances within {@code 0..n MAX_MAGNITUDE^2}, zero
     * for one sample, and positive semi-definite (which includes |M_ij| <= sqrt(M_ii M_jj)).
     */
    private void checkComoment(double[] upper, long n, String source, String what) throws NpyFormatException {
        int d = dims;
        int k = 0;
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++, k++) {
                double x = upper[k];
                if (!Double.isFinite(x)) {
                    throw new NpyFormatException(source, NpyFormatException.Kind.NON_FINITE, what + " entry " + k
                            + " is " + x);
                }
                if (j == i && x < 0) {
                    throw new NpyFormatException(source, what + ": negative variance at unit " + i + " (" + x + ")");
                }
                if (j == i && x > n * MAX_VARIANCE) {
                    throw new NpyFormatException(source, NpyFormatException.Kind.OUT_OF_RANGE, what + ": variance "
                            + x + " at unit " + i + " exceeds what " + n + " samples within "
                            + NpyReader.MAX_MAGNITUDE + " can give (" + n + " x " + MAX_VARIANCE + ")");
                }
            }
        }
        if (n <= 1 && !allZero(upper)) {
            throw new NpyFormatException(source, what + " is not zero for " + n
                    + " sample(s): a single row has no co-moment");
        }
        if (!Semidefinite.holdsPacked(d, upper)) {
            throw new NpyFormatException(source, what + " is not positive "
                    + "semi-definite (smallest eigenvalue below -" + Semidefinite.RELATIVE_TOLERANCE
                    + " x its trace): no rows give these moments");
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

    /** Whether pass 1's co-moment came along (version 2). */
    public boolean hasComomentB() {
        return comomentB != null;
    }

    /** Cross co-moment, row-major d x d (a copy). */
    public double[] crossComoment() {
        return cross.clone();
    }

    /** Bytes held (what the ingest queue charges). */
    public long bytes() {
        return 8L * (mean.length + comoment.length + (hasPairs() ? meanA.length + meanB.length + comomentA.length
                + (comomentB == null ? 0 : comomentB.length) + cross.length : 0));
    }

    /** The body this decodes from (for the write-ahead log and tests). */
    public byte[] encode() {
        boolean withPairs = hasPairs();
        short version = comomentB != null ? VERSION_2 : VERSION;
        ByteBuffer b = ByteBuffer.allocate((int) bodyBytes(dims, withPairs, version)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).putShort(version).putShort((short) (withPairs ? 1 : 0)).putInt(dims).putLong(samples)
                .putLong(firstStep).putLong(lastStep);
        for (double v : mean) {
            b.putDouble(v);
        }
        for (double v : comoment) {
            b.putDouble(v);
        }
        if (withPairs) {
            b.putLong(pairs);
            double[][] parts = comomentB == null ? new double[][] {meanA, meanB, comomentA, cross}
                    : new double[][] {meanA, meanB, comomentA, comomentB, cross};
            for (double[] part : parts) {
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
