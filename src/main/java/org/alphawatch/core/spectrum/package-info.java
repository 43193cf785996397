/**
 * Eigen-solvers (EJML, OpenBLAS/LAPACK, partial) and the Spectrum they return.
 *
 * <p>May import: core.linalg, core.stat. Solvers are thread-confined; spectra immutable. Parameters and
 * results are never null unless documented.
 */
package org.alphawatch.core.spectrum;
