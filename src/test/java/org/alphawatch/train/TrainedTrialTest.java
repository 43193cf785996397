package org.alphawatch.train;

import static org.assertj.core.api.Assertions.assertThat;

import org.alphawatch.core.linalg.LinearAlgebra;
import org.alphawatch.core.spectrum.EigenSolver;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.core.spectrum.OpenBlasEigenSolver;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The detector on a network that keeps learning (the built-in trainer, watched after its first
 * 800 steps): training that just continues raises nothing; a dropout change, units freezing and a
 * learning-rate jump are each caught within two windows of the event (rows of docs/alerting.md).
 */
@Tag("slow")
class TrainedTrialTest {
    private static final EigenSolver SOLVER = LinearAlgebra.backend() == LinearAlgebra.Backend.OPENBLAS
            ? new OpenBlasEigenSolver() : new EjmlEigenSolver();

    @Test
    void learningRaisesNothingAndEventsAreCaught() {
        long seed = 2540;
        for (TrainedTrial.Event e : TrainedTrial.Event.values()) {
            TrainedTrial.Outcome o = TrainedTrial.run(e, SOLVER, seed++);
            System.out.println(TrainedTrial.row(o));
            assertThat(o.falseAlarms()).as(e.describe()).isZero();
            if (e != TrainedTrial.Event.NONE) {
                assertThat(o.delaySamples()).as(e.describe()).isBetween(1L, 2 * o.window());
            }
        }
    }
}
