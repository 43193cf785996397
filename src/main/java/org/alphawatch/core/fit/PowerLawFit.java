package org.alphawatch.core.fit;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * Result of a power-law fit {@code lambda_r ~ exp(intercept) r^-alpha} (Stringer et al. 2019,
 * {@code get_powerlaw}): weighted least squares of {@code log|lambda_r|} on {@code -log r} with
 * weights {@code 1/r} over {@code window}. {@code r2} is the weighted coefficient of determination
 * of that regression. When {@link FitFlag#NO_FIT} is set, alpha, intercept and r2 are NaN and
 * {@code window} is the (empty or too short) window that was tried.
 */
public record PowerLawFit(double alpha, double intercept, double r2, FitWindow requested, FitWindow window,
                         long samples, int dims, Set<FitFlag> flags) {
    public PowerLawFit {
        flags = flags.isEmpty() ? Collections.emptySet() : Collections.unmodifiableSet(EnumSet.copyOf(flags));
    }

    public boolean ok() {
        return !flags.contains(FitFlag.NO_FIT);
    }

    public boolean has(FitFlag flag) {
        return flags.contains(flag);
    }

    /** n / m: samples per unit. */
    public double samplesPerDim() {
        return dims == 0 ? 0 : (double) samples / dims;
    }

    /** The fitted line at rank r. */
    public double predict(int rank) {
        return Math.exp(intercept - alpha * Math.log(rank));
    }
}
