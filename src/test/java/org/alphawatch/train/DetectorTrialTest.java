package org.alphawatch.train;

import static org.assertj.core.api.Assertions.assertThat;

import org.alphawatch.train.DetectorTrial.Change;
import org.alphawatch.train.DetectorTrial.Outcome;
import org.alphawatch.train.DetectorTrial.Scenario;
import org.alphawatch.alert.Alert;
import org.alphawatch.alert.AlertKind;
import org.alphawatch.core.spectrum.EigenSolver;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.core.spectrum.OpenBlasEigenSolver;
import org.alphawatch.core.linalg.LinearAlgebra;
import org.junit.jupiter.api.Test;

/**
 * The detector end to end (real monitor, real windows and intervals, default thresholds) on
 * synthetic codes: stationary streams raise nothing at any batch size; an alpha step of 0.3 and
 * half the units dying are caught within two windows (16 d samples each) of the change.
 * The full table (widths up to 2048) is docs/alerting.md, from {@code bench --detector}.
 */
class DetectorTrialTest {
    private static final EigenSolver SOLVER = LinearAlgebra.backend() == LinearAlgebra.Backend.OPENBLAS
            ? new OpenBlasEigenSolver() : new EjmlEigenSolver();

    private static Outcome run(int d, int batch, double alpha, Change change, double step, long seed) {
        // At least 6 windows, and at least 40 batches so that large batches still give many snapshots.
        int windows = Math.max(6, 40 * batch / (16 * d));
        Outcome o = DetectorTrial.run(new Scenario(d, batch, alpha, change, step, windows, 4, seed), SOLVER);
        System.out.println(DetectorTrial.row(o));
        return o;
    }

    @Test
    void stationaryStreamsRaiseNothing() {
        for (int batch : new int[] {16, 128, 1024}) {
            for (double alpha : new double[] {0.8, 1.2, 2.0}) {
                Outcome o = run(64, batch, alpha, Change.NONE, 0, 1000 + batch);
                assertThat(o.alerts()).as(o.scenario().describe() + " batch " + batch).isEmpty();
                assertThat(o.mature()).isGreaterThan(30);
            }
        }
        Outcome wide = run(256, 128, 1.2, Change.NONE, 0, 7);
        assertThat(wide.alerts()).isEmpty();
        // Mature windows stay close to the population alpha (their finite-sample bias is small).
        assertThat(wide.maxAlphaError()).isLessThan(0.1);
    }

    @Test
    void realChangesAreCaughtWithinTwoWindows() {
        for (double step : new double[] {0.3, 1.0, -0.3}) {
            Outcome o = run(64, 128, 1.2, Change.ALPHA_STEP, step, 11);
            assertThat(o.falseAlarms()).isZero();
            assertThat(o.alerts()).extracting(Alert::kind).containsOnlyOnce(AlertKind.ALPHA_SHIFT);
            assertThat(o.delaySamples()).isBetween(1L, 2 * 16 * 64L);
        }
        Outcome dead = run(256, 256, 1.2, Change.HALF_DEAD, 0, 12);
        assertThat(dead.falseAlarms()).isZero();
        assertThat(dead.alerts()).extracting(Alert::kind).contains(AlertKind.RANK_DROP);
        assertThat(dead.delaySamples()).isBetween(1L, 2 * 16 * 256L);
    }
}
