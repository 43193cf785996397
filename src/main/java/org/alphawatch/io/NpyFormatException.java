package org.alphawatch.io;

import java.io.IOException;

/**
 * A {@code .npy} input that cannot be used; the message names the source and the problem, the
 * {@link Kind} says what sort of problem it is (the HTTP edge maps kinds to refusals).
 */
public class NpyFormatException extends IOException {
    /** What is wrong with the input. */
    public enum Kind {
        /** Not a .npy file at all (no magic bytes). */
        NOT_NPY,
        /** A .npy file that is malformed, truncated, lying, or of an unsupported type. */
        MALFORMED,
        /** Well-formed, but not a 2-D array with rows and columns. */
        SHAPE,
        /** NaN or infinity. */
        NON_FINITE,
        /** A value so large that products of two of them would overflow float64. */
        OUT_OF_RANGE
    }

    private final String source;
    private final Kind kind;

    public NpyFormatException(String source, String problem) {
        this(source, Kind.MALFORMED, problem);
    }

    public NpyFormatException(String source, Kind kind, String problem) {
        super(source + ": " + problem);
        this.source = source;
        this.kind = kind;
    }

    public String source() {
        return source;
    }

    public Kind kind() {
        return kind;
    }
}
