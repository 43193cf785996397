package org.alphawatch.io;

/** A NaN or infinite activation; row and column are 0-based positions in the source array. */
public final class NonFiniteValueException extends NpyFormatException {
    private final long row;
    private final long column;

    public NonFiniteValueException(String source, long row, long column, double value) {
        super(source, "row " + row + ", column " + column + " is " + value + " (NaN and infinity are not accepted)");
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
