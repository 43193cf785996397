package org.alphawatch.io;

import java.io.IOException;

/** A {@code .npy} input that cannot be used; the message names the source and the problem. */
public class NpyFormatException extends IOException {
    private final String source;

    public NpyFormatException(String source, String problem) {
        super(source + ": " + problem);
        this.source = source;
    }

    public String source() {
        return source;
    }
}
