/**
 * Square matrices on the heap or off-heap and the BLAS back-end selection.
 *
 * <p>May import: bytedeco OpenBLAS, EJML. Not thread-safe. Parameters and results are never null unless
 * documented.
 */
package org.alphawatch.core.linalg;
