package org.alphawatch.core.stat;

/** Serialized accumulator state that fails validation; the message names the field and the problem. */
public final class InvalidStateException extends IllegalArgumentException {
    public InvalidStateException(String message) {
        super(message);
    }
}
