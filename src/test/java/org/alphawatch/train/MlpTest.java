package org.alphawatch.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class MlpTest {
    /**
     * Analytic gradients against central differences (h = 1e-6). In float64 the difference
     * quotient is accurate to about 1e-9 relative for these smooth losses, so 1e-6 separates
     * round-off from a wrong derivative by orders of magnitude.
     */
    @ParameterizedTest
    @CsvSource({"TANH,MSE,0,false", "RELU,MSE,0,false", "TANH,CROSS_ENTROPY,0,false", "RELU,CROSS_ENTROPY,0,false",
        "TANH,MSE,0.5,false", "RELU,CROSS_ENTROPY,0.3,false", "TANH,MSE,0,true", "TANH,CROSS_ENTROPY,0.3,true"})
    void gradientsMatchFiniteDifferences(Activation act, Loss loss, double dropout, boolean silence) {
        int rows = 6;
        Mlp net = new Mlp(new int[] {5, 7, 6, 3}, act, dropout, rows, 11);
        if (silence) {
            net.silence(0, 2, 5); // dead units: output 0, and the loss no longer depends on their weights
        }
        Rng rng = new Rng(12);
        double[] x = new double[rows * 5];
        for (int i = 0; i < x.length; i++) {
            x[i] = rng.gaussian();
        }
        double[] target = new double[loss == Loss.MSE ? rows * 3 : rows];
        for (int i = 0; i < target.length; i++) {
            target[i] = loss == Loss.MSE ? rng.gaussian() : rng.nextInt(3);
        }
        // Non-zero biases: with zero biases a unit whose inputs are all dropped sits exactly on the
        // ReLU kink, where the one-sided finite difference and the subgradient 0 legitimately differ.
        List<double[]> ps = net.parameters();
        for (int p = 1; p < ps.size(); p += 2) {
            for (int i = 0; i < ps.get(p).length; i++) {
                ps.get(p)[i] = 0.1 * rng.gaussian();
            }
        }
        boolean train = dropout > 0;
        net.forward(x, rows, train);
        net.reuseMasks(true); // perturbed passes must see the same dropout masks
        net.backward(target, loss);
        List<double[]> params = net.parameters();
        List<double[]> grads = net.gradients();
        double h = 1e-6;
        int checked = 0;
        for (int p = 0; p < params.size(); p++) {
            double[] w = params.get(p);
            double[] g = grads.get(p).clone();
            for (int i = 0; i < w.length; i++) {
                double saved = w[i];
                w[i] = saved + h;
                double up = lossOf(net, x, target, rows, loss, train);
                w[i] = saved - h;
                double down = lossOf(net, x, target, rows, loss, train);
                w[i] = saved;
                double numeric = (up - down) / (2 * h);
                double scale = Math.max(1e-7, Math.abs(numeric) + Math.abs(g[i]));
                assertThat(Math.abs(numeric - g[i]) / scale).as("param %d[%d]: numeric %g analytic %g", p, i, numeric, g[i]).isLessThan(1e-6);
                checked++;
            }
        }
        assertThat(checked).isEqualTo(5 * 7 + 7 + 7 * 6 + 6 + 6 * 3 + 3);
        if (silence) {
            net.forward(x, rows, false);
            for (int r = 0; r < rows; r++) {
                for (int j = 2; j < 5; j++) {
                    assertThat(net.hidden(0)[r * 7 + j]).isZero();
                }
            }
            double[] dw0 = net.gradients().get(0);
            for (int i = 0; i < 5; i++) {
                for (int j = 2; j < 5; j++) {
                    assertThat(dw0[i * 7 + j]).isZero();
                }
            }
        }
    }

    private static double lossOf(Mlp net, double[] x, double[] target, int rows, Loss loss, boolean train) {
        double[] out = net.forward(x, rows, train);
        return loss.lossAndGradient(out, target, rows, 3, new double[rows * 3]);
    }

    @Test
    void invertedDropoutKeepsTheMeanAndDropsTheRightFraction() {
        int rows = 256;
        double p = 0.4;
        Mlp net = new Mlp(new int[] {8, 200, 4}, Activation.RELU, p, rows, 13);
        double[] x = new double[rows * 8];
        Rng rng = new Rng(14);
        for (int i = 0; i < x.length; i++) {
            x[i] = rng.gaussian();
        }
        net.forward(x, rows, true);
        double[] mask = net.mask(0);
        int n = rows * 200;
        int zeros = 0;
        double meanMask = 0;
        for (int i = 0; i < n; i++) {
            if (mask[i] == 0) {
                zeros++;
            } else {
                assertThat(mask[i]).isEqualTo(1 / (1 - p));
            }
            meanMask += mask[i] / n;
        }
        // Binomial(51200, 0.4): sd of the fraction is 0.0022; 5 sd = 0.011.
        assertThat(zeros / (double) n).isCloseTo(p, within(0.011));
        assertThat(meanMask).isCloseTo(1, within(0.02));
        // Evaluation mode applies no mask: hidden values equal the training pass's pre-dropout values.
        double[] trainHidden = net.hidden(0).clone();
        net.forward(x, rows, false);
        assertThat(net.hidden(0)).containsExactly(trainHidden);
    }

    /** Fixed seed: a 3-class problem is learned (cross-entropy, Adam) to the stated accuracy. */
    @Test
    void learnsAClassificationTask() {
        int rows = 64;
        Mlp net = new Mlp(new int[] {10, 32, 3}, Activation.TANH, 0.1, rows, 15);
        Optimizer adam = Optimizer.adam(1e-2);
        Rng rng = new Rng(16);
        double[][] centers = new double[3][10];
        for (double[] c : centers) {
            for (int i = 0; i < 10; i++) {
                c[i] = 2 * rng.gaussian();
            }
        }
        double[] x = new double[rows * 10];
        double[] y = new double[rows];
        for (int step = 0; step < 300; step++) {
            draw(rng, centers, x, y, rows);
            net.trainStep(x, y, rows, Loss.CROSS_ENTROPY, adam);
        }
        int correct = 0;
        for (int t = 0; t < 10; t++) {
            draw(rng, centers, x, y, rows);
            double[] out = net.forward(x, rows, false);
            for (int r = 0; r < rows; r++) {
                int best = 0;
                for (int c = 1; c < 3; c++) {
                    if (out[r * 3 + c] > out[r * 3 + best]) {
                        best = c;
                    }
                }
                correct += best == (int) y[r] ? 1 : 0;
            }
        }
        assertThat(correct / 640.0).isGreaterThan(0.97);
    }

    private static void draw(Rng rng, double[][] centers, double[] x, double[] y, int rows) {
        for (int r = 0; r < rows; r++) {
            int c = rng.nextInt(3);
            y[r] = c;
            for (int i = 0; i < 10; i++) {
                x[r * 10 + i] = centers[c][i] + rng.gaussian();
            }
        }
    }

    /** The demo's autoencoder on the generated images reaches the loss stated in docs/reproduction.md. */
    @Test
    void autoencoderReachesItsStatedLoss() {
        int rows = 64;
        ImageData data = new ImageData(16);
        Mlp net = new Mlp(new int[] {256, 128, 64, 128, 256}, Activation.TANH, 0.0, rows, 17);
        Optimizer adam = Optimizer.adam(1e-3);
        Rng rng = new Rng(18);
        double[] x = new double[rows * 256];
        data.fill(x, rows, new Rng(99));
        double before = net.evaluate(x, x, rows, Loss.MSE);
        for (int step = 0; step < 1500; step++) {
            data.fill(x, rows, rng);
            net.trainStep(x, x, rows, Loss.MSE, adam);
        }
        data.fill(x, rows, new Rng(99));
        double after = net.evaluate(x, x, rows, Loss.MSE);
        System.out.printf("autoencoder MSE before %.5f after %.5f%n", before, after);
        assertThat(after).isLessThan(0.006).isLessThan(before / 20);
    }

    @Test
    void superpositionModelStoresMoreFeaturesThanDimensionsWhenSparse() {
        SuperpositionModel dense = new SuperpositionModel(20, 5, 0.0, 0.9, 256, 19);
        SuperpositionModel sparse = new SuperpositionModel(20, 5, 0.9, 0.9, 256, 19);
        for (int i = 0; i < 3000; i++) {
            dense.trainStep();
            sparse.trainStep();
        }
        assertThat(dense.representedFeatures()).isBetween(4, 6);
        assertThat(sparse.representedFeatures()).isGreaterThan(7);
        assertThat(SuperpositionModel.optimalDimsPerFeature(0, 8)).isEqualTo(1.0);
        assertThat(SuperpositionModel.optimalDimsPerFeature(0.9, 8)).isCloseTo(0.1 + 0.4690 / 8, within(1e-4));
    }
}
