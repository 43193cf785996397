package org.alphawatch.core.stat;

import org.alphawatch.core.linalg.SquareMatrix;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Streaming, mergeable covariance of m-dimensional samples: float64 means and centred co-moments
 * {@code M = sum_i (a_i - mu)(a_i - mu)^T}, combined batch by batch with Chan, Golub and LeVeque's
 * pairwise formula. Never forms raw sums of squares, so a large common offset does not cancel
 * catastrophically; the mean is kept in double-double so a large offset does not leak rounding of
 * the mean into the co-moments.
 *
 * <p>Mutable and single-writer: not thread-safe. Concurrency comes from one accumulator per shard,
 * {@link #merge merged} when a snapshot is wanted. Memory is {@code 8 m^2} bytes for the co-moments
 * (upper triangle used) plus a workspace of {@code 8 * rows * m} bytes that grows to the largest
 * batch seen; updates allocate nothing once the workspace is large enough.
 *
 * <p>With {@link #decay} the samples carry weights; {@link #weight()} is their sum and the
 * covariance divides by {@code weight - 1} (the usual {@code n - 1} for integer weights).
 */
public final class CovarianceAccumulator {
    /** The widest layer any state format accepts (units); the monitor's max-dims cannot exceed it. */
    public static final int MAX_DIMS = 16_384;
    /**
     * The most samples an accumulator holds: doubles count integers exactly up to 2^53, and every
     * weight and Chan factor below is a double. Updates and merges beyond it are refused whole.
     */
    public static final long MAX_COUNT = 1L << 53;

    static final int MAGIC = 0x56435741; // "AWCV" little-endian

    private final int dims;
    private final double[] mean; // double-double running mean: mean + meanLow
    private final double[] meanLow;
    private final CoMomentKernel kernel;
    private final SquareMatrix comoment; // row-major m x m, upper triangle (j >= i) maintained
    private long count;
    private double weight;

    private final double[] batchMean;
    private final double[] batchMeanLow;
    private final double[] delta;

    private CovarianceAccumulator(int dims, CoMomentKernel.Kind kind) {
        if (dims < 1 || dims > StateFormat.MAX_DIMS) {
            throw new IllegalArgumentException("dims " + dims + " outside 1.." + StateFormat.MAX_DIMS);
        }
        this.dims = dims;
        this.mean = new double[dims];
        this.meanLow = new double[dims];
        this.kernel = kind.create(dims);
        this.comoment = kernel.allocate(dims);
        this.batchMean = new double[dims];
        this.batchMeanLow = new double[dims];
        this.delta = new double[dims];
    }

    /**
     * An accumulator holding {@code count} samples given by their sufficient statistics (a partial
     * accumulator aggregated elsewhere): mean and the co-moment's upper triangle, row by row. The
     * caller validated the values.
     */
    public static CovarianceAccumulator fromMoments(int dims, long count, double[] mean, double[] upper) {
        if (mean.length != dims || upper.length != (long) dims * (dims + 1) / 2 || count < 1 || count > MAX_COUNT) {
            throw new IllegalArgumentException("moments of " + mean.length + " / " + upper.length + " values for "
                    + dims + " dims");
        }
        CovarianceAccumulator acc = create(dims);
        System.arraycopy(mean, 0, acc.mean, 0, dims);
        int k = 0;
        for (int i = 0; i < dims; i++) {
            for (int j = i; j < dims; j++) {
                acc.comoment.set(i * dims + j, upper[k++]);
            }
        }
        acc.count = count;
        acc.weight = count;
        return acc;
    }

    /** An accumulator on the process-wide back-end ({@link CoMomentKernel.Kind#selected()}). */
    public static CovarianceAccumulator create(int dims) {
        return new CovarianceAccumulator(dims, CoMomentKernel.Kind.selected());
    }

    public static CovarianceAccumulator create(int dims, CoMomentKernel.Kind kind) {
        return new CovarianceAccumulator(dims, kind);
    }

    /** Bytes held by an accumulator of {@code dims} (co-moments and mean), excluding the workspace. */
    public static long stateBytes(int dims) {
        return 8L * dims * dims + 24L * dims;
    }

    public int dims() {
        return dims;
    }

    /** Samples accepted since creation or the last {@link #reset}, unaffected by decay. */
    public long count() {
        return count;
    }

    /** Sum of sample weights: equals {@link #count} unless {@link #decay} was applied. */
    public double weight() {
        return weight;
    }

    /**
     * Adds {@code rows} samples stored row-major in {@code data[offset .. offset + rows*dims)}.
     * The caller validates the values (finite); this method trusts them.
     */
    public void update(double[] data, int offset, int rows) {
        checkBatch(data.length, offset, rows);
        if (rows == 0) {
            return;
        }
        absorb(data, null, offset, rows);
    }

    /** As {@link #update(double[], int, int)} for float32 rows, accumulated in float64. */
    public void update(float[] data, int offset, int rows) {
        checkBatch(data.length, offset, rows);
        if (rows == 0) {
            return;
        }
        absorb(null, data, offset, rows);
    }

    public void update(double[] data, int rows) {
        update(data, 0, rows);
    }

    public void update(float[] data, int rows) {
        update(data, 0, rows);
    }

    private void checkBatch(int length, int offset, int rows) {
        if (rows < 0 || offset < 0 || (long) offset + (long) rows * dims > length) {
            throw new IllegalArgumentException("batch of " + rows + " rows x " + dims + " dims at offset " + offset
                    + " does not fit in an array of " + length);
        }
    }

    private void absorb(double[] d, float[] f, int offset, int rows) {
        if ((long) rows * dims > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("batch of " + rows + " rows x " + dims + " dims is too large");
        }
        checkRoom(rows);
        kernel.addBatch(d, f, offset, rows, dims, batchMean, batchMeanLow, comoment);
        double wa = weight;
        double wb = rows;
        double w = wa + wb;
        Kernels.difference(batchMean, batchMeanLow, mean, meanLow, delta);
        // Cross term of the pairwise update; zero for the first batch.
        double fc = wa == 0 ? 0 : wa * wb / w;
        comoment.addOuterUpper(delta, fc);
        if (wa == 0) {
            System.arraycopy(batchMean, 0, mean, 0, dims);
            System.arraycopy(batchMeanLow, 0, meanLow, 0, dims);
        } else {
            Kernels.addScaled(mean, meanLow, delta, wb / w);
        }
        weight = w;
        count += rows;
    }

    /** Refuses, before anything changes, samples that would take the count past {@link #MAX_COUNT}. */
    private void checkRoom(long samples) {
        if (samples > MAX_COUNT - count) {
            throw new IllegalArgumentException(samples + " more samples would take the count " + count
                    + " past " + MAX_COUNT + " (2^53)");
        }
    }

    /**
     * The co-moment matrix {@code M = sum_i w_i (a_i - mu)(a_i - mu)^T} as a live view of its upper
     * triangle (row-major). For in-place linear algebra: code that writes to it (LAPACK reduces it)
     * must {@link #reset} the accumulator before using it again.
     */
    public SquareMatrix comoments() {
        return comoment;
    }

    /** Writes the mean (hi + lo parts summed) into {@code out[0..dims)}. */
    public void meanInto(double[] out) {
        for (int j = 0; j < dims; j++) {
            out[j] = mean[j] + meanLow[j];
        }
    }

    /** Adds another accumulator's samples to this one ({@code other} is not modified). */
    public void merge(CovarianceAccumulator other) {
        if (other == this) {
            throw new IllegalArgumentException("cannot merge an accumulator into itself");
        }
        if (other.dims != dims) {
            throw new IllegalArgumentException("cannot merge " + other.dims + " dims into " + dims);
        }
        checkRoom(other.count);
        if (other.weight == 0) {
            count += other.count;
            return;
        }
        double wa = weight;
        double wb = other.weight;
        double w = wa + wb;
        double f = wa * wb / w;
        Kernels.difference(other.mean, other.meanLow, mean, meanLow, delta);
        comoment.addAll(other.comoment);
        comoment.addOuterUpper(delta, f);
        if (wa == 0) {
            System.arraycopy(other.mean, 0, mean, 0, dims);
            System.arraycopy(other.meanLow, 0, meanLow, 0, dims);
        } else {
            Kernels.addScaled(mean, meanLow, delta, wb / w);
        }
        weight = w;
        count += other.count;
    }

    /**
     * Exponential forgetting: every sample's weight (and so the co-moments) is multiplied by
     * {@code factor} in (0, 1]. The mean is unchanged. Used by the decay window.
     */
    public void decay(double factor) {
        if (!(factor > 0 && factor <= 1)) {
            throw new IllegalArgumentException("decay factor " + factor + " outside (0, 1]");
        }
        if (factor == 1) {
            return;
        }
        weight *= factor;
        comoment.scaleUpper(factor);
    }

    public void reset() {
        Arrays.fill(mean, 0);
        Arrays.fill(meanLow, 0);
        comoment.clear();
        count = 0;
        weight = 0;
    }

    /** An immutable copy: mean and the full symmetric covariance {@code M / (weight - 1)}. */
    public CovarianceSnapshot snapshot() {
        double[] cov = new double[dims * dims];
        if (weight > 1) {
            double scale = 1.0 / (weight - 1);
            for (int i = 0; i < dims; i++) {
                int row = i * dims;
                for (int j = i; j < dims; j++) {
                    double v = comoment.get(row + j) * scale;
                    cov[row + j] = v;
                    cov[j * dims + i] = v;
                }
            }
        }
        double[] m = new double[dims];
        for (int j = 0; j < dims; j++) {
            m[j] = mean[j] + meanLow[j];
        }
        return new CovarianceSnapshot(dims, count, weight, m, cov);
    }

    /** Makes this an exact copy of {@code other} without allocating (same dims; {@code other} not modified). */
    public void copyFrom(CovarianceAccumulator other) {
        if (other.dims != dims) {
            throw new IllegalArgumentException("cannot copy " + other.dims + " dims into " + dims);
        }
        if (other == this) {
            return;
        }
        System.arraycopy(other.mean, 0, mean, 0, dims);
        System.arraycopy(other.meanLow, 0, meanLow, 0, dims);
        comoment.copyFrom(other.comoment);
        count = other.count;
        weight = other.weight;
    }

    public CovarianceAccumulator copy() {
        CovarianceAccumulator c = new CovarianceAccumulator(dims, kindOf(kernel));
        c.merge(this);
        return c;
    }

    private static CoMomentKernel.Kind kindOf(CoMomentKernel k) {
        return k instanceof CoMomentKernel.OpenBlasKernel ? CoMomentKernel.Kind.OPENBLAS : CoMomentKernel.Kind.JAVA;
    }

    private static long payloadDoubles(int dims) {
        return 2L * dims + (long) dims * (dims + 1) / 2;
    }

    /** Serialized state in the layout of {@code StateFormat}; payload: mean[m] and its low part[m] (double-double), then the upper triangle row by row. */
    public byte[] toByteArray() {
        ByteBuffer buf = StateFormat.begin(MAGIC, dims, count, weight, payloadDoubles(dims));
        for (double v : mean) {
            StateFormat.putFinite(buf, v, "mean");
        }
        for (double v : meanLow) {
            StateFormat.putFinite(buf, v, "mean low part");
        }
        for (int i = 0; i < dims; i++) {
            StateFormat.putDiagonal(buf, comoment.get(i * dims + i), i);
            for (int j = i + 1; j < dims; j++) {
                StateFormat.putFinite(buf, comoment.get(i * dims + j), "co-moment");
            }
        }
        return StateFormat.finish(buf);
    }

    /** Restores state written by {@link #toByteArray}, validating every field. */
    public static CovarianceAccumulator fromByteArray(byte[] bytes) {
        String what = "covariance state";
        StateFormat.Header h = StateFormat.read(bytes, MAGIC, what, CovarianceAccumulator::payloadDoubles);
        CovarianceAccumulator acc = new CovarianceAccumulator(h.dims(), CoMomentKernel.Kind.selected());
        ByteBuffer buf = h.payload();
        StateFormat.readFinite(buf, acc.mean, 0, h.dims(), what, "mean");
        StateFormat.readFinite(buf, acc.meanLow, 0, h.dims(), what, "mean low part");
        int m = h.dims();
        double[] row = new double[m];
        for (int i = 0; i < m; i++) {
            StateFormat.readFinite(buf, row, i, m, what, "co-moment row " + i);
            if (row[i] < 0) {
                throw new InvalidStateException(what + ": negative diagonal co-moment at " + i);
            }
            for (int j = i; j < m; j++) {
                acc.comoment.set(i * m + j, row[j]);
            }
        }
        acc.count = h.count();
        acc.weight = h.weight();
        return acc;
    }
}
