/**
 * Power-law fits of spectra (weighted least squares over a rank window) and the jackknife.
 *
 * <p>May import: core.spectrum. Immutable results. Parameters and results are never null unless
 * documented.
 */
package org.alphawatch.core.fit;
