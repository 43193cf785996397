package org.alphawatch.core.code;

import org.alphawatch.core.format.Records;
import org.alphawatch.core.spectrum.Spectrum;

/**
 * Coding-theory summaries of a spectrum (DESIGN.md section 3). With {@code p_i = lambda_i / sum lambda}:
 * effective rank {@code exp(-sum p_i ln p_i)} (Roy and Vetterli 2007; RankMe), participation
 * ratio {@code (sum lambda)^2 / sum lambda^2}, stable rank {@code sum lambda / lambda_1}, explained
 * variance of the top k. All are 0 for an all-zero spectrum.
 */
public record CodeMetrics(double effectiveRank, double participationRatio, double stableRank,
                          double[] explainedVariance, int[] explainedVarianceAt) {

    /** Ranks at which explained variance is reported by default. */
    public static final int[] DEFAULT_EXPLAINED_AT = {1, 10, 100};

    public CodeMetrics {
        explainedVariance = explainedVariance.clone();
        explainedVarianceAt = explainedVarianceAt.clone();
    }

    /**
     * Metrics of a spectrum. For a partial spectrum the participation ratio and stable rank stay
     * exact (trace and sum of squares are known); the effective rank spreads the uncomputed tail's
     * variance evenly over the remaining eigenvalues, an upper bound.
     */
    public static CodeMetrics of(Spectrum spectrum) {
        if (!spectrum.partial()) {
            return of(spectrum.eigenvalues(), DEFAULT_EXPLAINED_AT);
        }
        double[] top = spectrum.eigenvalues();
        double sum = spectrum.trace();
        double[] explained = new double[DEFAULT_EXPLAINED_AT.length];
        if (sum <= 0) {
            return new CodeMetrics(0, 0, 0, explained, DEFAULT_EXPLAINED_AT);
        }
        double entropy = 0;
        double topSum = 0;
        for (double v : top) {
            double p = v / sum;
            topSum += v;
            if (p > 0) {
                entropy -= p * Math.log(p);
            }
        }
        double tail = Math.max(0, sum - topSum) / sum;
        int tailCount = spectrum.fullSize() - top.length;
        if (tail > 0 && tailCount > 0) {
            entropy -= tail * Math.log(tail / tailCount);
        }
        for (int t = 0; t < DEFAULT_EXPLAINED_AT.length; t++) {
            double s = 0;
            for (int i = 0; i < Math.min(DEFAULT_EXPLAINED_AT[t], top.length); i++) {
                s += top[i];
            }
            explained[t] = s / sum;
        }
        return new CodeMetrics(Math.exp(entropy), sum * sum / spectrum.sumOfSquares(), sum / top[0], explained,
                DEFAULT_EXPLAINED_AT);
    }

    public static CodeMetrics of(double[] eigenvalues, int[] explainedAt) {
        double sum = 0;
        double sumSq = 0;
        for (double v : eigenvalues) {
            sum += v;
            sumSq += v * v;
        }
        double[] explained = new double[explainedAt.length];
        if (sum <= 0) {
            return new CodeMetrics(0, 0, 0, explained, explainedAt);
        }
        double entropy = 0;
        for (double v : eigenvalues) {
            double p = v / sum;
            if (p > 0) {
                entropy -= p * Math.log(p);
            }
        }
        for (int t = 0; t < explainedAt.length; t++) {
            double top = 0;
            for (int i = 0; i < Math.min(explainedAt[t], eigenvalues.length); i++) {
                top += eigenvalues[i];
            }
            explained[t] = top / sum;
        }
        return new CodeMetrics(Math.exp(entropy), sum * sum / sumSq, sum / eigenvalues[0], explained, explainedAt);
    }

    @Override
    public double[] explainedVariance() {
        return explainedVariance.clone();
    }

    @Override
    public int[] explainedVarianceAt() {
        return explainedVarianceAt.clone();
    }

    @Override
    public boolean equals(Object o) {
        return Records.equal(this, o); // every component, arrays by content
    }

    @Override
    public int hashCode() {
        return Records.hash(this);
    }

    /**
     * Smoothness threshold of Stringer et al. 2019: a code of a d-dimensional input manifold can be
     * smooth (differentiable) only if alpha > 1 + 2/d.
     */
    public static double smoothnessThreshold(int inputDim) {
        if (inputDim < 1) {
            throw new IllegalArgumentException("input dimension " + inputDim + " must be >= 1");
        }
        return 1.0 + 2.0 / inputDim;
    }

    /** alpha - (1 + 2/d): positive means the spectrum decays fast enough for a smooth code. */
    public static double smoothnessMargin(double alpha, int inputDim) {
        return alpha - smoothnessThreshold(inputDim);
    }
}
