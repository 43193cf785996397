package org.alphawatch.core.spectrum;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.alphawatch.core.linalg.LinearAlgebra;
import org.alphawatch.core.linalg.SquareMatrix;
import org.alphawatch.testing.Dense;
import org.alphawatch.testing.ExternalTools;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Known answers: {@code Q diag(lambda) Q^T} with a random orthogonal Q and distinct eigenvalues.
 * Eigenvalues to 1e-10 relative to the largest (backward-stable solvers give O(n eps ||A||)),
 * eigenvectors to 1e-8 in angle (gaps are at least 1e-2 relative here), projectors to 1e-10.
 */
class TopEigenTest {
    private static SquareMatrix upper(double[] full, int n, boolean direct) {
        SquareMatrix m = direct ? SquareMatrix.direct(n) : SquareMatrix.heap(n);
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                m.set(i * n + j, full[i * n + j]); // the lower triangle stays 0: it must not be read
            }
        }
        return m;
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void valuesVectorsAndProjectorsOfAKnownMatrix(boolean openblas) {
        if (openblas) {
            ExternalTools.requireThat(LinearAlgebra.nativeAvailable(), "the bundled OpenBLAS did not load");
        }
        Random random = new Random(31);
        int n = 60;
        int v = 25;
        double[] lambda = new double[n];
        for (int r = 0; r < n; r++) {
            lambda[r] = Math.pow(r + 1, -1.3) * (1 + 0.01 * r);
        }
        double[] q = Dense.randomOrthogonal(random, n);
        double[] a = Dense.withEigenvalues(q, lambda);
        TopEigen top = new TopEigen(n, v);
        EigenSolver solver = openblas ? new OpenBlasEigenSolver() : new EjmlEigenSolver();
        // twice: the workspace is reused
        for (int round = 0; round < 2; round++) {
            SquareMatrix m = upper(a, n, openblas);
            assertThat(top.solve(m, v, solver)).isTrue();
            double[] got = top.values();
            double[] sorted = lambda.clone();
            java.util.Arrays.sort(sorted);
            for (int k = 0; k < n; k++) {
                assertThat(Math.abs(got[k] - sorted[n - 1 - k])).isLessThan(1e-10 * sorted[n - 1]);
            }
            int[] order = new int[n]; // rank k -> index of lambda
            for (int k = 0; k < n; k++) {
                double target = sorted[n - 1 - k];
                for (int i = 0; i < n; i++) {
                    if (lambda[i] == target) {
                        order[k] = i;
                    }
                }
            }
            for (int rank = 1; rank <= v; rank++) {
                double dot = 0;
                double norm = 0;
                for (int i = 0; i < n; i++) {
                    dot += top.vector(rank, i) * q[i * n + order[rank - 1]];
                    norm += top.vector(rank, i) * top.vector(rank, i);
                }
                assertThat(Math.abs(norm - 1)).isLessThan(1e-10);
                assertThat(1 - Math.abs(dot)).as("rank %d", rank).isLessThan(1e-8);
            }
            double[] weights = new double[10];
            for (int k = 0; k < weights.length; k++) {
                weights[k] = (k % 3 - 1) * (k + 1.5);
            }
            SquareMatrix b = openblas ? SquareMatrix.direct(n) : SquareMatrix.heap(n);
            top.projector(11, 20, weights, b);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    double expected = 0;
                    for (int r = 11; r <= 20; r++) {
                        int c = order[r - 1];
                        expected += weights[r - 11] * q[i * n + c] * q[j * n + c];
                    }
                    assertThat(Math.abs(b.get(i * n + j) - expected)).isLessThan(1e-10);
                }
            }
        }
    }
}
