package org.alphawatch.cli;

/** Bad input or usage: the command prints the message and exits with status 2. */
final class UserInputException extends RuntimeException {
    public UserInputException(String message) {
        super(message);
    }
}
