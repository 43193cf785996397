package org.alphawatch.core.stat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.alphawatch.testing.Dense;
import org.junit.jupiter.api.Test;

class CrossCovarianceAccumulatorTest {
    @Test
    void streamingAndMergedEqualTwoPass() {
        Random random = new Random(31);
        int n = 400;
        int m = 11;
        double[] a = Dense.gaussian(random, n, m);
        double[] b = new double[n * m];
        for (int i = 0; i < b.length; i++) {
            a[i] += 5;
            b[i] = 0.7 * a[i] + 0.2 * random.nextGaussian() - 2;
        }
        CrossCovarianceAccumulator left = CrossCovarianceAccumulator.create(m);
        CrossCovarianceAccumulator right = CrossCovarianceAccumulator.create(m);
        int split = 137;
        for (int r = 0; r < split; r += 50) {
            int rows = Math.min(50, split - r);
            left.update(java.util.Arrays.copyOfRange(a, r * m, (r + rows) * m),
                    java.util.Arrays.copyOfRange(b, r * m, (r + rows) * m), rows);
        }
        right.update(java.util.Arrays.copyOfRange(a, split * m, n * m),
                java.util.Arrays.copyOfRange(b, split * m, n * m), n - split);
        right.merge(left);
        CrossCovarianceSnapshot s = right.snapshot();
        assertThat(s.count()).isEqualTo(n);
        assertThat(Dense.relativeError(s.crossCovariance(), Dense.twoPassCross(a, b, n, m))).isLessThan(1e-10);
        assertThat(Dense.relativeError(s.covarianceA(), Dense.twoPassCovariance(a, n, m))).isLessThan(1e-10);
    }
}
