package org.alphawatch.train;

/**
 * Small grey-level images generated in-process (no downloads): each is the clipped sum of one to
 * three random components — Gaussian blobs, oriented bars, and gratings under a round window —
 * with random position, orientation, scale and contrast. Plus the probe: a dot moving along a
 * circle, a one-dimensional input manifold (d = 1), sampled at any density.
 */
final class ImageData {
    private final int side;

    public ImageData(int side) {
        if (side < 8) {
            throw new IllegalArgumentException("images must be at least 8x8");
        }
        this.side = side;
    }

    public int side() {
        return side;
    }

    public int pixels() {
        return side * side;
    }

    /** Fills {@code rows} images into {@code out} (row-major rows x side^2), values in [0, 1]. */
    public void fill(double[] out, int rows, Rng rng) {
        int p = pixels();
        java.util.Arrays.fill(out, 0, rows * p, 0);
        for (int r = 0; r < rows; r++) {
            int components = 1 + rng.nextInt(3);
            for (int c = 0; c < components; c++) {
                switch (rng.nextInt(3)) {
                    case 0 -> blob(out, r * p, rng);
                    case 1 -> bar(out, r * p, rng);
                    default -> grating(out, r * p, rng);
                }
            }
            for (int i = r * p; i < (r + 1) * p; i++) {
                out[i] = Math.min(1, Math.max(0, out[i]));
            }
        }
    }

    private void blob(double[] out, int base, Rng rng) {
        double cx = rng.uniform(1, side - 2);
        double cy = rng.uniform(1, side - 2);
        double s = rng.uniform(0.8, side / 5.0);
        double a = rng.uniform(0.4, 1);
        gaussianDot(out, base, cx, cy, s, a);
    }

    private void gaussianDot(double[] out, int base, double cx, double cy, double s, double a) {
        double inv = 1 / (2 * s * s);
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                double dx = x - cx;
                double dy = y - cy;
                out[base + y * side + x] += a * Math.exp(-(dx * dx + dy * dy) * inv);
            }
        }
    }

    private void bar(double[] out, int base, Rng rng) {
        double cx = rng.uniform(2, side - 3);
        double cy = rng.uniform(2, side - 3);
        double theta = rng.uniform(0, Math.PI);
        double half = rng.uniform(side / 6.0, side / 2.0);
        double width = rng.uniform(0.5, 1.5);
        double a = rng.uniform(0.4, 1);
        double ux = Math.cos(theta);
        double uy = Math.sin(theta);
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                double dx = x - cx;
                double dy = y - cy;
                double along = dx * ux + dy * uy;
                double across = -dx * uy + dy * ux;
                double end = Math.max(0, Math.abs(along) - half);
                out[base + y * side + x] += a * Math.exp(-(across * across + end * end) / (2 * width * width));
            }
        }
    }

    private void grating(double[] out, int base, Rng rng) {
        double theta = rng.uniform(0, Math.PI);
        double freq = rng.uniform(1.0 / 8, 1.0 / 3);
        double phase = rng.uniform(0, 2 * Math.PI);
        double cx = rng.uniform(3, side - 4);
        double cy = rng.uniform(3, side - 4);
        double radius = rng.uniform(side / 5.0, side / 2.0);
        double a = rng.uniform(0.3, 0.7);
        double kx = 2 * Math.PI * freq * Math.cos(theta);
        double ky = 2 * Math.PI * freq * Math.sin(theta);
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                double dx = x - cx;
                double dy = y - cy;
                double window = Math.exp(-(dx * dx + dy * dy) / (2 * radius * radius));
                out[base + y * side + x] += a * window * 0.5 * (1 + Math.sin(kx * x + ky * y + phase));
            }
        }
    }

    /**
     * The probe: a dot (sigma 1.2) at angle theta_t = 2 pi t / n on a circle of radius side/3
     * around the centre, t = 0..n (the path is closed: the last point repeats the first).
     *
     * @param latent filled with (cos theta, sin theta) per row, (n + 1) x 2
     * @return (n + 1) x side^2 images
     */
    public double[] probe(int n, double[] latent) {
        int p = pixels();
        double[] out = new double[(n + 1) * p];
        double c = (side - 1) / 2.0;
        double radius = side / 3.0;
        for (int t = 0; t <= n; t++) {
            double theta = 2 * Math.PI * t / n;
            gaussianDot(out, t * p, c + radius * Math.cos(theta), c + radius * Math.sin(theta), 1.2, 1);
            latent[2 * t] = Math.cos(theta);
            latent[2 * t + 1] = Math.sin(theta);
        }
        return out;
    }
}
