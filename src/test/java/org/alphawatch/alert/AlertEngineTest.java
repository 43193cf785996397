package org.alphawatch.alert;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.DoubleSupplier;
import org.alphawatch.pipeline.LayerKey;
import org.junit.jupiter.api.Test;

/**
 * The detector on synthetic sequences of sliding windows (8 panes; a snapshot each time a pane
 * closes): each pane carries its own sampling noise, a window's alpha is the mean over its panes,
 * so consecutive snapshots share 7/8 of their noise, as in the monitor. No false alarms when
 * stationary; one alarm per real change.
 */
class AlertEngineTest {
    private static final LayerKey KEY = new LayerKey("run", "h1");
    private static final int PANES = 8;
    private static final long PANE = 512;

    /** Feeds snapshots; pane p's level comes from {@code level}, its noise from {@code noise}. */
    private static final class Stream {
        final AlertEngine engine;
        final double[] paneAlpha = new double[100_000];
        final double[] paneRank = new double[100_000];
        final int[] paneNumericalRank = new int[100_000];
        int panes;
        final List<Alert> alerts = new ArrayList<>();
        final List<Integer> alertPanes = new ArrayList<>();

        Stream(AlertEngine engine) {
            this.engine = engine;
        }

        void pane(double alpha, double rank, int numericalRank) {
            paneAlpha[panes] = alpha;
            paneRank[panes] = rank;
            paneNumericalRank[panes] = numericalRank;
            panes++;
            if (panes < 5) {
                return; // immature: 5 panes are 10 d samples
            }
            int k = Math.min(PANES, panes);
            double a = 0;
            double r = 0;
            int nr = Integer.MAX_VALUE;
            double[] leaveOut = new double[k];
            for (int i = panes - k; i < panes; i++) {
                a += paneAlpha[i] / k;
                r += paneRank[i] / k;
                nr = Math.min(nr, paneNumericalRank[i]);
            }
            // Jackknife standard error over the window's panes, as the monitor computes it.
            double mean = 0;
            for (int g = 0; g < k; g++) {
                leaveOut[g] = (a * k - paneAlpha[panes - k + g]) / (k - 1);
                mean += leaveOut[g] / k;
            }
            double ss = 0;
            for (double v : leaveOut) {
                ss += (v - mean) * (v - mean);
            }
            double se = Math.sqrt((k - 1.0) / k * ss);
            List<Alert> got = engine.onSnapshot(KEY, new AlertEngine.Observation(panes, panes * 1000L,
                    (panes - k) * PANE, panes * PANE, a, se, r, nr));
            for (Alert x : got) {
                alerts.add(x);
                alertPanes.add(panes);
            }
        }
    }

    private static void stationary(DoubleSupplier noise, long seed) {
        Stream s = new Stream(new AlertEngine(AlertConfig.defaults(), 0));
        for (int i = 0; i < 20_000; i++) {
            s.pane(1.5 + noise.getAsDouble(), 40 * (1 + 0.05 * noise.getAsDouble()), 256);
        }
        assertThat(s.alerts).isEmpty();
    }

    @Test
    void stationaryNoisyAlphaRaisesNothing() {
        Random r = new Random(91);
        // pane noise 0.03: a window's alpha has sd 0.011, its jackknife se about the same
        stationary(() -> 0.03 * r.nextGaussian(), 91);
    }

    @Test
    void heavyTailedNoiseRaisesNothing() {
        Random r = new Random(92);
        stationary(() -> {
            // Student-t with 3 degrees of freedom: occasional panes far out.
            double chi = 0;
            for (int k = 0; k < 3; k++) {
                double g = r.nextGaussian();
                chi += g * g;
            }
            return 0.03 * r.nextGaussian() / Math.sqrt(chi / 3);
        }, 92);
    }

    /**
     * A step of 0.3 (either way) is flagged once a window of new panes can be compared with a window
     * of old ones: within 2 windows plus the confirmation; exactly one alarm per change.
     */
    @Test
    void stepChangeIsDetectedOnceWithinTwoWindows() {
        for (int sign : new int[] {1, -1}) {
            Random r = new Random(93 + sign);
            Stream s = new Stream(new AlertEngine(AlertConfig.defaults(), 0));
            int change = 300;
            for (int i = 0; i < 900; i++) {
                s.pane(1.2 + 0.03 * r.nextGaussian() + (i >= change ? sign * 0.3 : 0), 40, 256);
            }
            assertThat(s.alerts).extracting(Alert::kind).containsExactly(AlertKind.ALPHA_SHIFT);
            assertThat(s.alerts.get(0).message()).contains(sign > 0 ? "shifted up" : "shifted down");
            int delay = s.alertPanes.get(0) - change;
            assertThat(delay).as("delay in panes").isBetween(1, 2 * PANES + 2);
        }
    }

    /** A small shift well above the noise but below min-shift is not an alarm; a second change after re-arming is. */
    @Test
    void minimumShiftAndReArming() {
        Random r = new Random(95);
        Stream s = new Stream(new AlertEngine(AlertConfig.defaults(), 0));
        for (int i = 0; i < 1500; i++) {
            double level = i < 300 ? 1.2 : i < 700 ? 1.26 : i < 1100 ? 1.26 + 0.5 : 1.26;
            s.pane(level + 0.005 * r.nextGaussian(), 40, 256);
        }
        assertThat(s.alerts).extracting(Alert::kind).containsExactly(AlertKind.ALPHA_SHIFT, AlertKind.ALPHA_SHIFT);
        assertThat(s.alertPanes.get(0)).isBetween(700, 720);
        assertThat(s.alertPanes.get(1)).isBetween(1100, 1120);
        assertThat(s.alerts.get(1).message()).contains("shifted down");
    }

    @Test
    void deadUnitsDropTheNumericalRankOnce() {
        Random r = new Random(96);
        Stream s = new Stream(new AlertEngine(AlertConfig.defaults(), 0));
        for (int i = 0; i < 400; i++) {
            boolean dead = i >= 200;
            s.pane(1.22 + (dead ? -0.05 : 0) + 0.01 * r.nextGaussian(), dead ? 29 : 38, dead ? 128 : 256);
        }
        assertThat(s.alerts).extracting(Alert::kind).containsExactly(AlertKind.RANK_DROP);
        assertThat(s.alerts.get(0).message()).contains("from 256 to 128");
        assertThat(s.alertPanes.get(0) - 200).isBetween(1, 2 * PANES + 2);
    }

    @Test
    void effectiveRankCollapseIsReportedOnce() {
        Stream s = new Stream(new AlertEngine(AlertConfig.defaults(), 0));
        for (int i = 0; i < 400; i++) {
            s.pane(1.5, i < 200 ? 40 : 15, 256);
        }
        assertThat(s.alerts).extracting(Alert::kind).containsExactly(AlertKind.EFFECTIVE_RANK_COLLAPSE);
        assertThat(s.alerts.get(0).baseline()).isEqualTo(40.0);
    }

    /** A cumulative window always starts at sample 0: there is never a disjoint earlier window to compare with. */
    @Test
    void cumulativeWindowsHaveNoReferenceAndRaiseNoShift() {
        AlertEngine engine = new AlertEngine(AlertConfig.defaults(), 0);
        List<Alert> all = new ArrayList<>();
        for (int i = 1; i < 200; i++) {
            all.addAll(engine.onSnapshot(KEY, new AlertEngine.Observation(i, i, 0, i * 100L, i < 100 ? 1 : 3, 0.01,
                    40, 256)));
        }
        assertThat(all).isEmpty();
    }

    @Test
    void crossingTheSmoothnessThresholdBothWays() {
        AlertEngine engine = new AlertEngine(AlertConfig.defaults(), 1); // d = 1: threshold 3
        double[] alphas = {2.5, 2.6, 2.9, 3.2, 3.3, 2.8};
        List<Alert> all = new ArrayList<>();
        for (int i = 0; i < alphas.length; i++) {
            all.addAll(engine.onSnapshot(KEY, new AlertEngine.Observation(i, i, 0, i + 1, alphas[i], 0.01, 10, 64)));
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
        AlertConfig d = AlertConfig.defaults();
        AlertConfig c = new AlertConfig(d.warmup(), d.shiftSigmas(), d.minShift(), d.confirm(), d.collapseFraction(),
                d.rankDropFraction(), Duration.ofMinutes(5), 10);
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
        AlertConfig d = AlertConfig.defaults();
        engine.configure("run", new AlertConfig(0, d.shiftSigmas(), d.minShift(), 1, 0.9, d.rankDropFraction(),
                Duration.ZERO, 100));
        assertThat(engine.config("run").warmup()).isZero();
        assertThat(engine.config("other").warmup()).isEqualTo(8);
        Stream s = new Stream(engine);
        for (int i = 0; i < 60; i++) {
            s.pane(1.5, i < 30 ? 40 : 34, 256); // 34 < 0.9 * 40, one snapshot suffices (confirm 1)
        }
        assertThat(s.alerts).extracting(Alert::kind).containsExactly(AlertKind.EFFECTIVE_RANK_COLLAPSE);
        assertThat(engine.tick(10_000_000, Map.of(KEY, 0L))).isEmpty(); // stale check off for this run
    }

    /**
     * Observations of a stream at a given cadence (a snapshot every {@code every} panes, first at
     * {@code offset}): window alpha is the mean of its panes' alphas, as in {@link Stream}.
     */
    private static List<Integer> alarmsAtCadence(double[] paneAlpha, int every, int offset, String layer,
                                                  AlertEngine engine, List<Alert> alerts) {
        List<Integer> at = new ArrayList<>();
        for (int p = PANES + offset; p <= paneAlpha.length; p += every) {
            double a = 0;
            double[] leaveOut = new double[PANES];
            for (int i = p - PANES; i < p; i++) {
                a += paneAlpha[i] / PANES;
            }
            double mean = 0;
            for (int g = 0; g < PANES; g++) {
                leaveOut[g] = (a * PANES - paneAlpha[p - PANES + g]) / (PANES - 1);
                mean += leaveOut[g] / PANES;
            }
            double ss = 0;
            for (double v : leaveOut) {
                ss += (v - mean) * (v - mean);
            }
            double se = Math.sqrt((PANES - 1.0) / PANES * ss);
            for (Alert x : engine.onSnapshot(new LayerKey("run", layer), new AlertEngine.Observation(p, p * 1000L,
                    (p - PANES) * PANE, p * PANE, a, se, 40, 256))) {
                alerts.add(x);
                at.add(p);
            }
        }
        return at;
    }

    /**
     * The issue's +1.0 step: whether a snapshot comes every pane, every window or every 1.5 windows,
     * and wherever the refreshes fall against the step, alpha_shift comes, once, within two windows
     * and one refresh interval of the step (evidence accrues per sample, not per snapshot).
     */
    @Test
    void aStepIsFlaggedWhateverTheRefreshCadence() {
        for (int every : new int[] {1, 2, 8, 12}) {
            for (int offset = 0; offset < every; offset += Math.max(1, every / 4)) {
                Random r = new Random(2510 + 31L * every + offset);
                double[] panes = new double[40 * PANES];
                int change = 20 * PANES + 3;
                for (int i = 0; i < panes.length; i++) {
                    panes[i] = 1.2 + (i >= change ? 1.0 : 0) + 0.01 * r.nextGaussian();
                }
                List<Alert> alerts = new ArrayList<>();
                List<Integer> at = alarmsAtCadence(panes, every, offset, "h1", new AlertEngine(AlertConfig.defaults(), 0),
                        alerts);
                assertThat(alerts).as("every %d panes, offset %d", every, offset).extracting(Alert::kind)
                        .containsExactly(AlertKind.ALPHA_SHIFT);
                assertThat(at.get(0) - change).as("delay in panes, every %d", every).isBetween(1, 2 * PANES + every);
            }
        }
    }

    /**
     * Layers of one run are one event: three layers each shifting alpha by 0.2 (twice min-shift, 5
     * floor-sds: about 1.3 threshold units of evidence per layer by the time the reference is frozen
     * and 1 per window after) raise one alert naming all three; the same shift on one layer of three
     * raises nothing (a lone layer needs twice the threshold); a lone layer with a strong shift does.
     */
    @Test
    void layersOfARunAreCombinedIntoOneAlert() {
        double[] moderate = new double[30 * PANES];
        double[] flat = new double[30 * PANES];
        int change = 15 * PANES;
        Random r = new Random(2511);
        for (int i = 0; i < moderate.length; i++) {
            moderate[i] = 1.2 + (i >= change ? 0.2 : 0) + 0.002 * r.nextGaussian();
            flat[i] = 1.2 + 0.002 * r.nextGaussian();
        }
        AlertEngine together = new AlertEngine(AlertConfig.defaults(), 0);
        List<Alert> alerts = new ArrayList<>();
        // Interleave the layers pane by pane, as a monitor refreshing all layers would.
        for (int p = PANES; p <= moderate.length; p++) {
            for (String layer : new String[] {"l1", "l2", "l3", "l4"}) {
                double[] src = layer.equals("l4") ? flat : moderate;
                alarmsAtCadenceOne(src, p, layer, together, alerts);
            }
        }
        assertThat(alerts).extracting(Alert::kind).containsExactly(AlertKind.ALPHA_SHIFT);
        assertThat(alerts.get(0).evidence()).extracting(Alert.Evidence::layer).containsExactlyInAnyOrder("l1", "l2", "l3");
        assertThat(alerts.get(0).evidence()).allSatisfy(e -> {
            assertThat(e.statistic()).isEqualTo("alpha");
            assertThat(e.value() - e.baseline()).isCloseTo(0.2, org.assertj.core.data.Offset.offset(0.02));
            assertThat(e.noise()).isEqualTo(0.02); // the floor: min_shift / shift_sigmas
        });
        assertThat(alerts.get(0).message()).contains("3 of 4 layers", "l1: 1.", "noise sd 0.020");

        AlertEngine lone = new AlertEngine(AlertConfig.defaults(), 0);
        List<Alert> loneAlerts = new ArrayList<>();
        for (int p = PANES; p <= moderate.length; p++) {
            alarmsAtCadenceOne(moderate, p, "l1", lone, loneAlerts);
            alarmsAtCadenceOne(flat, p, "l2", lone, loneAlerts);
            alarmsAtCadenceOne(flat, p, "l3", lone, loneAlerts);
        }
        assertThat(loneAlerts).as("0.2 on one layer of three").isEmpty();

        double[] strong = moderate.clone();
        for (int i = change; i < strong.length; i++) {
            strong[i] += 0.4;
        }
        AlertEngine loud = new AlertEngine(AlertConfig.defaults(), 0);
        List<Alert> loudAlerts = new ArrayList<>();
        for (int p = PANES; p <= moderate.length; p++) {
            alarmsAtCadenceOne(strong, p, "l1", loud, loudAlerts);
            alarmsAtCadenceOne(flat, p, "l2", loud, loudAlerts);
            alarmsAtCadenceOne(flat, p, "l3", loud, loudAlerts);
        }
        assertThat(loudAlerts).extracting(Alert::layer).containsExactly("l1");
    }

    private static void alarmsAtCadenceOne(double[] paneAlpha, int p, String layer, AlertEngine engine,
                                           List<Alert> alerts) {
        double[] window = java.util.Arrays.copyOfRange(paneAlpha, 0, p);
        // One observation: the window ending at pane p.
        double a = 0;
        for (int i = p - PANES; i < p; i++) {
            a += paneAlpha[i] / PANES;
        }
        double mean = 0;
        double[] leaveOut = new double[PANES];
        for (int g = 0; g < PANES; g++) {
            leaveOut[g] = (a * PANES - window[p - PANES + g]) / (PANES - 1);
            mean += leaveOut[g] / PANES;
        }
        double ss = 0;
        for (double v : leaveOut) {
            ss += (v - mean) * (v - mean);
        }
        alerts.addAll(engine.onSnapshot(new LayerKey("run", layer), new AlertEngine.Observation(p, p * 1000L,
                (p - PANES) * PANE, p * PANE, a, Math.sqrt((PANES - 1.0) / PANES * ss), 40, 256)));
    }

    /**
     * The leading subspace turning (a rotation of the top directions, same eigenvalues) raises
     * subspace_shift and nothing about alpha or the participation ratio.
     */
    @Test
    void aTurnOfTheLeadingSubspaceIsFlaggedAsSuch() {
        int d = 32;
        int k = org.alphawatch.core.analysis.ChangeStatistics.MAX_VECTORS;
        AlertEngine engine = new AlertEngine(AlertConfig.defaults(), 0);
        List<Alert> alerts = new ArrayList<>();
        Random r = new Random(2512);
        for (int p = PANES; p < 30 * PANES; p++) {
            boolean turned = p - PANES >= 15 * PANES; // windows wholly after the turn
            boolean straddles = !turned && p > 15 * PANES;
            float[] vectors = new float[k * d];
            for (int i = 0; i < k; i++) {
                // before: axes 0..7; after: axes 8..15; a straddling window: halfway between
                double c = turned ? 0 : straddles ? Math.sqrt(0.5) : 1;
                vectors[i * d + i] = (float) c;
                vectors[i * d + k + i] = (float) Math.sqrt(1 - c * c);
            }
            double[] values = {1.2 + 0.002 * r.nextGaussian(), 0.01 * r.nextGaussian(), 3.0 + 0.002 * r.nextGaussian()};
            var cs = new org.alphawatch.core.analysis.ChangeStatistics(values, new double[] {0.002, 0.002, 0.002}, 8, d, k,
                    vectors, 0.05, 0.02);
            alerts.addAll(engine.onSnapshot(KEY, new AlertEngine.Observation(p, p * 1000L, (p - PANES) * PANE, p * PANE,
                    values[0], 0.002, 40, 256, cs)));
        }
        assertThat(alerts).extracting(Alert::kind).containsExactly(AlertKind.SUBSPACE_SHIFT);
        Alert.Evidence e = alerts.get(0).evidence().get(0);
        assertThat(e.statistic()).isEqualTo("subspace");
        assertThat(e.baseline()).as("expected from noise: both windows' 0.05").isCloseTo(0.1, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(e.value()).as("the distance").isGreaterThan(3.9);
    }
}
