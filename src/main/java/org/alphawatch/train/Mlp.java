package org.alphawatch.train;

import java.util.ArrayList;
import java.util.List;

/**
 * A fully connected network {@code sizes[0] -> sizes[1] -> ... -> sizes[L]} with a hidden
 * non-linearity, inverted dropout after every hidden activation (scaled by 1/(1-p) in training,
 * identity in evaluation) and an identity output layer. Weights are He/Glorot-initialized from a
 * seed, so a run is reproducible.
 *
 * <p>All work buffers are allocated once for {@code maxBatch} rows: a training step allocates
 * nothing. Mutable, not thread-safe: one model per thread.
 */
final class Mlp {
    private final int[] sizes;
    private final int layers;
    private final Activation hidden;
    private final double dropout;
    private final int maxBatch;
    private final Rng rng;

    private final double[][] w; // [l]: sizes[l] x sizes[l+1], row-major
    private final double[][] b;
    private final double[][] dw;
    private final double[][] db;
    private final double[][] pre;
    private final double[][] act;
    private final double[][] mask;
    private final double[][] dropped;
    private final double[][] grad; // gradient w.r.t. each layer's output, reused
    private final boolean[][] silenced; // [hidden layer][unit]: dead units (output 0, no gradient)
    private final double[] input;
    private boolean lastTrain;
    private boolean reuseMasks; // tests: keep the last masks so finite differences see one network
    private int lastRows;

    public Mlp(int[] sizes, Activation hidden, double dropout, int maxBatch, long seed) {
        if (sizes.length < 2) {
            throw new IllegalArgumentException("need at least input and output sizes");
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("dropout " + dropout + " outside [0, 1)");
        }
        this.sizes = sizes.clone();
        this.layers = sizes.length - 1;
        this.hidden = hidden;
        this.dropout = dropout;
        this.maxBatch = maxBatch;
        this.rng = new Rng(seed);
        w = new double[layers][];
        b = new double[layers][];
        dw = new double[layers][];
        db = new double[layers][];
        pre = new double[layers][];
        act = new double[layers][];
        mask = new double[layers][];
        dropped = new double[layers][];
        grad = new double[layers + 1][];
        silenced = new boolean[layers][];
        input = new double[maxBatch * sizes[0]];
        grad[0] = new double[maxBatch * sizes[0]];
        Rng init = new Rng(seed ^ 0x5DEECE66DL);
        for (int l = 0; l < layers; l++) {
            int in = sizes[l];
            int out = sizes[l + 1];
            w[l] = new double[in * out];
            double scale = hidden == Activation.RELU && l < layers - 1 ? Math.sqrt(2.0 / in) : Math.sqrt(1.0 / in);
            for (int i = 0; i < w[l].length; i++) {
                w[l][i] = init.gaussian() * scale;
            }
            b[l] = new double[out];
            dw[l] = new double[in * out];
            db[l] = new double[out];
            pre[l] = new double[maxBatch * out];
            act[l] = new double[maxBatch * out];
            if (l < layers - 1) {
                mask[l] = new double[maxBatch * out];
                dropped[l] = new double[maxBatch * out];
            }
            grad[l + 1] = new double[maxBatch * out];
        }
    }

    public int[] sizes() {
        return sizes.clone();
    }

    public double dropout() {
        return dropout;
    }

    /**
     * Multiplies every weight by {@code gain}: the initialization N(0, gain^2 / fan-in) instead of
     * N(0, 1 / fan-in). For tanh, gains above 1 put a random network in the chaotic phase, where
     * nearby inputs drift apart layer by layer (Poole et al. 2016).
     */
    public void scaleWeights(double gain) {
        for (double[] layer : w) {
            for (int i = 0; i < layer.length; i++) {
                layer[i] *= gain;
            }
        }
    }

    /**
     * Makes units [from, to) of hidden layer {@code h} dead from now on: their output is 0 and no
     * gradient flows through them (what happens to ReLU units that never activate again).
     */
    public void silence(int h, int from, int to) {
        if (h < 0 || h >= layers - 1 || from < 0 || to > sizes[h + 1] || from > to) {
            throw new IllegalArgumentException("units [" + from + ", " + to + ") of hidden layer " + h);
        }
        if (silenced[h] == null) {
            silenced[h] = new boolean[sizes[h + 1]];
        }
        for (int j = from; j < to; j++) {
            silenced[h][j] = true;
        }
    }

    private static void zeroSilenced(boolean[] dead, double[] v, int rows, int out) {
        if (dead == null) {
            return;
        }
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < out; j++) {
                if (dead[j]) {
                    v[r * out + j] = 0;
                }
            }
        }
    }

    /** Number of hidden layers (the ones that carry a code to monitor). */
    public int hiddenLayers() {
        return layers - 1;
    }

    /**
     * Runs the network on {@code rows} rows of {@code x}; with {@code train} dropout masks are drawn.
     *
     * @return the output buffer (rows x sizes[L], valid until the next call)
     */
    public double[] forward(double[] x, int rows, boolean train) {
        if (rows > maxBatch) {
            throw new IllegalArgumentException(rows + " rows exceed the model's batch buffers (" + maxBatch + ")");
        }
        System.arraycopy(x, 0, input, 0, rows * sizes[0]);
        double[] cur = input;
        for (int l = 0; l < layers; l++) {
            int in = sizes[l];
            int out = sizes[l + 1];
            TrainKernels.affine(cur, rows, in, w[l], b[l], out, pre[l]);
            boolean isHidden = l < layers - 1;
            (isHidden ? hidden : Activation.IDENTITY).apply(pre[l], act[l], rows * out);
            zeroSilenced(silenced[l], act[l], rows, out);
            if (isHidden && train && dropout > 0) {
                double keep = 1 - dropout;
                double scale = 1 / keep;
                double[] m = mask[l];
                double[] d = dropped[l];
                double[] a = act[l];
                for (int i = 0; i < rows * out; i++) {
                    if (!reuseMasks) {
                        m[i] = rng.uniform() < keep ? scale : 0;
                    }
                    d[i] = a[i] * m[i];
                }
                cur = d;
            } else {
                cur = act[l];
            }
        }
        lastTrain = train;
        lastRows = rows;
        return act[layers - 1];
    }

    /** Post-activation values of hidden layer {@code h} (0-based) from the last forward pass, before dropout. */
    public double[] hidden(int h) {
        if (h < 0 || h >= layers - 1) {
            throw new IllegalArgumentException("hidden layer " + h + " of " + (layers - 1));
        }
        return act[h];
    }

    /** What hidden layer h passed on in the last forward pass: after dropout when it was active. */
    public double[] hiddenOutput(int h) {
        return lastTrain && dropout > 0 ? dropped[h] : hidden(h);
    }

    public int hiddenSize(int h) {
        return sizes[h + 1];
    }

    void reuseMasks(boolean reuse) {
        reuseMasks = reuse;
    }

    /** Dropout mask of hidden layer h from the last training pass (0 or 1/(1-p)). */
    double[] mask(int h) {
        return mask[h];
    }

    /**
     * Backpropagates the loss of the last forward pass and fills the gradients.
     *
     * @return the loss value
     */
    public double backward(double[] target, Loss loss) {
        int rows = lastRows;
        int outSize = sizes[layers];
        double value = loss.lossAndGradient(act[layers - 1], target, rows, outSize, grad[layers]);
        for (int l = layers - 1; l >= 0; l--) {
            int in = sizes[l];
            int out = sizes[l + 1];
            double[] g = grad[l + 1];
            boolean isHidden = l < layers - 1;
            if (isHidden) {
                zeroSilenced(silenced[l], g, rows, out);
                if (lastTrain && dropout > 0) {
                    double[] m = mask[l];
                    for (int i = 0; i < rows * out; i++) {
                        g[i] *= m[i];
                    }
                }
                hidden.backward(act[l], g, rows * out);
            }
            double[] layerInput = l == 0 ? input : (lastTrain && dropout > 0 ? dropped[l - 1] : act[l - 1]);
            TrainKernels.gradients(layerInput, rows, in, g, out, dw[l], db[l]);
            if (l > 0) {
                TrainKernels.backprop(g, rows, out, w[l], in, grad[l]);
            }
        }
        return value;
    }

    /** Loss of the network on a batch without training (evaluation mode). */
    public double evaluate(double[] x, double[] target, int rows, Loss loss) {
        forward(x, rows, false);
        return loss.lossAndGradient(act[layers - 1], target, rows, sizes[layers], grad[layers]);
    }

    public List<double[]> parameters() {
        List<double[]> p = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            p.add(w[l]);
            p.add(b[l]);
        }
        return p;
    }

    public List<double[]> gradients() {
        List<double[]> g = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            g.add(dw[l]);
            g.add(db[l]);
        }
        return g;
    }

    /** One optimization step on a batch: forward (train mode), backward, update. Returns the loss. */
    public double trainStep(double[] x, double[] target, int rows, Loss loss, Optimizer optimizer) {
        forward(x, rows, true);
        double value = backward(target, loss);
        optimizer.step(parameters(), gradients());
        return value;
    }
}
