/**
 * Metrics of a code read from its spectrum: effective rank, participation ratio, capacity, smoothness.
 *
 * <p>May import: core.spectrum. Stateless. Parameters and results are never null unless documented.
 */
package org.alphawatch.core.code;
