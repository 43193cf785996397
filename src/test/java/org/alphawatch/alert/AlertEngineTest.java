package org.alphawatch.alert;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.alphawatch.pipeline.LayerKey;
import org.junit.jupiter.api.Test;

/** The detector on synthetic snapshot sequences: no false alarms when stationary, bounded delay on a step. */
class AlertEngineTest {
    private static final LayerKey KEY = new LayerKey("run", "h1");

    @Test
    void stationaryNoisyAlphaRaisesNothing() {
        AlertEngine engine = new AlertEngine(AlertConfig.defaults(), 0);
        Random r = new Random(91);
        List<Alert> all = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            all.addAll(engine.onSnapshot(KEY, i, i * 1000L, 1.5 + 0.02 * r.nextGaussian(), 40 + r.nextGaussian()));
        }
        assertThat(all).isEmpty();
    }

    @Test
    void heavyTailedNoiseRaisesNothing() {
        AlertEngine engine = new AlertEngine(AlertConfig.defaults(), 0);
        Random r = new Random(92);
        List<Alert> all = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            // Student-t with 5 degrees of freedom: occasional large deviations.
            double chi = 0;
            for (int k = 0; k < 5; k++) {
                double g = r.nextGaussian();
                chi += g * g;
            }
            double t = r.nextGaussian() / Math.sqrt(chi / 5);
            all.addAll(engine.onSnapshot(KEY, i, i, 2.0 + 0.02 * t, 30));
        }
        assertThat(all).isEmpty();
    }

    /** A shift of 5 noise standard deviations is flagged by the 4th snapshot after it (CUSUM k = 0.5, h = 10: about 2.5 expected). */
    @Test
    void stepChangeIsDetectedWithinFourSnapshots() {
        for (int sign : new int[] {1, -1}) {
            AlertEngine engine = new AlertEngine(AlertConfig.defaults(), 0);
            Random r = new Random(93 + sign);
            int changeAt = 200;
            int firstAlarm = -1;
            int alarms = 0;
            for (int i = 0; i < 400; i++) {
                double alpha = 1.2 + 0.02 * r.nextGaussian() + (i >= changeAt ? sign * 0.1 : 0);
                List<Alert> a = engine.onSnapshot(KEY, i, i, alpha, 40);
                if (!a.isEmpty()) {
                    assertThat(a.get(0).kind()).isEqualTo(AlertKind.ALPHA_SHIFT);
                    assertThat(a.get(0).message()).contains(sign > 0 ? "shifted up" : "shifted down");
                    alarms++;
                    if (firstAlarm < 0) {
                        firstAlarm = i;
                    }
                }
            }
            assertThat(firstAlarm - changeAt).as("delay in snapshots").isBetween(0, 3);
            assertThat(alarms).as("one alarm per change: the new level becomes the baseline").isEqualTo(1);
        }
    }

    @Test
    void effectiveRankCollapseIsReportedOnce() {
        AlertEngine engine = new AlertEngine(AlertConfig.defaults(), 0);
        List<Alert> all = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            double rank = i < 50 ? 40 : 15;
            all.addAll(engine.onSnapshot(KEY, i, i, 1.5, rank));
        }
        assertThat(all).extracting(Alert::kind).containsExactly(AlertKind.EFFECTIVE_RANK_COLLAPSE);
        assertThat(all.get(0).step()).isEqualTo(50);
        assertThat(all.get(0).baseline()).isEqualTo(40.0);
    }

    @Test
    void crossingTheSmoothnessThresholdBothWays() {
        AlertEngine engine = new AlertEngine(AlertConfig.defaults(), 1); // d = 1: threshold 3
        double[] alphas = {2.5, 2.6, 2.9, 3.2, 3.3, 2.8};
        List<Alert> all = new ArrayList<>();
        for (int i = 0; i < alphas.length; i++) {
            all.addAll(engine.onSnapshot(KEY, i, i, alphas[i], 10));
        }
        assertThat(all).extracting(Alert::kind).containsExactly(AlertKind.SMOOTHNESS_CROSSING,
                AlertKind.SMOOTHNESS_CROSSING);
        assertThat(all.get(0).message()).contains("rose above", "3.000");
        assertThat(all.get(1).message()).contains("fell below");
    }

    @Test
    void staleLayersOncePerSilence() {
        AlertEngine engine = new AlertEngine(AlertConfig.defaults(), 0);
        Map<LayerKey, Long> last = Map.of(KEY, 0L);
        assertThat(engine.tick(299_000, last)).isEmpty();
        assertThat(engine.tick(300_000, last)).extracting(Alert::kind).containsExactly(AlertKind.STALE_LAYER);
        assertThat(engine.tick(400_000, last)).isEmpty();
        assertThat(engine.tick(401_000, Map.of(KEY, 400_000L))).isEmpty(); // data again: re-armed
        assertThat(engine.tick(700_000, Map.of(KEY, 400_000L))).hasSize(1);
    }

    @Test
    void rejectionSurgeAboveTheRatePerMinute() {
        AlertConfig c = new AlertConfig(8, 0.1, 0.5, 10, 0.01, 0.5, Duration.ofMinutes(5), 10);
        AlertEngine engine = new AlertEngine(c, 0);
        List<Alert> all = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            all.addAll(engine.onRejected(i * 5_000L)); // 10 within a minute: at the limit
        }
        assertThat(all).isEmpty();
        all.addAll(engine.onRejected(50_000));
        assertThat(all).extracting(Alert::kind).containsExactly(AlertKind.REJECTION_SURGE);
        for (int i = 0; i < 30; i++) {
            all.addAll(engine.onRejected(51_000 + i));
        }
        assertThat(all).hasSize(1);
    }

    @Test
    void perRunThresholdsOverrideTheDefaults() {
        AlertEngine engine = new AlertEngine(AlertConfig.defaults(), 0);
        engine.configure("run", new AlertConfig(3, 0.1, 0.5, 10, 0.01, 0.9, Duration.ZERO, 100));
        assertThat(engine.config("run").warmup()).isEqualTo(3);
        assertThat(engine.config("other").warmup()).isEqualTo(8);
        List<Alert> all = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            all.addAll(engine.onSnapshot(KEY, i, i, 1.5, i < 4 ? 40 : 34)); // 34 < 0.9 * 40
        }
        assertThat(all).extracting(Alert::kind).containsExactly(AlertKind.EFFECTIVE_RANK_COLLAPSE);
        assertThat(engine.tick(10_000_000, Map.of(KEY, 0L))).isEmpty(); // stale check off for this run
    }
}
