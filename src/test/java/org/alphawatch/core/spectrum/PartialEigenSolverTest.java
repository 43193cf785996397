package org.alphawatch.core.spectrum;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.alphawatch.core.fit.FitWindow;
import org.alphawatch.core.fit.PowerLawFit;
import org.alphawatch.core.fit.PowerLawFitter;
import org.alphawatch.testing.Dense;
import org.alphawatch.testing.ExternalTools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The partial solver on matrices with known power-law spectra (n = 1536, rotated by random
 * reflections): the top
 * 502 eigenvalues, and alpha fitted on the default window [11, 500], against the exact values.
 */
class PartialEigenSolverTest {
    @BeforeAll
    static void nativeLibraryLoads() {
        ExternalTools.requireThat(PartialEigenSolver.available(), "the bundled OpenBLAS did not load");
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.8, 1.0, 1.5, 2.0})
    void topEigenvaluesAndAlphaOnTheWindow(double a) {
        int n = 1536;
        int k = 502;
        double[] exact = new double[n];
        for (int r = 0; r < n; r++) {
            exact[r] = Math.pow(r + 1, -a);
        }
        double[] matrix = Dense.rotatedDiagonal(exact, 6, new Random(101));
        double[] top = new double[k];
        assertThat(PartialEigenSolver.defaults().topEigenvalues(matrix, n, k, top)).isTrue();
        double worstHead = 0;
        double worstTail = 0;
        for (int r = 0; r < k; r++) {
            double rel = Math.abs(top[r] - exact[r]) / exact[r];
            if (r < 100) {
                worstHead = Math.max(worstHead, rel);
            } else {
                worstTail = Math.max(worstTail, rel);
            }
            assertThat(top[r]).isLessThanOrEqualTo(exact[r] * (1 + 1e-9)); // Ritz values from below
        }
        PowerLawFit partial = PowerLawFitter.fit(top, k, 100_000, n, new FitWindow(11, 500));
        System.out.printf("alpha %.1f: head rel. error %.2e, ranks 101-502 %.2e, fitted alpha %.5f%n", a, worstHead,
                worstTail, partial.alpha());
        assertThat(worstHead).isLessThan(1e-6);
        assertThat(worstTail).isLessThan(0.05);
        assertThat(partial.alpha()).isCloseTo(a, within(0.01));
    }
}
