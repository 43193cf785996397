/**
 * One spectrum analysis: from a covariance (or a window's groups) to a SpectrumReport.
 *
 * <p>SpectrumAnalyzer and its reusable AnalysisWorkspace: eigen-decomposition, fit, first-order
 * jackknife interval, code metrics.
 *
 * <p>May import: core.*. A workspace belongs to one thread at a time. Parameters and results are never
 * null unless documented.
 */
package org.alphawatch.core.analysis;
