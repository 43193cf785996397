/**
 * The numerical core: no I/O, no threads, no network, no metrics.
 *
 * <p>Mergeable covariance accumulators with checked formats, eigen-solvers, power-law fits, code
 * metrics, random projections and windows over accumulators.
 *
 * <p>Imports only other core packages, EJML and bytedeco OpenBLAS (ArchitectureTest). Not thread-safe
 * unless a class says so. Parameters and results are never null unless documented.
 */
package org.alphawatch.core;
