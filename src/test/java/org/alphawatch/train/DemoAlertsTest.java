package org.alphawatch.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.List;
import org.alphawatch.alert.Alert;
import org.alphawatch.alert.AlertKind;
import org.alphawatch.core.analysis.AnalysisOptions;
import org.alphawatch.core.analysis.SpectrumAnalyzer;
import org.alphawatch.core.analysis.SpectrumReport;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.junit.jupiter.api.Test;

/** Every alert of the demo lands in the one category whose rule explains it, and only there. */
class DemoAlertsTest {
    private static final long FINISHED = 1_000_000;

    /** A model that trained 1500 steps with a falling loss and finished at {@link #FINISHED}. */
    private static AutoencoderDemo.ModelResult model(String run) {
        double[] loss = new double[1501];
        loss[0] = Double.NaN;
        for (int step = 1; step <= 1500; step++) {
            loss[step] = 1.0 / step;
        }
        return new AutoencoderDemo.ModelResult(run, 0, loss[1500], loss[1500], List.of(), 1500 * 64, 10, 300, 0, loss,
                FINISHED);
    }

    /** A real report of a synthetic code with population alpha 3.5 (measured: within 0.25 of it). */
    private static SpectrumReport endOfTraining() {
        SyntheticCode code = new SyntheticCode(64, 3.5, 2401);
        float[] rows = new float[4000 * 64];
        code.fill(rows, 4000);
        CovarianceAccumulator acc = CovarianceAccumulator.create(64);
        acc.update(rows, 4000);
        return SpectrumAnalyzer.analyze(acc.snapshot(), AnalysisOptions.defaults(new EjmlEigenSolver()));
    }

    private static Alert alert(AlertKind kind, String run, String layer, long step, long time, double value, double base) {
        return new Alert(kind, run, layer, step, time, value, base, kind.label() + " " + run + "/" + layer);
    }

    @Test
    void eachAlertIsExplainedByItsRuleOrCountedAsUnexplained() {
        AutoencoderDemo.Settings s = AutoencoderDemo.Settings.quick(1);
        AutoencoderDemo.Event e = s.event();
        assertThat(e.model()).isEqualTo(1);
        SpectrumReport end = endOfTraining();
        assertThat(end.alpha()).isCloseTo(3.5, within(0.25));
        assertThat(end.metrics().effectiveRank()).isBetween(1.0, 2.4);
        List<AutoencoderDemo.ModelResult> models = Arrays.stream(s.dropouts())
                .mapToObj(d -> model(AutoencoderDemo.runName(d))).toList();
        Alert caught = alert(AlertKind.RANK_DROP, "ae-d0.2", "h1", e.step() + 300, 5, 64, 128);
        Alert consequence = alert(AlertKind.ALPHA_SHIFT, "ae-d0.2", "h2", e.step() + 400, 5, 2, 3);
        Alert beforeEvent = alert(AlertKind.ALPHA_SHIFT, "ae-d0.2", "h1", e.step() - 1, 5, 3.9, 4.2); // down, lasted
        Alert learned = alert(AlertKind.ALPHA_SHIFT, "ae-d0.8", "h3", 620, 5, 3.914, 4.814); // down to 3.5 at the end
        Alert reverted = alert(AlertKind.ALPHA_SHIFT, "ae-d0.8", "h3", 700, 5, 5.0, 4.2); // up, but 3.5 at the end
        Alert reversedAgain = alert(AlertKind.ALPHA_SHIFT, "ae-d0.4", "h1", 800, 5, 2.8, 3.1); // down, but 3.5 at the end
        // Effective rank, not alpha: the end's effective rank (about 1.6) is below 2.5, its alpha (3.5) is not.
        Alert collapse = alert(AlertKind.EFFECTIVE_RANK_COLLAPSE, "ae-d0.6", "h3", 900, 5, 1.0, 2.5);
        Alert ended = alert(AlertKind.STALE_LAYER, "ae-d0.0", "h1", -1, FINISHED + 300_000, 300, 300);
        Alert stillTraining = alert(AlertKind.STALE_LAYER, "ae-d0.0", "h2", -1, FINISHED - 1, 300, 300);
        Alert afterTraining = alert(AlertKind.ALPHA_SHIFT, "ae-d0.0", "h3", 1501, 5, 3.9, 4.8);
        Alert surge = alert(AlertKind.REJECTION_SURGE, Alert.ALL, Alert.ALL, -1, 5, 101, 100);
        Alert unknownRun = alert(AlertKind.ALPHA_SHIFT, "other", "h1", 100, 5, 3.9, 4.8);
        DemoAlerts d = DemoAlerts.classify(s, List.of(caught, consequence, beforeEvent, learned, reverted, reversedAgain,
                collapse, ended, stillTraining, afterTraining, surge, unknownRun), models, key -> end);

        assertThat(d.caught()).containsExactly(caught);
        assertThat(d.first()).isSameAs(caught);
        assertThat(d.consequences()).containsExactly(consequence);
        assertThat(d.endedRuns()).containsExactly(ended);
        assertThat(d.learning()).extracting(DemoAlerts.Finding::alert).containsExactly(beforeEvent, learned, collapse);
        DemoAlerts.Finding f = d.learning().get(1);
        assertThat(f.endValue()).isEqualTo(end.alpha());
        assertThat(f.lossAtStep()).isEqualTo(1.0 / 620);
        assertThat(f.finalLoss()).isEqualTo(1.0 / 1500);
        assertThat(d.unexplained()).containsExactly(reverted, reversedAgain, stillTraining, afterTraining, surge, unknownRun);

        String md = d.markdown(s);
        assertThat(md).contains("12 alerts over the 5 models: 2 on the scripted event, 3 for changes of the code while "
                + "the networks learned, 1 for runs that had ended, **6 unexplained**", "**Caught** by `rank_drop` at step "
                + (e.step() + 300), "step 620, ae-d0.8/h3, `alpha_shift`: 4.814 -> 3.914", "**Unexplained alerts: 6**");
        assertThat(md).doesNotContain("False alarms");
    }

    @Test
    void aQuietRunSaysSo() {
        AutoencoderDemo.Settings s = AutoencoderDemo.Settings.quick(1).withEvent(null);
        DemoAlerts d = DemoAlerts.classify(s, List.of(), List.of(model("ae-d0.0")), key -> null);
        assertThat(d.markdown(s)).contains("0 alerts over the 5 models", "None (`--no-event`)", "**Unexplained alerts: 0**.");
    }
}
