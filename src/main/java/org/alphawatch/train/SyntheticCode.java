package org.alphawatch.train;

import java.util.Random;

/**
 * Rows of a synthetic neural code with a known population spectrum {@code lambda_r = r^-alpha},
 * mixed across units by a randomized Hadamard rotation {@code x = H D z / sqrt(d)} (orthogonal,
 * O(d log d) per row, d a power of two), so every unit carries part of every direction, as in a
 * trained layer. Units can be switched off ("dead": always 0) after the rotation. Not thread-safe.
 */
public final class SyntheticCode {
    private final int dims;
    private final double[] scale;
    private final double[] signs;
    private final boolean[] dead;
    private final Random random;
    private final double[] z;

    public SyntheticCode(int dims, double alpha, long seed) {
        if (dims < 2 || Integer.bitCount(dims) != 1) {
            throw new IllegalArgumentException("dims " + dims + " must be a power of two");
        }
        this.dims = dims;
        this.random = new Random(seed);
        this.scale = new double[dims];
        this.signs = new double[dims];
        this.dead = new boolean[dims];
        this.z = new double[dims];
        Random basis = new Random(seed ^ 0x5DEECE66DL);
        for (int j = 0; j < dims; j++) {
            signs[j] = basis.nextBoolean() ? 1 : -1;
        }
        setAlpha(alpha);
    }

    /** The population spectrum from now on: {@code r^-alpha}, same basis. */
    public void setAlpha(double alpha) {
        for (int j = 0; j < dims; j++) {
            scale[j] = Math.pow(j + 1, -alpha / 2);
        }
    }

    /** Switches off the units in [from, to) (their activations are 0 from now on). */
    public void kill(int from, int to) {
        for (int j = from; j < to; j++) {
            dead[j] = true;
        }
    }

    public int dims() {
        return dims;
    }

    /** Fills {@code rows} rows (row-major) of {@code out}. */
    public void fill(float[] out, int rows) {
        double norm = 1 / Math.sqrt(dims);
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < dims; j++) {
                z[j] = random.nextGaussian() * scale[j] * signs[j];
            }
            hadamard(z);
            int base = r * dims;
            for (int j = 0; j < dims; j++) {
                out[base + j] = dead[j] ? 0f : (float) (z[j] * norm);
            }
        }
    }

    /** In-place fast Walsh-Hadamard transform (unnormalized). */
    static void hadamard(double[] v) {
        for (int h = 1; h < v.length; h <<= 1) {
            for (int i = 0; i < v.length; i += h << 1) {
                for (int j = i; j < i + h; j++) {
                    double a = v[j];
                    double b = v[j + h];
                    v[j] = a + b;
                    v[j + h] = a - b;
                }
            }
        }
    }
}
