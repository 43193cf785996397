package org.alphawatch.core.format;

/** Saved bytes that do not decode: the message names the format, the field and the offset. */
public final class FormatException extends RuntimeException {
    public FormatException(String message) {
        super(message);
    }
}
