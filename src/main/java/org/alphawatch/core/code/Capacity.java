package org.alphawatch.core.code;

/**
 * Capacity and redundancy bounds of Marshall and Kirchner 2024 (supplement), for a layer of m
 * units each carrying at most b bits.
 *
 * <p><b>Convention.</b> alpha is the exponent of the <em>variance</em> spectrum, lambda_n ~ n^-alpha
 * (eigenvalues of the covariance, as everywhere in alphawatch), not of the standard deviations
 * (which decay as n^-alpha/2). The bounds below use that alpha as is.
 *
 * <ul>
 *   <li>dropout capacity: {@code C_dropout = (1 - D) m b} bits for dropout probability D
 *       (dropout as an erasure channel);</li>
 *   <li>power-law entropy bound: {@code H <= m b - alpha m log2(m / e)} bits;</li>
 *   <li>redundancy: {@code rho = clamp(alpha m log2(m / e) / (m b), 0, 1)}.</li>
 * </ul>
 */
public final class Capacity {
    /** Bits per activation when the user gives none: an 8-bit quantized activation. */
    public static final double DEFAULT_BITS = 8;

    private Capacity() {}

    public static double dropoutCapacityBits(double dropout, int units, double bits) {
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("dropout " + dropout + " outside [0, 1)");
        }
        return (1 - dropout) * units * bits;
    }

    private static double alphaPenaltyBits(double alpha, int units) {
        return alpha * units * (Math.log(units / Math.E) / Math.log(2));
    }

    public static double entropyBoundBits(double alpha, int units, double bits) {
        return units * bits - alphaPenaltyBits(alpha, units);
    }

    public static double redundancy(double alpha, int units, double bits) {
        double rho = alphaPenaltyBits(alpha, units) / (units * bits);
        return Math.max(0, Math.min(1, rho));
    }
}
