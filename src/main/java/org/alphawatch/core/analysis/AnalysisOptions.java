package org.alphawatch.core.analysis;

import org.alphawatch.core.code.Capacity;
import org.alphawatch.core.fit.FitWindow;
import org.alphawatch.core.spectrum.EigenSolver;

/**
 * What to compute besides the spectrum and its default fit.
 *
 * @param fitWindow  ranks to fit, or null for the default window of DESIGN.md 3
 * @param inputDim   dimension d of the input manifold, or 0 when unknown (no smoothness margin)
 * @param bits       bits per activation for the capacity and redundancy bounds
 * @param dropout    dropout probability in [0, 1), or NaN when unknown (no dropout capacity)
 * @param solver     the eigen-solver back-end
 * @param topK       compute only the largest topK eigenvalues (partial solver) when K is larger; 0: all
 */
public record AnalysisOptions(FitWindow fitWindow, int inputDim, double bits, double dropout, EigenSolver solver,
                              int topK) {
    public AnalysisOptions {
        if (inputDim < 0) {
            throw new IllegalArgumentException("input dimension " + inputDim + " must be >= 1 (or 0 for unknown)");
        }
        if (!(bits > 0)) {
            throw new IllegalArgumentException("bits per activation " + bits + " must be > 0");
        }
        if (!Double.isNaN(dropout) && !(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("dropout " + dropout + " outside [0, 1)");
        }
        if (topK != 0 && topK < 50) {
            throw new IllegalArgumentException("top-k " + topK + " must be 0 (all) or >= 50");
        }
    }

    public AnalysisOptions(FitWindow fitWindow, int inputDim, double bits, double dropout, EigenSolver solver) {
        this(fitWindow, inputDim, bits, dropout, solver, 0);
    }

    public static AnalysisOptions defaults(EigenSolver solver) {
        return new AnalysisOptions(null, 0, Capacity.DEFAULT_BITS, Double.NaN, solver);
    }

    public AnalysisOptions withFitWindow(FitWindow w) {
        return new AnalysisOptions(w, inputDim, bits, dropout, solver, topK);
    }

    public AnalysisOptions withInputDim(int d) {
        return new AnalysisOptions(fitWindow, d, bits, dropout, solver, topK);
    }

    public AnalysisOptions withDropout(double d) {
        return new AnalysisOptions(fitWindow, inputDim, bits, d, solver, topK);
    }

    public AnalysisOptions withTopK(int k) {
        return new AnalysisOptions(fitWindow, inputDim, bits, dropout, solver, k);
    }

    public AnalysisOptions withBits(double b) {
        return new AnalysisOptions(fitWindow, inputDim, b, dropout, solver, topK);
    }
}
