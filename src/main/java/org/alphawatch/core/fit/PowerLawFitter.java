package org.alphawatch.core.fit;

import java.util.EnumSet;
import org.alphawatch.core.spectrum.Spectrum;

/** Stringer's weighted least-squares power-law fit with the window rules of DESIGN.md section 3. */
public final class PowerLawFitter {
    /** Below this many eigenvalues the default window is [2, K-2] and the fit is low-confidence. */
    public static final int MIN_CONFIDENT_SIZE = 50;
    public static final int DEFAULT_LO = 11;
    public static final int DEFAULT_HI = 500;
    private static final int MIN_POINTS = 3;

    private PowerLawFitter() {}

    /** The default window for K eigenvalues; may be empty-ish (lo > hi) for tiny K, which {@link #fit} reports. */
    static int[] defaultWindow(int k) {
        return k >= MIN_CONFIDENT_SIZE ? new int[] {DEFAULT_LO, Math.min(DEFAULT_HI, k - 2)} : new int[] {2, k - 2};
    }

    /** Fits a covariance spectrum with the default window (or {@code requested} when not null). */
    public static PowerLawFit fit(Spectrum spectrum, FitWindow requested) {
        return fit(spectrum.eigenvalues(), spectrum.numericalRank(), spectrum.samples(), spectrum.dims(), requested);
    }

    /**
     * Fits {@code |values[r-1]|} for ranks in the window. {@code usableRank}: ranks above it hold
     * zeros (dead units, n - 1 < m) and the window's upper end is clipped to it.
     */
    public static PowerLawFit fit(double[] values, int usableRank, long samples, int dims, FitWindow requested) {
        EnumSet<FitFlag> flags = EnumSet.noneOf(FitFlag.class);
        int k = values.length;
        int lo;
        int hi;
        if (requested == null) {
            int[] w = defaultWindow(k);
            lo = w[0];
            hi = w[1];
            if (k < MIN_CONFIDENT_SIZE) {
                flags.add(FitFlag.LOW_CONFIDENCE);
            }
        } else {
            lo = requested.lo();
            hi = requested.hi();
            if (hi > k) {
                hi = k;
                flags.add(FitFlag.CLIPPED_TO_SIZE);
            }
        }
        if (samples < 10L * dims) {
            flags.add(FitFlag.UNDERSAMPLED);
        }
        FitWindow tried = requested != null ? requested : new FitWindow(Math.max(1, lo), Math.max(Math.max(1, lo), hi));
        if (hi > usableRank) {
            hi = usableRank;
            flags.add(FitFlag.CLIPPED_TO_RANK);
        }
        if (hi - lo + 1 < MIN_POINTS) {
            flags.add(FitFlag.NO_FIT);
            return new PowerLawFit(Double.NaN, Double.NaN, Double.NaN, tried,
                    new FitWindow(Math.max(1, lo), Math.max(Math.max(1, lo), hi)), samples, dims, flags);
        }
        for (int r = lo; r <= hi; r++) {
            if (!(Math.abs(values[r - 1]) > 0) || !Double.isFinite(values[r - 1])) {
                flags.add(FitFlag.NO_FIT);
                return new PowerLawFit(Double.NaN, Double.NaN, Double.NaN, tried, new FitWindow(lo, hi),
                        samples, dims, flags);
            }
        }
        double[] line = weightedLine(values, lo, hi);
        return new PowerLawFit(line[0], line[1], line[2], tried, new FitWindow(lo, hi), samples, dims, flags);
    }

    /**
     * The weights that make the fit linear in the log-eigenvalues: {@code alpha = sum_r c[r - lo]
     * log lambda_r} over the window (they sum to 0, so a common scale of the eigenvalues does not
     * change alpha). The first-order jackknife differentiates alpha through them.
     */
    public static double[] slopeCoefficients(FitWindow window) {
        int lo = window.lo();
        int hi = window.hi();
        double sw = 0;
        double swx = 0;
        for (int r = lo; r <= hi; r++) {
            sw += 1.0 / r;
            swx += -Math.log(r) / r;
        }
        double xbar = swx / sw;
        double sxx = 0;
        for (int r = lo; r <= hi; r++) {
            double dx = -Math.log(r) - xbar;
            sxx += dx * dx / r;
        }
        double[] c = new double[hi - lo + 1];
        for (int r = lo; r <= hi; r++) {
            c[r - lo] = (-Math.log(r) - xbar) / r / sxx;
        }
        return c;
    }

    /** The largest rank the window for K eigenvalues can use (the fit window of {@code requested}, or the default). */
    public static int windowEnd(int k, FitWindow requested) {
        return Math.max(0, Math.min(k, requested != null ? requested.hi() : Math.max(DEFAULT_HI, defaultWindow(k)[1])));
    }

    /** {slope alpha, intercept, weighted r^2}, centred sums for accuracy. */
    private static double[] weightedLine(double[] values, int lo, int hi) {
        double sw = 0;
        double swx = 0;
        double swy = 0;
        for (int r = lo; r <= hi; r++) {
            double w = 1.0 / r;
            sw += w;
            swx += w * -Math.log(r);
            swy += w * Math.log(Math.abs(values[r - 1]));
        }
        double xbar = swx / sw;
        double ybar = swy / sw;
        double sxx = 0;
        double sxy = 0;
        double syy = 0;
        for (int r = lo; r <= hi; r++) {
            double w = 1.0 / r;
            double dx = -Math.log(r) - xbar;
            double dy = Math.log(Math.abs(values[r - 1])) - ybar;
            sxx += w * dx * dx;
            sxy += w * dx * dy;
            syy += w * dy * dy;
        }
        double alpha = sxy / sxx;
        double intercept = ybar - alpha * xbar;
        double residual = syy - alpha * sxy;
        double r2 = syy > 0 ? 1 - Math.max(0, residual) / syy : 1.0;
        return new double[] {alpha, intercept, r2};
    }
}
