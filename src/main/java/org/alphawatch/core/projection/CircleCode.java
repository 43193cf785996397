package org.alphawatch.core.projection;

/**
 * Stringer et al.'s circle code, a code of known smoothness: unit pairs
 * {@code (n^(-alpha/2) cos n theta, n^(-alpha/2) sin n theta)}, n = 1..modes, of an angle theta, so
 * its spectrum is {@code n^-alpha} (each value twice) on a 1-D input. Sampled at N points around the
 * circle and projected, its trajectory energy scales as {@code N^max(-1, 2 - alpha)}: smooth exactly
 * when alpha > 3. The known answer for the random-projection test. Stateless.
 */
public final class CircleCode {
    private CircleCode() {}

    /** The code at theta = 2 pi t / points, t = 0..points (closed: the last row repeats the first), (points + 1) x 2 modes. */
    public static double[] sample(double alpha, int modes, int points) {
        int m = 2 * modes;
        double[] a = new double[(points + 1) * m];
        for (int t = 0; t <= points; t++) {
            double theta = 2 * Math.PI * t / points;
            for (int n = 1; n <= modes; n++) {
                double amp = Math.pow(n, -alpha / 2);
                a[t * m + n - 1] = amp * Math.cos(n * theta);
                a[t * m + modes + n - 1] = amp * Math.sin(n * theta);
            }
        }
        return a;
    }
}
