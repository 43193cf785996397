package org.alphawatch.train;

/** Element-wise non-linearities with their derivatives expressed through the output. */
public enum Activation {
    IDENTITY, RELU, TANH;

    void apply(double[] pre, double[] out, int n) {
        switch (this) {
            case IDENTITY -> System.arraycopy(pre, 0, out, 0, n);
            case RELU -> {
                for (int i = 0; i < n; i++) {
                    out[i] = pre[i] > 0 ? pre[i] : 0;
                }
            }
            case TANH -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Math.tanh(pre[i]);
                }
            }
        }
    }

    /** grad[i] *= f'(pre[i]), using the activation's output {@code out}. */
    void backward(double[] out, double[] grad, int n) {
        switch (this) {
            case IDENTITY -> { }
            case RELU -> {
                for (int i = 0; i < n; i++) {
                    if (out[i] <= 0) {
                        grad[i] = 0;
                    }
                }
            }
            case TANH -> {
                for (int i = 0; i < n; i++) {
                    grad[i] *= 1 - out[i] * out[i];
                }
            }
        }
    }
}
