/**
 * The command line: picocli commands and the demo/bench/loadtest drivers.
 *
 * <p>Each command validates its input (exit status 2 with the problem named) and calls into the other
 * packages; nothing here is reused by them.
 *
 * <p>May import everything; nothing imports it. Single-threaded per command. Parameters and results are
 * never null unless documented.
 */
package org.alphawatch.cli;
