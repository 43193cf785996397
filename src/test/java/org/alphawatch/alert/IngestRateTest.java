package org.alphawatch.alert;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.alphawatch.core.spectrum.EigenSolvers;
import org.alphawatch.io.NpyArray;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.pipeline.Monitor;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.pipeline.MonitorObserver;
import org.alphawatch.train.SyntheticCode;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Schedulers;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The issue's scenario at several ingest rates against the time-based refresh, in virtual time: a
 * real monitor (default window) refreshes on its timer, the stream sends 128-row batches at a
 * given rate, a stationary code (population spectrum n^-1.2) switches to n^-2.2 with the same
 * basis. Whether a refresh comes every half window or every many windows, nothing is raised
 * before the switch, and after it alpha_shift is, by alpha (the statistic that moved), while the
 * leading subspace, which did not turn, raises nothing.
 */
class IngestRateTest {
    private static final int ROWS = 128;

    private record Run(List<Alert> before, List<Alert> after, int refreshes) {}

    private static Run run(int dims, double batchesPerSecond, Duration refreshEvery, int refreshesBefore, long seed) {
        VirtualTimeScheduler time = VirtualTimeScheduler.create();
        MonitorConfig config = MonitorConfig.defaults().withRefresh(0, refreshEvery);
        long window = config.windowSpec(dims).samples();
        // Enough batches for the warm-up and a few tested refreshes, whatever the rate.
        double batchesPerRefresh = batchesPerSecond * refreshEvery.toMillis() / 1000.0;
        int before = (int) Math.max(12 * window / ROWS, Math.ceil(refreshesBefore * batchesPerRefresh));
        int after = (int) Math.max(4 * window / ROWS, Math.ceil(3 * batchesPerRefresh));
        AlertEngine engine = new AlertEngine(AlertConfig.defaults(), 0);
        List<Alert> alerts = new ArrayList<>();
        List<Boolean> afterSwitch = new ArrayList<>();
        boolean[] switched = new boolean[1];
        int[] refreshes = new int[1];
        SyntheticCode code = new SyntheticCode(dims, 1.2, seed);
        float[] rows = new float[ROWS * dims];
        long nanosPerBatch = Math.round(1e9 / batchesPerSecond);
        try (Monitor monitor = new Monitor(config, EigenSolvers.selected(), MonitorObserver.NONE, Schedulers.immediate(),
                Schedulers.immediate(), time, 1)) {
            monitor.snapshots().subscribe(s -> {
                refreshes[0]++;
                for (Alert a : engine.onSnapshot(s.key(), AlertService.observation(s))) {
                    alerts.add(a);
                    // An alert after the switch only counts when its window holds samples of the new code.
                    afterSwitch.add(switched[0]);
                }
            });
            for (int b = 0; b < before + after; b++) {
                if (b == before) {
                    code.setAlpha(2.2);
                    switched[0] = true;
                }
                code.fill(rows, ROWS);
                assertThat(monitor.ingest().offer(ActivationBatch.train(new LayerKey("rate", "fc"), b,
                        NpyArray.ofFloats(rows.clone(), ROWS, dims))).ok()).isTrue();
                time.advanceTimeBy(Duration.ofNanos(nanosPerBatch));
            }
        } finally {
            time.dispose();
        }
        List<Alert> pre = new ArrayList<>();
        List<Alert> post = new ArrayList<>();
        for (int i = 0; i < alerts.size(); i++) {
            (afterSwitch.get(i) ? post : pre).add(alerts.get(i));
        }
        return new Run(pre, post, refreshes[0]);
    }

    @Test
    void aCleanStepIsFlaggedByAlphaWhateverTheIngestRate() {
        long seed = 2520;
        for (double rate : new double[] {1, 4, 16, 64}) {
            Run r = run(64, rate, Duration.ofSeconds(10), 6, seed++);
            System.out.printf(Locale.ROOT, "d 64, %.0f batches/s, refresh 10 s: %d refreshes, after the switch: %s%n", rate,
                    r.refreshes(), r.after().stream().map(a -> a.kind().label()).toList());
            assertThat(r.before()).as("%.0f batches/s: before the switch", rate).isEmpty();
            assertThat(r.after()).as("%.0f batches/s", rate).extracting(Alert::kind).contains(AlertKind.ALPHA_SHIFT)
                    .doesNotContain(AlertKind.SUBSPACE_SHIFT);
            Alert alpha = r.after().stream().filter(a -> a.kind() == AlertKind.ALPHA_SHIFT).findFirst().orElseThrow();
            assertThat(alpha.evidence()).isNotEmpty().allSatisfy(e -> assertThat(e.statistic()).isEqualTo("alpha"));
            assertThat(alpha.value() - alpha.baseline()).as("alpha moved up by about 1").isBetween(0.6, 1.2);
        }
    }

    /** The issue's numbers: d = 256, about 50 batches/s, refresh every second (a refresh per 1.6 windows). */
    @Test
    void theIssuesPlusOneStepAtOneSecondRefreshes() {
        Run r = run(256, 50, Duration.ofSeconds(1), 6, 2530);
        System.out.printf(Locale.ROOT, "d 256, 50 batches/s, refresh 1 s: %d refreshes, after: %s%n", r.refreshes(),
                r.after().stream().map(a -> a.kind().label()).toList());
        assertThat(r.before()).isEmpty();
        assertThat(r.after()).extracting(Alert::kind).contains(AlertKind.ALPHA_SHIFT);
    }
}
