/**
 * SVG plots for reports (log-log spectra, alpha over time).
 *
 * <p>May import: core.fit. Not thread-safe. Parameters and results are never null unless documented.
 */
package org.alphawatch.plot;
