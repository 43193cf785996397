package org.alphawatch.train;

/**
 * The toy model of superposition of Elhage et al. 2022: n sparse features (each zero with
 * probability S, else uniform in [0, 1]) with importances {@code I_i = decay^i} are compressed
 * to m < n hidden units, {@code h = W x}, and read back as {@code x' = ReLU(W^T h + b)}; the loss
 * is {@code mean_batch sum_i I_i (x_i - x'_i)^2}. A feature counts as represented when its column
 * of W has norm above 0.5 (Elhage's criterion). Buffers are allocated once; trained with Adam.
 */
final class SuperpositionModel {
    private final int features;
    private final int hidden;
    private final double sparsity;
    private final double[] importance;
    private final int batch;
    private final double[] w; // m x n
    private final double[] b;
    private final double[] dw;
    private final double[] db;
    private final double[] x;
    private final double[] h;
    private final double[] y;
    private final double[] dy;
    private final double[] dh;
    private final Rng rng;
    private final Optimizer optimizer;

    public SuperpositionModel(int features, int hidden, double sparsity, double importanceDecay, int batch, long seed) {
        if (!(sparsity >= 0 && sparsity < 1)) {
            throw new IllegalArgumentException("sparsity " + sparsity + " outside [0, 1)");
        }
        this.features = features;
        this.hidden = hidden;
        this.sparsity = sparsity;
        this.batch = batch;
        this.importance = new double[features];
        for (int i = 0; i < features; i++) {
            importance[i] = Math.pow(importanceDecay, i);
        }
        this.rng = new Rng(seed);
        w = new double[hidden * features];
        double scale = Math.sqrt(1.0 / features);
        Rng init = new Rng(seed ^ 0x9E3779B97F4A7C15L);
        for (int i = 0; i < w.length; i++) {
            w[i] = init.gaussian() * scale;
        }
        b = new double[features];
        dw = new double[w.length];
        db = new double[features];
        x = new double[batch * features];
        h = new double[batch * hidden];
        y = new double[batch * features];
        dy = new double[batch * features];
        dh = new double[batch * hidden];
        optimizer = Optimizer.adam(1e-3);
    }

    /** Draws a batch of sparse feature vectors into the input buffer. */
    private void sample() {
        for (int i = 0; i < batch * features; i++) {
            x[i] = rng.uniform() < sparsity ? 0 : rng.uniform();
        }
    }

    private void forward() {
        for (int r = 0; r < batch; r++) {
            for (int j = 0; j < hidden; j++) {
                double s = 0;
                int wj = j * features;
                int xr = r * features;
                for (int i = 0; i < features; i++) {
                    s += w[wj + i] * x[xr + i];
                }
                h[r * hidden + j] = s;
            }
            int yr = r * features;
            System.arraycopy(b, 0, y, yr, features);
            for (int j = 0; j < hidden; j++) {
                double hj = h[r * hidden + j];
                int wj = j * features;
                for (int i = 0; i < features; i++) {
                    y[yr + i] += hj * w[wj + i];
                }
            }
        }
    }

    /** One Adam step on a fresh batch; returns the loss. */
    public double trainStep() {
        sample();
        forward();
        java.util.Arrays.fill(dw, 0);
        java.util.Arrays.fill(db, 0);
        double loss = 0;
        for (int r = 0; r < batch; r++) {
            int yr = r * features;
            for (int i = 0; i < features; i++) {
                double out = Math.max(0, y[yr + i]);
                double d = out - x[yr + i];
                loss += importance[i] * d * d;
                dy[yr + i] = y[yr + i] > 0 ? 2 * importance[i] * d / batch : 0;
                db[i] += dy[yr + i];
            }
            for (int j = 0; j < hidden; j++) {
                int wj = j * features;
                double hj = h[r * hidden + j];
                double s = 0;
                for (int i = 0; i < features; i++) {
                    dw[wj + i] += hj * dy[yr + i]; // through the decoder W^T
                    s += w[wj + i] * dy[yr + i];
                }
                dh[r * hidden + j] = s;
            }
            for (int j = 0; j < hidden; j++) {
                int wj = j * features;
                double g = dh[r * hidden + j];
                for (int i = 0; i < features; i++) {
                    dw[wj + i] += g * x[yr + i]; // through the encoder W
                }
            }
        }
        optimizer.step(java.util.List.of(w, b), java.util.List.of(dw, db));
        return loss / batch;
    }

    /** Hidden codes h = W x of a fresh batch (batch x m), a copy. */
    public double[] hiddenCodes() {
        sample();
        forward();
        return java.util.Arrays.copyOf(h, batch * hidden);
    }

    /** Features whose column of W has norm above 0.5. */
    public int representedFeatures() {
        int n = 0;
        for (int i = 0; i < features; i++) {
            double s = 0;
            for (int j = 0; j < hidden; j++) {
                s += w[j * features + i] * w[j * features + i];
            }
            if (Math.sqrt(s) > 0.5) {
                n++;
            }
        }
        return n;
    }

    public int features() {
        return features;
    }

    public int hidden() {
        return hidden;
    }

    public double sparsity() {
        return sparsity;
    }

    public int batch() {
        return batch;
    }

    /**
     * The supplement's optimal ratio m/n = (1 - S) + h_b(S) / H_elem, with h_b the binary
     * entropy (bits) and H_elem the bits of a non-zero element; its inverse is the number of
     * features a hidden dimension can carry.
     */
    public static double optimalDimsPerFeature(double sparsity, double bitsPerElement) {
        double s = sparsity;
        double hb = s <= 0 || s >= 1 ? 0 : -(s * Math.log(s) + (1 - s) * Math.log(1 - s)) / Math.log(2);
        return (1 - s) + hb / bitsPerElement;
    }
}
