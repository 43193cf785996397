package org.alphawatch.core.stat;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Streaming co-moments of two repeats of the same inputs (for cross-validated PCA, Stringer et al.
 * 2019): row i of repeat A and row i of repeat B are responses to the same stimulus with
 * independent noise. Keeps repeat A's own co-moments {@code M_aa} (upper triangle) and the cross
 * co-moments {@code M_ab = sum (a_i - mu_a)(b_i - mu_b)^T} (full), combined with the same pairwise
 * formula as {@link CovarianceAccumulator}.
 *
 * <p>Mutable, single-writer, not thread-safe. Memory {@code 16 m^2} bytes plus a workspace of
 * {@code 16 * rows * m} bytes that grows to the largest batch.
 */
public final class CrossCovarianceAccumulator {
    static final int MAGIC = 0x43585741; // "AWXC" little-endian

    private final int dims;
    private final double[] meanA; // double-double means: meanA + meanALow
    private final double[] meanALow;
    private final double[] meanB;
    private final double[] meanBLow;
    private final double[] comomentAA;
    private final double[] comomentAB;
    private long count;
    private double weight;

    private double[] stagedA = new double[0];
    private double[] stagedB = new double[0];
    private final double[] batchMeanA;
    private final double[] batchMeanALow;
    private final double[] batchMeanB;
    private final double[] batchMeanBLow;
    private final double[] deltaA;
    private final double[] deltaB;

    private CrossCovarianceAccumulator(int dims) {
        if (dims < 1 || dims > StateFormat.MAX_DIMS) {
            throw new IllegalArgumentException("dims " + dims + " outside 1.." + StateFormat.MAX_DIMS);
        }
        this.dims = dims;
        meanA = new double[dims];
        meanALow = new double[dims];
        meanB = new double[dims];
        meanBLow = new double[dims];
        comomentAA = new double[dims * dims];
        comomentAB = new double[dims * dims];
        batchMeanA = new double[dims];
        batchMeanALow = new double[dims];
        batchMeanB = new double[dims];
        batchMeanBLow = new double[dims];
        deltaA = new double[dims];
        deltaB = new double[dims];
    }

    public static CrossCovarianceAccumulator create(int dims) {
        return new CrossCovarianceAccumulator(dims);
    }

    /**
     * Paired passes given by their sufficient statistics (aggregated elsewhere): both means, pass
     * 0's co-moment (upper triangle, row by row) and the cross co-moment (row-major). Validated by
     * the caller.
     */
    public static CrossCovarianceAccumulator fromMoments(int dims, long pairs, double[] meanA, double[] meanB,
                                                         double[] upperA, double[] cross) {
        if (meanA.length != dims || meanB.length != dims || upperA.length != (long) dims * (dims + 1) / 2
                || cross.length != dims * dims || pairs < 1 || pairs > CovarianceAccumulator.MAX_COUNT) {
            throw new IllegalArgumentException("cross moments do not fit " + dims + " dims");
        }
        CrossCovarianceAccumulator acc = new CrossCovarianceAccumulator(dims);
        System.arraycopy(meanA, 0, acc.meanA, 0, dims);
        System.arraycopy(meanB, 0, acc.meanB, 0, dims);
        int k = 0;
        for (int i = 0; i < dims; i++) {
            for (int j = i; j < dims; j++) {
                acc.comomentAA[i * dims + j] = upperA[k++];
            }
        }
        System.arraycopy(cross, 0, acc.comomentAB, 0, dims * dims);
        acc.count = pairs;
        acc.weight = pairs;
        return acc;
    }

    /** Bytes held by an accumulator of {@code dims} (both co-moment matrices and the means), excluding workspaces. */
    public static long stateBytes(int dims) {
        return 16L * dims * dims + 48L * dims;
    }

    public int dims() {
        return dims;
    }

    public long count() {
        return count;
    }

    public double weight() {
        return weight;
    }

    /** Adds {@code rows} paired samples: row r of {@code a} and row r of {@code b} share an input. */
    public void update(double[] a, double[] b, int rows) {
        check(a.length, b.length, rows);
        if (rows == 0) {
            return;
        }
        ensureStaging(rows);
        Kernels.stage(a, 0, rows, dims, stagedA);
        Kernels.stage(b, 0, rows, dims, stagedB);
        absorb(rows);
    }

    public void update(float[] a, float[] b, int rows) {
        check(a.length, b.length, rows);
        if (rows == 0) {
            return;
        }
        ensureStaging(rows);
        Kernels.stage(a, 0, rows, dims, stagedA);
        Kernels.stage(b, 0, rows, dims, stagedB);
        absorb(rows);
    }

    private void check(int lengthA, int lengthB, int rows) {
        long need = (long) rows * dims;
        if (rows < 0 || lengthA < need || lengthB < need) {
            throw new IllegalArgumentException("paired batch of " + rows + " rows x " + dims
                    + " dims does not fit arrays of " + lengthA + " and " + lengthB);
        }
    }

    private void ensureStaging(int rows) {
        long need = (long) rows * dims;
        if (need > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("batch of " + rows + " rows x " + dims + " dims is too large");
        }
        if (stagedA.length < need) {
            stagedA = new double[(int) need];
            stagedB = new double[(int) need];
        }
    }

    private void absorb(int rows) {
        checkRoom(rows);
        Kernels.center(stagedA, rows, dims, batchMeanA, batchMeanALow);
        Kernels.center(stagedB, rows, dims, batchMeanB, batchMeanBLow);
        double wa = weight;
        double w = wa + rows;
        Kernels.difference(batchMeanA, batchMeanALow, meanA, meanALow, deltaA);
        Kernels.difference(batchMeanB, batchMeanBLow, meanB, meanBLow, deltaB);
        double f = wa == 0 ? 0 : wa * rows / w;
        Kernels.addCoMoment(stagedA, stagedA, rows, dims, comomentAA, deltaA, deltaA, f, true);
        Kernels.addCoMoment(stagedA, stagedB, rows, dims, comomentAB, deltaA, deltaB, f, false);
        if (wa == 0) {
            System.arraycopy(batchMeanA, 0, meanA, 0, dims);
            System.arraycopy(batchMeanALow, 0, meanALow, 0, dims);
            System.arraycopy(batchMeanB, 0, meanB, 0, dims);
            System.arraycopy(batchMeanBLow, 0, meanBLow, 0, dims);
        } else {
            Kernels.addScaled(meanA, meanALow, deltaA, rows / w);
            Kernels.addScaled(meanB, meanBLow, deltaB, rows / w);
        }
        weight = w;
        count += rows;
    }

    public void merge(CrossCovarianceAccumulator other) {
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
        Kernels.difference(other.meanA, other.meanALow, meanA, meanALow, deltaA);
        Kernels.difference(other.meanB, other.meanBLow, meanB, meanBLow, deltaB);
        for (int i = 0; i < dims; i++) {
            double fi = f * deltaA[i];
            int row = i * dims;
            for (int j = 0; j < dims; j++) {
                if (j >= i) {
                    comomentAA[row + j] += other.comomentAA[row + j] + fi * deltaA[j];
                }
                comomentAB[row + j] += other.comomentAB[row + j] + fi * deltaB[j];
            }
        }
        if (wa == 0) {
            System.arraycopy(other.meanA, 0, meanA, 0, dims);
            System.arraycopy(other.meanALow, 0, meanALow, 0, dims);
            System.arraycopy(other.meanB, 0, meanB, 0, dims);
            System.arraycopy(other.meanBLow, 0, meanBLow, 0, dims);
        } else {
            Kernels.addScaled(meanA, meanALow, deltaA, wb / w);
            Kernels.addScaled(meanB, meanBLow, deltaB, wb / w);
        }
        weight = w;
        count += other.count;
    }

    /** Refuses, before anything changes, pairs that would take the count past {@link CovarianceAccumulator#MAX_COUNT}. */
    private void checkRoom(long pairs) {
        if (pairs > CovarianceAccumulator.MAX_COUNT - count) {
            throw new IllegalArgumentException(pairs + " more pairs would take the count " + count + " past "
                    + CovarianceAccumulator.MAX_COUNT + " (2^53)");
        }
    }

    public void reset() {
        Arrays.fill(meanA, 0);
        Arrays.fill(meanALow, 0);
        Arrays.fill(meanB, 0);
        Arrays.fill(meanBLow, 0);
        Arrays.fill(comomentAA, 0);
        Arrays.fill(comomentAB, 0);
        count = 0;
        weight = 0;
    }

    public CrossCovarianceSnapshot snapshot() {
        double[] covA = new double[dims * dims];
        double[] cross = new double[dims * dims];
        if (weight > 1) {
            double scale = 1.0 / (weight - 1);
            for (int i = 0; i < dims; i++) {
                for (int j = i; j < dims; j++) {
                    double v = comomentAA[i * dims + j] * scale;
                    covA[i * dims + j] = v;
                    covA[j * dims + i] = v;
                }
            }
            for (int k = 0; k < cross.length; k++) {
                cross[k] = comomentAB[k] * scale;
            }
        }
        return new CrossCovarianceSnapshot(dims, count, covA, cross);
    }

    private static long payloadDoubles(int dims) {
        return 4L * dims + (long) dims * (dims + 1) / 2 + (long) dims * dims;
    }

    /** Layout of {@code StateFormat}; payload: meanA, its low part, meanB, its low part (m each), upper triangle of M_aa, full M_ab. */
    public byte[] toByteArray() {
        ByteBuffer buf = StateFormat.begin(MAGIC, dims, count, weight, payloadDoubles(dims));
        for (double[] part : new double[][] {meanA, meanALow, meanB, meanBLow}) {
            for (double v : part) {
                StateFormat.putFinite(buf, v, "mean");
            }
        }
        for (int i = 0; i < dims; i++) {
            StateFormat.putDiagonal(buf, comomentAA[i * dims + i], i);
            for (int j = i + 1; j < dims; j++) {
                StateFormat.putFinite(buf, comomentAA[i * dims + j], "co-moment");
            }
        }
        for (double v : comomentAB) {
            StateFormat.putFinite(buf, v, "cross co-moment");
        }
        return StateFormat.finish(buf);
    }

    public static CrossCovarianceAccumulator fromByteArray(byte[] bytes) {
        String what = "cross-covariance state";
        StateFormat.Header h = StateFormat.read(bytes, MAGIC, what, CrossCovarianceAccumulator::payloadDoubles);
        int m = h.dims();
        CrossCovarianceAccumulator acc = new CrossCovarianceAccumulator(m);
        ByteBuffer buf = h.payload();
        StateFormat.readFinite(buf, acc.meanA, 0, m, what, "mean of repeat A");
        StateFormat.readFinite(buf, acc.meanALow, 0, m, what, "mean low part of repeat A");
        StateFormat.readFinite(buf, acc.meanB, 0, m, what, "mean of repeat B");
        StateFormat.readFinite(buf, acc.meanBLow, 0, m, what, "mean low part of repeat B");
        for (int i = 0; i < m; i++) {
            StateFormat.readFinite(buf, acc.comomentAA, i * m + i, i * m + m, what, "co-moment row " + i);
            if (acc.comomentAA[i * m + i] < 0) {
                throw new InvalidStateException(what + ": negative diagonal co-moment at " + i);
            }
        }
        StateFormat.readFinite(buf, acc.comomentAB, 0, m * m, what, "cross co-moment");
        acc.count = h.count();
        acc.weight = h.weight();
        return acc;
    }
}
