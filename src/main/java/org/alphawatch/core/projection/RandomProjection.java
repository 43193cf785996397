package org.alphawatch.core.projection;

import java.nio.charset.StandardCharsets;
import java.util.Random;

/**
 * A fixed random projection {@code R} (m x k, entries i.i.d. N(0, 1/m)) for looking at a layer's
 * code in k dimensions. The matrix depends only on (m, k, seed), so projections of one layer are
 * comparable across time; {@link #seedFor} derives a stable seed from run and layer names.
 * Immutable and thread-safe.
 */
public final class RandomProjection {
    public static final int DEFAULT_K = 3;

    private final int dims;
    private final int k;
    private final long seed;
    private final double[] matrix; // row-major m x k

    private RandomProjection(int dims, int k, long seed) {
        if (dims < 1 || k < 1) {
            throw new IllegalArgumentException("projection of " + dims + " dims to " + k + " must have both >= 1");
        }
        this.dims = dims;
        this.k = k;
        this.seed = seed;
        this.matrix = new double[dims * k];
        // java.util.Random's Gaussian algorithm is specified, so the matrix is the same on every JDK.
        Random random = new Random(seed);
        double scale = 1.0 / Math.sqrt(dims);
        for (int i = 0; i < matrix.length; i++) {
            matrix[i] = random.nextGaussian() * scale;
        }
    }

    public static RandomProjection create(int dims, int k, long seed) {
        return new RandomProjection(dims, k, seed);
    }

    /** A seed that depends only on the names (FNV-1a over UTF-8 bytes). */
    public static long seedFor(String run, String layer) {
        long h = 0xcbf29ce484222325L;
        for (byte b : (run + "\u0000" + layer).getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    public int dims() {
        return dims;
    }

    public int k() {
        return k;
    }

    public long seed() {
        return seed;
    }

    /** Projects n rows (row-major n x m) to a new row-major n x k array. */
    public double[] project(double[] rows, int n) {
        double[] out = new double[n * k];
        for (int t = 0; t < n; t++) {
            int base = t * dims;
            for (int i = 0; i < dims; i++) {
                double a = rows[base + i];
                int mrow = i * k;
                for (int c = 0; c < k; c++) {
                    out[t * k + c] += a * matrix[mrow + c];
                }
            }
        }
        return out;
    }

    public double[] project(float[] rows, int n) {
        double[] out = new double[n * k];
        for (int t = 0; t < n; t++) {
            int base = t * dims;
            for (int i = 0; i < dims; i++) {
                double a = rows[base + i];
                int mrow = i * k;
                for (int c = 0; c < k; c++) {
                    out[t * k + c] += a * matrix[mrow + c];
                }
            }
        }
        return out;
    }

    /**
     * Trajectory energy {@code E = sum_t ||p_{t+1} - p_t||^2} of a projected path (row-major
     * n x k points in path order).
     */
    public static double trajectoryEnergy(double[] projected, int n, int k) {
        double e = 0;
        for (int t = 0; t + 1 < n; t++) {
            for (int c = 0; c < k; c++) {
                double d = projected[(t + 1) * k + c] - projected[t * k + c];
                e += d * d;
            }
        }
        return e;
    }
}
