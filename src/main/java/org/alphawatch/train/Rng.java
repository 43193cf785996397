package org.alphawatch.train;

import java.util.SplittableRandom;

/** A seeded, fast, unsynchronized random source (one per thread of work). */
final class Rng {
    private final SplittableRandom random;
    private double spare = Double.NaN;

    public Rng(long seed) {
        this.random = new SplittableRandom(seed);
    }

    public double uniform() {
        return random.nextDouble();
    }

    public double uniform(double lo, double hi) {
        return lo + (hi - lo) * random.nextDouble();
    }

    public int nextInt(int bound) {
        return random.nextInt(bound);
    }

    /** Standard normal (Marsaglia's polar method; the second value is kept for the next call). */
    public double gaussian() {
        if (!Double.isNaN(spare)) {
            double s = spare;
            spare = Double.NaN;
            return s;
        }
        double u;
        double v;
        double s;
        do {
            u = 2 * random.nextDouble() - 1;
            v = 2 * random.nextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        double f = Math.sqrt(-2 * Math.log(s) / s);
        spare = v * f;
        return u * f;
    }

    public Rng split() {
        return new Rng(random.nextLong());
    }
}
