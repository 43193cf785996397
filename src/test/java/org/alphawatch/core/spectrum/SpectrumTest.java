package org.alphawatch.core.spectrum;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.testing.Resources;
import org.junit.jupiter.api.Test;

class SpectrumTest {
    @Test
    void clampsAndCountsNegativesAndKeepsOnlyKEigenvalues() {
        Spectrum s = Spectrum.of(new double[] {-1e-17, 2, 1, -3e-18, 0.5}, 1000, 5);
        assertThat(s.eigenvalues()).containsExactly(2, 1, 0.5, 0, 0);
        assertThat(s.clampedNegatives()).isEqualTo(2);
        assertThat(s.numericalRank()).isEqualTo(3);
        assertThat(s.trace()).isEqualTo(3.5);
        // n = 3 samples: at most n - 1 = 2 non-zero eigenvalues.
        Spectrum few = Spectrum.of(new double[] {3, 2, 1e-16, 0}, 3, 4);
        assertThat(few.size()).isEqualTo(2);
        assertThat(few.eigenvalues()).containsExactly(3, 2);
    }

    @Test
    void numericalRankUsesTenKEpsLambdaOne() {
        double eps = Math.ulp(1.0);
        double tol = 10 * 4 * eps * 2;
        Spectrum s = Spectrum.of(new double[] {2, 1.01 * tol, 0.99 * tol, 0}, 100, 4);
        assertThat(s.numericalRank()).isEqualTo(2);
    }

    /** numpy/LAPACK eigenvalues of the reference covariance (expected.json): 1e-9 relative. */
    @Test
    void matchesNumpyOnTheGaussianReference() throws IOException {
        var array = Resources.npy("reference/gauss_a1.2_6000x128.npy");
        CovarianceAccumulator acc = CovarianceAccumulator.create(array.cols());
        acc.update(array.floats(), array.rows());
        Spectrum s = Spectrum.compute(acc.snapshot(), new EjmlEigenSolver());
        JsonNode expected = Resources.expected().get("gauss_a1.2_6000x128.npy");
        JsonNode top = expected.get("eigenvalues_unnormalized_top20");
        for (int i = 0; i < 20; i++) {
            assertThat(s.eigenvalue(i + 1)).isCloseTo(top.get(i).asDouble(), within(1e-9 * top.get(i).asDouble()));
        }
        assertThat(s.trace()).isCloseTo(expected.get("trace").asDouble(), within(1e-12 * s.trace()));
        assertThat(s.numericalRank()).isEqualTo(128);
    }

    @Test
    void deadUnitsGiveRankSixtyFour() throws IOException {
        var array = Resources.npy("reference/dead_units_4000x96.npy");
        CovarianceAccumulator acc = CovarianceAccumulator.create(array.cols());
        acc.update(array.floats(), array.rows());
        Spectrum s = Spectrum.compute(acc.snapshot(), new EjmlEigenSolver());
        assertThat(s.numericalRank()).isEqualTo(Resources.expected().get("dead_units_4000x96.npy")
                .get("numerical_rank").asInt());
    }
}
