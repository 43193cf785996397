/**
 * Exact streaming covariance and cross-covariance accumulators (Chan's merges), their kernels and
 * formats.
 *
 * <p>May import: core.linalg, core.format. Not thread-safe: one writer at a time. Parameters and results
 * are never null unless documented.
 */
package org.alphawatch.core.stat;
