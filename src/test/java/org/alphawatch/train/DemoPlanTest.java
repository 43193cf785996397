package org.alphawatch.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The plan's arithmetic at chosen rates (no clock involved: the calibration's rate is an input). */
class DemoPlanTest {
    private static final AutoencoderDemo.Settings S = AutoencoderDemo.Settings.full(1);

    @Test
    void theDefaultRunFillsTheBudgetWithinItsBounds() {
        for (double rate : new double[] {20, 60, 100, 150, 400}) {
            DemoPlan p = DemoPlan.sized(S, DemoPlan.BUDGET_SECONDS, rate);
            assertThat(p.steps() % 500).isZero();
            assertThat(p.steps()).isBetween(DemoPlan.MIN_STEPS, DemoPlan.MAX_STEPS);
            if (p.steps() > DemoPlan.MIN_STEPS && p.steps() < DemoPlan.MAX_STEPS) {
                // The most steps that fit: 500 more would not.
                assertThat(p.expectedSeconds()).isLessThanOrEqualTo(DemoPlan.BUDGET_SECONDS);
                assertThat(DemoPlan.expectedSeconds(S, p.steps() + 500, rate)).isGreaterThan(DemoPlan.BUDGET_SECONDS);
            }
        }
        // A machine too slow for the budget still trains the minimum, and says how long that takes.
        DemoPlan slow = DemoPlan.sized(S, DemoPlan.BUDGET_SECONDS, 5);
        assertThat(slow.steps()).isEqualTo(DemoPlan.MIN_STEPS);
        assertThat(slow.expectedSeconds()).isGreaterThan(DemoPlan.BUDGET_SECONDS);
        assertThat(DemoPlan.sized(S, DemoPlan.BUDGET_SECONDS, 1e6).steps()).isEqualTo(DemoPlan.MAX_STEPS);
    }

    @Test
    void expectedDurationScalesWithStepsModelsAndRate() {
        double rate = 80;
        double t = DemoPlan.expectedSeconds(S, 3000, rate);
        assertThat(t).isCloseTo(DemoPlan.FIXED_SECONDS
                + 5 * (3000 * DemoPlan.MONITORED_COST + DemoPlan.FINAL_STEPS) / rate, within(1e-9));
        assertThat(DemoPlan.expectedSeconds(S, 3000, 2 * rate) - DemoPlan.FIXED_SECONDS)
                .isCloseTo((t - DemoPlan.FIXED_SECONDS) / 2, within(1e-9));
        assertThat(DemoPlan.fixed(S, 1234, rate).steps()).isEqualTo(1234);
        assertThat(DemoPlan.duration(45.4)).isEqualTo("45 s");
        assertThat(DemoPlan.duration(160)).isEqualTo("2 min 40 s");
    }
}
