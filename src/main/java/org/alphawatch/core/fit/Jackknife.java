package org.alphawatch.core.fit;

/**
 * Delete-one-group jackknife (Quenouille-Tukey) for a statistic computed on G groups of samples:
 * standard error {@code sqrt((G-1)/G * sum (t_i - tbar)^2)} from the leave-one-group-out values
 * {@code t_i}, and a 95% interval {@code t_full +/- t_{G-1, 0.975} * se}.
 */
public final class Jackknife {
    // Student t 0.975 quantiles for 1..30 degrees of freedom (standard tables).
    private static final double[] T975 = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060,
        2.056, 2.052, 2.048, 2.045, 2.042};

    private Jackknife() {}

    /** A 95% interval; {@code lo} and {@code hi} are NaN when fewer than 2 finite values are given. */
    public record Interval(double estimate, double standardError, double lo, double hi, int groups) {
        public boolean defined() {
            return Double.isFinite(lo) && Double.isFinite(hi);
        }
    }

    public static double t975(int degreesOfFreedom) {
        if (degreesOfFreedom < 1) {
            throw new IllegalArgumentException("degrees of freedom " + degreesOfFreedom);
        }
        return degreesOfFreedom <= T975.length ? T975[degreesOfFreedom - 1] : 1.959964;
    }

    public static Interval interval(double fullEstimate, double[] leaveOneOut) {
        int g = 0;
        double mean = 0;
        for (double v : leaveOneOut) {
            if (Double.isFinite(v)) {
                g++;
                mean += v;
            }
        }
        if (g < 2 || !Double.isFinite(fullEstimate)) {
            return new Interval(fullEstimate, Double.NaN, Double.NaN, Double.NaN, g);
        }
        mean /= g;
        double ss = 0;
        for (double v : leaveOneOut) {
            if (Double.isFinite(v)) {
                ss += (v - mean) * (v - mean);
            }
        }
        double se = Math.sqrt((g - 1.0) / g * ss);
        double half = t975(g - 1) * se;
        return new Interval(fullEstimate, se, fullEstimate - half, fullEstimate + half, g);
    }
}
