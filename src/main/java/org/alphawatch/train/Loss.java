package org.alphawatch.train;

/**
 * Losses averaged over the batch. {@link #CROSS_ENTROPY} takes logits and integer class targets
 * (stored as doubles) and includes the softmax, so its gradient is {@code softmax - onehot}.
 */
enum Loss {
    /** mean over rows of sum over outputs of (y - t)^2 / 2... reported as the mean squared error per element. */
    MSE, CROSS_ENTROPY;

    /**
     * Loss value, and d loss / d output into {@code grad} (rows x cols).
     *
     * @param target MSE: rows x cols values; cross-entropy: rows class indices
     */
    double lossAndGradient(double[] output, double[] target, int rows, int cols, double[] grad) {
        double total = 0;
        if (this == MSE) {
            int n = rows * cols;
            for (int i = 0; i < n; i++) {
                double d = output[i] - target[i];
                total += d * d;
                grad[i] = 2 * d / n;
            }
            return total / n;
        }
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, output[base + c]);
            }
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                double e = Math.exp(output[base + c] - max);
                grad[base + c] = e;
                sum += e;
            }
            int t = (int) target[r];
            for (int c = 0; c < cols; c++) {
                grad[base + c] = (grad[base + c] / sum - (c == t ? 1 : 0)) / rows;
            }
            total += -(output[base + t] - max - Math.log(sum));
        }
        return total / rows;
    }
}
