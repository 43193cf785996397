package org.alphawatch.core.analysis;

import org.alphawatch.core.spectrum.TopEigen;
import org.alphawatch.core.stat.CovarianceAccumulator;

/**
 * Everything one analysis of a d-unit window works in, kept between refreshes so that a refresh
 * allocates no d x d array: the merged accumulator (which the eigen-solver then reduces in place
 * and the interval reuses as scratch) and the eigen-workspace with the fit window's eigenvectors.
 * One per layer; not thread-safe. Memory: one accumulator (8 d^2 bytes) plus 2 x 8 d x 500 bytes of
 * eigenvectors at most.
 */
public final class AnalysisWorkspace {
    final int dims;
    final TopEigen eigen;
    final double[] mean;
    final double[] delta;
    final double[] values;
    private CovarianceAccumulator merged;

    /** A workspace for windows of {@code dims} units analyzed with {@code options} (its fit window bounds the eigenvectors kept). */
    public AnalysisWorkspace(int dims, AnalysisOptions options) {
        this.dims = dims;
        this.eigen = new TopEigen(dims, org.alphawatch.core.fit.PowerLawFitter.windowEnd(dims, options.fitWindow()));
        this.mean = new double[dims];
        this.delta = new double[dims];
        this.values = new double[dims];
    }

    CovarianceAccumulator merged(int d) {
        if (d != dims) {
            throw new IllegalArgumentException("a workspace for " + dims + " units used for " + d);
        }
        if (merged == null) {
            merged = CovarianceAccumulator.create(d);
        }
        return merged;
    }
}
