package org.alphawatch.core.analysis;

import org.alphawatch.core.spectrum.TopEigen;
import org.alphawatch.core.stat.CovarianceAccumulator;

/**
 * Everything one analysis of a d-unit window works in, kept between refreshes so that a refresh
 * allocates no d x d array: the merged accumulator (which the eigen-solver then reduces in place
 * and the interval reuses as scratch) and the eigen-workspace with the fit window's eigenvectors.
 * One per layer; not thread-safe. Memory: one accumulator (8 d^2 bytes) plus 2 x 8 d x 500 bytes of
 * eigenvectors at most, plus the change statistics' scratch (8 G k (d + h) bytes: 0.2 MB at d = 384,
 * 1.3 MB at d = 2048, for G = k = 8).
 */
public final class AnalysisWorkspace {
    final int dims;
    final TopEigen eigen;
    final double[] mean;
    final double[] delta;
    final double[] values;
    private CovarianceAccumulator merged;
    // Change statistics (ChangeStatisticsCalculator): at most 8 k + G k (d + h) + d doubles, grown on demand.
    private double[] changeVectors;
    double[] changeResiduals;
    double[] changeProjections;
    double[] changeProduct;
    double[] changeVector;
    java.nio.DoubleBuffer changeU;
    java.nio.DoubleBuffer changeY;

    /** A workspace for windows of {@code dims} units analyzed with {@code options} (its fit window bounds the eigenvectors kept). */
    public AnalysisWorkspace(int dims, AnalysisOptions options) {
        this.dims = dims;
        this.eigen = new TopEigen(dims, org.alphawatch.core.fit.PowerLawFitter.windowEnd(dims, options.fitWindow()));
        this.mean = new double[dims];
        this.delta = new double[dims];
        this.values = new double[dims];
    }

    /** Scratch of the change statistics for k vectors and G groups; returns the d x k array for U. */
    double[] change(int d, int k, int groups, int h) {
        if (changeVectors == null || changeVectors.length < d * k) {
            changeVectors = new double[d * k];
            changeProduct = new double[d * k];
            changeVector = new double[d];
        }
        if (changeResiduals == null || changeResiduals.length < groups * k * d) {
            changeResiduals = new double[groups * k * d];
        }
        if (changeProjections == null || changeProjections.length < h * groups * k) {
            changeProjections = new double[h * groups * k];
        }
        return changeVectors;
    }

    /** Off-heap d x k operands for BLAS on off-heap co-moments. */
    void changeBlas(int d, int k) {
        if (changeU == null || changeU.capacity() < d * k) {
            changeU = org.alphawatch.core.linalg.LinearAlgebra.direct((long) d * k);
            changeY = org.alphawatch.core.linalg.LinearAlgebra.direct((long) d * k);
        }
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
