package org.alphawatch.io;

/**
 * A NaN or infinite activation, or one beyond {@link NpyReader#MAX_MAGNITUDE}; row and column are
 * 0-based positions in the source array.
 */
public final class NonFiniteValueException extends NpyFormatException {
    private final long row;
    private final long column;

    public NonFiniteValueException(String source, long row, long column, double value) {
        super(source, Double.isFinite(value) ? Kind.OUT_OF_RANGE : Kind.NON_FINITE, "row " + row + ", column " + column
                + " is " + value + (Double.isFinite(value) ? " (magnitudes above " + NpyReader.MAX_MAGNITUDE
                + " are refused: their squares and sums would overflow float64)" : " (NaN and infinity are not accepted)"));
        this.row = row;
        this.column = column;
    }

    public long row() {
        return row;
    }

    public long column() {
        return column;
    }
}
