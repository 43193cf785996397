package org.alphawatch.core.stat;

/**
 * Dense kernels shared by the accumulators. Every array is caller-owned; nothing here allocates.
 *
 * <p>Batches are staged <em>column-major</em> ({@code t[j * rows + r]}) so that the co-moment
 * kernels read two contiguous columns per dot product.
 */
final class Kernels {
    /** Columns are processed in tiles so that a tile of columns stays in cache while it is reused. */
    private static final int TILE = 64;
    /** Rows are processed in slabs so that one slab of a tile of columns fits in L2. */
    private static final int SLAB = 256;

    private Kernels() {}

    static void stage(double[] src, int offset, int rows, int dims, double[] t) {
        for (int r = 0; r < rows; r++) {
            int base = offset + r * dims;
            for (int j = 0; j < dims; j++) {
                t[j * rows + r] = src[base + j];
            }
        }
    }

    static void stage(float[] src, int offset, int rows, int dims, double[] t) {
        for (int r = 0; r < rows; r++) {
            int base = offset + r * dims;
            for (int j = 0; j < dims; j++) {
                t[j * rows + r] = src[base + j];
            }
        }
    }

    /**
     * Subtracts each column's mean in place and writes it as a double-double {@code hi + lo}: the
     * residual mean of {@code x - hi} is exact enough to be the low part, so a large common offset
     * (1e6 with a spread of 1e-3) neither biases the centred values nor the running mean.
     */
    static void center(double[] t, int rows, int dims, double[] hi, double[] lo) {
        for (int j = 0; j < dims; j++) {
            int base = j * rows;
            double sum = 0;
            for (int r = 0; r < rows; r++) {
                sum += t[base + r];
            }
            double mu = sum / rows;
            double residual = 0;
            for (int r = 0; r < rows; r++) {
                residual += t[base + r] - mu;
            }
            double muLo = residual / rows;
            for (int r = 0; r < rows; r++) {
                t[base + r] = (t[base + r] - mu) - muLo;
            }
            hi[j] = mu;
            lo[j] = muLo;
        }
    }

    /** {@code out = (bHi + bLo) - (aHi + aLo)}, the high parts subtracted first (exact when close). */
    static void difference(double[] bHi, double[] bLo, double[] aHi, double[] aLo, double[] out) {
        for (int j = 0; j < out.length; j++) {
            out[j] = (bHi[j] - aHi[j]) + (bLo[j] - aLo[j]);
        }
    }

    /** {@code (hi + lo) += scale * delta} in double-double arithmetic (Knuth's TwoSum). */
    static void addScaled(double[] hi, double[] lo, double[] delta, double scale) {
        for (int j = 0; j < hi.length; j++) {
            double inc = delta[j] * scale;
            double s = hi[j] + inc;
            double bb = s - hi[j];
            double err = (hi[j] - (s - bb)) + (inc - bb);
            double l = lo[j] + err;
            hi[j] = s + l;
            lo[j] = l - (hi[j] - s);
        }
    }

    /**
     * {@code m[i*dims+j] += sum_r a_i[r] * b_j[r] + f * da[i] * db[j]} for every (i, j) with
     * {@code j >= i} when {@code upperOnly}, else for every (i, j). Columns of {@code a} and
     * {@code b} are length {@code rows}, column-major.
     */
    static void addCoMoment(double[] a, double[] b, int rows, int dims, double[] m,
                            double[] da, double[] db, double f, boolean upperOnly) {
        for (int i0 = 0; i0 < dims; i0 += TILE) {
            int i1 = Math.min(dims, i0 + TILE);
            for (int j0 = upperOnly ? i0 : 0; j0 < dims; j0 += TILE) {
                int j1 = Math.min(dims, j0 + TILE);
                for (int r0 = 0; r0 < rows; r0 += SLAB) {
                    int r1 = Math.min(rows, r0 + SLAB);
                    tile(a, b, rows, dims, m, i0, i1, j0, j1, r0, r1, upperOnly);
                }
                for (int i = i0; i < i1 && f != 0; i++) {
                    int jStart = upperOnly ? Math.max(j0, i) : j0;
                    double fi = f * da[i];
                    int row = i * dims;
                    for (int j = jStart; j < j1; j++) {
                        m[row + j] += fi * db[j];
                    }
                }
            }
        }
    }

    private static void tile(double[] a, double[] b, int rows, int dims, double[] m,
                             int i0, int i1, int j0, int j1, int r0, int r1, boolean upperOnly) {
        int i = i0;
        // Two rows of the output at a time: each loaded b column feeds two accumulators.
        for (; i + 1 < i1; i += 2) {
            int ai = i * rows;
            int ai2 = ai + rows;
            int jStart = upperOnly ? Math.max(j0, i) : j0;
            for (int j = jStart; j < j1; j++) {
                int bj = j * rows;
                double s0 = 0, s1 = 0, t0 = 0, t1 = 0;
                int r = r0;
                for (; r + 1 < r1; r += 2) {
                    double b0 = b[bj + r];
                    double b1 = b[bj + r + 1];
                    s0 += a[ai + r] * b0;
                    s1 += a[ai + r + 1] * b1;
                    t0 += a[ai2 + r] * b0;
                    t1 += a[ai2 + r + 1] * b1;
                }
                for (; r < r1; r++) {
                    double b0 = b[bj + r];
                    s0 += a[ai + r] * b0;
                    t0 += a[ai2 + r] * b0;
                }
                m[i * dims + j] += s0 + s1;
                if (!upperOnly || j >= i + 1) {
                    m[(i + 1) * dims + j] += t0 + t1;
                }
            }
        }
        for (; i < i1; i++) {
            int ai = i * rows;
            int jStart = upperOnly ? Math.max(j0, i) : j0;
            for (int j = jStart; j < j1; j++) {
                int bj = j * rows;
                double s0 = 0, s1 = 0;
                int r = r0;
                for (; r + 1 < r1; r += 2) {
                    s0 += a[ai + r] * b[bj + r];
                    s1 += a[ai + r + 1] * b[bj + r + 1];
                }
                for (; r < r1; r++) {
                    s0 += a[ai + r] * b[bj + r];
                }
                m[i * dims + j] += s0 + s1;
            }
        }
    }

    /** Copies the upper triangle of a row-major square matrix onto its lower triangle. */
    static void mirrorUpper(double[] m, int dims) {
        for (int i = 0; i < dims; i++) {
            for (int j = i + 1; j < dims; j++) {
                m[j * dims + i] = m[i * dims + j];
            }
        }
    }
}
