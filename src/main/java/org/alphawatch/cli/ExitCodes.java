package org.alphawatch.cli;

/** Process exit statuses of every command (documented in README.md). */
final class ExitCodes {
    public static final int OK = 0;
    /** An internal failure (a bug, an eigen-solver that did not converge, an I/O error on output). */
    public static final int FAILURE = 1;
    /** Bad input or usage: unreadable or invalid files, NaN/Inf in the data, wrong options. */
    public static final int BAD_INPUT = 2;

    private ExitCodes() {}
}
