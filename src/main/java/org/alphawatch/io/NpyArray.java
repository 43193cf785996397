package org.alphawatch.io;

/**
 * A decoded 2-D array held row-major either as float32 ({@link #floats()}) or float64
 * ({@link #doubles()}); exactly one is non-null. Arrays are shared, not copied: the decoder hands
 * ownership to the holder.
 */
public final class NpyArray {
    private final float[] floats;
    private final double[] doubles;
    private final int rows;
    private final int cols;

    private NpyArray(float[] floats, double[] doubles, int rows, int cols) {
        this.floats = floats;
        this.doubles = doubles;
        this.rows = rows;
        this.cols = cols;
    }

    public static NpyArray ofFloats(float[] data, int rows, int cols) {
        check(data.length, rows, cols);
        return new NpyArray(data, null, rows, cols);
    }

    public static NpyArray ofDoubles(double[] data, int rows, int cols) {
        check(data.length, rows, cols);
        return new NpyArray(null, data, rows, cols);
    }

    private static void check(int length, int rows, int cols) {
        if ((long) rows * cols != length) {
            throw new IllegalArgumentException(length + " values are not " + rows + " x " + cols);
        }
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Row-major float32 values, or null when the array is held as float64. */
    public float[] floats() {
        return floats;
    }

    /** Row-major float64 values, or null when the array is held as float32. */
    public double[] doubles() {
        return doubles;
    }

    public double get(int row, int col) {
        int i = row * cols + col;
        return floats != null ? floats[i] : doubles[i];
    }

    /** Bytes held by the values. */
    public long bytes() {
        return floats != null ? 4L * floats.length : 8L * doubles.length;
    }

    /** A float64 copy (row-major). */
    public double[] toDoubles() {
        if (doubles != null) {
            return doubles.clone();
        }
        double[] d = new double[floats.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = floats[i];
        }
        return d;
    }
}
