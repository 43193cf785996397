/**
 * JSON field names and the documents of spectra, history and reports.
 *
 * <p>May import: core, pipeline. Stateless. Parameters and results are never null unless documented.
 */
package org.alphawatch.report;
