package org.alphawatch.core.code;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class CodeMetricsTest {
    @Test
    void flatAndSpikedSpectraHaveTheirTextbookValues() {
        double[] flat = new double[50];
        java.util.Arrays.fill(flat, 2.0);
        CodeMetrics f = CodeMetrics.of(flat, new int[] {1, 10});
        assertThat(f.effectiveRank()).isCloseTo(50, within(1e-10));
        assertThat(f.participationRatio()).isCloseTo(50, within(1e-10));
        assertThat(f.stableRank()).isCloseTo(50, within(1e-10));
        assertThat(f.explainedVariance()).containsExactly(new double[] {0.02, 0.2}, within(1e-15));

        double[] spike = new double[50];
        spike[0] = 3;
        CodeMetrics s = CodeMetrics.of(spike, new int[] {1});
        assertThat(s.effectiveRank()).isEqualTo(1);
        assertThat(s.participationRatio()).isEqualTo(1);
        assertThat(s.stableRank()).isEqualTo(1);
        assertThat(CodeMetrics.of(new double[5], new int[] {1}).effectiveRank()).isZero();
    }

    @Test
    void randomSpectrumMatchesTheDefinitions() {
        Random random = new Random(71);
        double[] v = new double[30];
        for (int i = 0; i < v.length; i++) {
            v[i] = 10 * Math.exp(-0.2 * i) * (1 + 0.1 * random.nextDouble());
        }
        java.util.Arrays.sort(v);
        for (int i = 0; i < v.length / 2; i++) {
            double t = v[i];
            v[i] = v[v.length - 1 - i];
            v[v.length - 1 - i] = t;
        }
        double sum = 0;
        double sq = 0;
        for (double x : v) {
            sum += x;
            sq += x * x;
        }
        double h = 0;
        for (double x : v) {
            h -= x / sum * Math.log(x / sum);
        }
        CodeMetrics c = CodeMetrics.of(v, new int[] {3});
        assertThat(c.effectiveRank()).isCloseTo(Math.exp(h), within(1e-12));
        assertThat(c.participationRatio()).isCloseTo(sum * sum / sq, within(1e-12));
        assertThat(c.stableRank()).isCloseTo(sum / v[0], within(1e-12));
        assertThat(c.explainedVariance()[0]).isCloseTo((v[0] + v[1] + v[2]) / sum, within(1e-15));
    }

    @Test
    void smoothnessThresholdIsOnePlusTwoOverD() {
        assertThat(CodeMetrics.smoothnessThreshold(1)).isEqualTo(3.0);
        assertThat(CodeMetrics.smoothnessThreshold(2)).isEqualTo(2.0);
        assertThat(CodeMetrics.smoothnessMargin(3.5, 1)).isEqualTo(0.5);
        assertThatThrownBy(() -> CodeMetrics.smoothnessThreshold(0)).hasMessageContaining(">= 1");
    }

    @Test
    void capacityFormulas() {
        assertThat(Capacity.dropoutCapacityBits(0.25, 100, 8)).isEqualTo(600.0);
        double penalty = 1.5 * 256 * (Math.log(256 / Math.E) / Math.log(2));
        assertThat(Capacity.entropyBoundBits(1.5, 256, 8)).isCloseTo(256 * 8 - penalty, within(1e-9));
        assertThat(Capacity.redundancy(0.5, 256, 8)).isCloseTo(penalty / 3 / (256 * 8), within(1e-15));
        assertThat(Capacity.redundancy(10, 256, 8)).isEqualTo(1.0);
        assertThat(Capacity.redundancy(-1, 256, 8)).isEqualTo(0.0);
        assertThatThrownBy(() -> Capacity.dropoutCapacityBits(1, 10, 8)).hasMessageContaining("outside [0, 1)");
    }
}
