package org.alphawatch.core.projection;

import org.alphawatch.core.format.Records;
/**
 * The sampling-density test of Stringer et al. 2019 for smoothness: sample the same input path at
 * several densities N, project, and fit {@code log E(N)} against {@code log N} by ordinary least
 * squares. A smooth (differentiable) code gives {@code E ~ N^-1}; a code with a power-law spectrum
 * of exponent alpha < 3 on a 1-D path gives {@code E ~ N^(2 - alpha)}: the trajectory stays rough
 * however finely it is sampled.
 *
 * @param slope the fitted exponent of E(N)
 * @param r2    coefficient of determination of the log-log line
 */
public record EnergySlope(double slope, double r2, int[] densities, double[] energies) {
    /** Slopes at or below this count as smooth: halfway between rough (>= 0 for alpha <= 2) and -1. */
    public static final double SMOOTH_BELOW = -0.5;

    public EnergySlope {
        densities = densities.clone();
        energies = energies.clone();
    }

    public static EnergySlope fit(int[] densities, double[] energies) {
        if (densities.length != energies.length || densities.length < 2) {
            throw new IllegalArgumentException("need at least two (density, energy) pairs, got "
                    + densities.length + " and " + energies.length);
        }
        int n = densities.length;
        double mx = 0;
        double my = 0;
        for (int i = 0; i < n; i++) {
            if (densities[i] < 2 || !(energies[i] > 0)) {
                throw new IllegalArgumentException("density " + densities[i] + " with energy " + energies[i]
                        + ": densities must be >= 2 and energies > 0");
            }
            mx += Math.log(densities[i]);
            my += Math.log(energies[i]);
        }
        mx /= n;
        my /= n;
        double sxx = 0;
        double sxy = 0;
        double syy = 0;
        for (int i = 0; i < n; i++) {
            double dx = Math.log(densities[i]) - mx;
            double dy = Math.log(energies[i]) - my;
            sxx += dx * dx;
            sxy += dx * dy;
            syy += dy * dy;
        }
        if (sxx == 0) {
            throw new IllegalArgumentException("densities must differ");
        }
        double slope = sxy / sxx;
        double r2 = syy == 0 ? 1 : (sxy * sxy) / (sxx * syy);
        return new EnergySlope(slope, r2, densities, energies);
    }

    public boolean smooth() {
        return slope <= SMOOTH_BELOW;
    }

    @Override
    public int[] densities() {
        return densities.clone();
    }

    @Override
    public double[] energies() {
        return energies.clone();
    }

    @Override
    public boolean equals(Object o) {
        return Records.equal(this, o); // every component, arrays by content
    }

    @Override
    public int hashCode() {
        return Records.hash(this);
    }
}
