package org.alphawatch.core.spectrum;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.Random;
import org.alphawatch.testing.Dense;
import org.junit.jupiter.api.Test;

/**
 * The known-answer suite every {@link EigenSolver} back-end must pass. Tolerance: a backward-stable
 * symmetric solver gets each eigenvalue to within about n eps ||A||, so 1e-10 ||A|| for n <= 200.
 */
abstract class EigenSolverContract {
    abstract EigenSolver solver();

    private double[] values(double[] a, int n) {
        double[] v = new double[n];
        assertThat(solver().eigenvalues(a, n, v)).isTrue();
        return v;
    }

    @Test
    void oneByOneAndDiagonal() {
        assertThat(values(new double[] {-2.5}, 1)).containsExactly(-2.5);
        double[] diag = new double[16];
        double[] expected = {7, 3, 3, 0.5};
        diag[0] = 3;
        diag[5] = 0.5;
        diag[10] = 7;
        diag[15] = 3;
        assertThat(values(diag, 4)).containsExactly(expected, within(1e-14));
    }

    @Test
    void twoByTwoClosedForm() {
        double a = 2;
        double b = 1.5;
        double c = -1;
        double mid = (a + c) / 2;
        double rad = Math.hypot((a - c) / 2, b);
        assertThat(values(new double[] {a, b, b, c}, 2)).containsExactly(new double[] {mid + rad, mid - rad},
                within(1e-14));
    }

    @Test
    void rotatedKnownSpectraIncludingRepeatedZeroAndNegative() {
        Random random = new Random(41);
        for (int n : new int[] {3, 17, 64, 150}) {
            double[] expected = new double[n];
            for (int i = 0; i < n; i++) {
                expected[i] = i < 3 ? 5.0 : i == n - 1 ? -1.0 : i == n - 2 ? 0.0 : Math.pow(i + 1, -1.5);
            }
            double[] q = Dense.randomOrthogonal(random, n);
            double[] a = Dense.withEigenvalues(q, expected);
            double[] sorted = expected.clone();
            Arrays.sort(sorted);
            double[] descending = new double[n];
            for (int i = 0; i < n; i++) {
                descending[i] = sorted[n - 1 - i];
            }
            assertThat(values(a, n)).containsExactly(descending, within(1e-10 * 5));
        }
    }

    @Test
    void eigenvectorsAreOrthonormalAndSatisfyAvEqualsLambdaV() {
        Random random = new Random(42);
        int n = 40;
        double[] x = Dense.gaussian(random, 80, n);
        double[] a = Dense.twoPassCovariance(x, 80, n);
        double[] values = new double[n];
        double[] vectors = new double[n * n];
        assertThat(solver().decompose(a, n, values, vectors)).isTrue();
        for (int k = 0; k + 1 < n; k++) {
            assertThat(values[k]).isGreaterThanOrEqualTo(values[k + 1]);
        }
        for (int k = 0; k < n; k++) {
            for (int l = 0; l < n; l++) {
                double dot = 0;
                for (int i = 0; i < n; i++) {
                    dot += vectors[i * n + k] * vectors[i * n + l];
                }
                assertThat(dot).isCloseTo(k == l ? 1 : 0, within(1e-12));
            }
            for (int i = 0; i < n; i++) {
                double av = 0;
                for (int j = 0; j < n; j++) {
                    av += a[i * n + j] * vectors[j * n + k];
                }
                assertThat(av).isCloseTo(values[k] * vectors[i * n + k], within(1e-12));
            }
        }
    }

    @Test
    void inputIsNotModified() {
        double[] a = Dense.twoPassCovariance(Dense.gaussian(new Random(43), 30, 10), 30, 10);
        double[] copy = a.clone();
        values(a, 10);
        solver().decompose(a, 10, new double[10], new double[100]);
        assertThat(a).containsExactly(copy);
    }
}
