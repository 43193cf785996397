package org.alphawatch.core.window;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.alphawatch.core.format.FormatException;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.core.stat.CovarianceSnapshot;
import org.alphawatch.testing.Dense;
import org.junit.jupiter.api.Test;

/**
 * The window against dense two-pass computations over exactly the rows it claims to hold.
 * Tolerance 1e-10 relative (Frobenius): merging k panes adds O(k eps) rounding to the pairwise
 * update's O(n eps); an off-by-one row or a pane counted twice shows as O(1/n) or more.
 */
class WindowedCovarianceTest {
    private static final double TOL = 1e-10;

    private static double[] rows(Random random, int n, int m) {
        double[] x = Dense.gaussian(random, n, m);
        for (int i = 0; i < x.length; i++) {
            x[i] = x[i] * (1 + i % m) + 5 * (i % m) + 0.01 * (i / m); // scales, offsets, a drift
        }
        return x;
    }

    /** Feeds rows in random batch sizes; returns the batch boundaries' steps (step = batch index). */
    private static void feed(WindowedCovariance w, double[] x, int n, int m, Random random, int maxBatch, boolean floats) {
        int from = 0;
        int step = 0;
        while (from < n) {
            int b = Math.min(n - from, 1 + random.nextInt(maxBatch));
            if (floats) {
                float[] f = new float[b * m];
                for (int i = 0; i < f.length; i++) {
                    f[i] = (float) x[from * m + i];
                }
                w.update(f, 0, b, step++);
            } else {
                w.update(x, from * m, b, step++);
            }
            from += b;
        }
    }

    private static CovarianceAccumulator union(List<CovarianceAccumulator> groups, int m) {
        CovarianceAccumulator total = CovarianceAccumulator.create(m);
        for (CovarianceAccumulator g : groups) {
            total.merge(g);
        }
        return total;
    }

    private static double[] slice(double[] x, int m, long from, long to) {
        double[] out = new double[(int) (to - from) * m];
        System.arraycopy(x, (int) from * m, out, 0, out.length);
        return out;
    }

    @Property(tries = 80, seed = "101")
    void slidingWindowIsExactlyTheLastPanesRows(@ForAll @IntRange(min = 1, max = 12) int m,
                                                @ForAll @IntRange(min = 2, max = 600) int n,
                                                @ForAll @IntRange(min = 1, max = 8) int panes,
                                                @ForAll @IntRange(min = 1, max = 40) int paneSize,
                                                @ForAll @IntRange(min = 1, max = 90) int maxBatch,
                                                @ForAll boolean includeOpen, @ForAll long seed) {
        Random random = new Random(seed);
        double[] x = rows(random, n, m);
        WindowSpec spec = WindowSpec.sliding((long) panes * Math.max(2, paneSize), panes).withIncludeOpen(includeOpen);
        WindowedCovariance w = WindowedCovariance.create(m, spec);
        feed(w, x, n, m, random, maxBatch, false);
        long p = spec.paneSamples();
        long closedPanes = n / p;
        long end = includeOpen ? n : closedPanes * p;
        long first = Math.max(0, closedPanes - panes) * p;
        try (WindowView v = w.view()) {
            assertThat(v.firstSample()).isEqualTo(first);
            assertThat(v.endSample()).isEqualTo(end);
            assertThat(v.samples()).isEqualTo(end - first).isEqualTo(w.windowSamples());
            assertThat(v.groups()).hasSizeLessThanOrEqualTo(panes + (includeOpen ? 1 : 0));
            for (CovarianceAccumulator g : v.groups()) {
                assertThat(g.count()).isLessThanOrEqualTo(p);
            }
            int rows = (int) (end - first);
            if (rows >= 2) {
                CovarianceSnapshot got = union(v.groups(), m).snapshot();
                double[] ref = Dense.twoPassCovariance(slice(x, m, first, end), rows, m);
                assertThat(Dense.relativeError(got.covariance(), ref)).isLessThan(TOL);
            }
        }
        assertThat(w.totalSamples()).isEqualTo(n);
    }

    @Property(tries = 60, seed = "103")
    void cumulativeGroupsInterleaveBlocksAndUniteToEveryRow(@ForAll @IntRange(min = 1, max = 10) int m,
                                                           @ForAll @IntRange(min = 2, max = 700) int n,
                                                           @ForAll @IntRange(min = 1, max = 6) int groups,
                                                           @ForAll @IntRange(min = 1, max = 50) int block,
                                                           @ForAll @IntRange(min = 1, max = 120) int maxBatch,
                                                           @ForAll boolean floats, @ForAll long seed) {
        Random random = new Random(seed);
        double[] x = rows(random, n, m);
        if (floats) {
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) x[i];
            }
        }
        WindowedCovariance w = WindowedCovariance.create(m, WindowSpec.cumulative(groups).withBlockRows(block));
        feed(w, x, n, m, random, maxBatch, floats);
        try (WindowView v = w.view()) {
            assertThat(v.samples()).isEqualTo(n);
            assertThat(Dense.relativeError(union(v.groups(), m).snapshot().covariance(),
                    Dense.twoPassCovariance(x, n, m))).isLessThan(TOL);
            // Group g holds exactly the rows i with (i / block) mod G == g (in view order, empty ones left out).
            List<double[]> expected = new ArrayList<>();
            for (int g = 0; g < groups; g++) {
                List<Integer> mine = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    if ((i / block) % groups == g) {
                        mine.add(i);
                    }
                }
                if (mine.isEmpty()) {
                    continue;
                }
                double[] gx = new double[mine.size() * m];
                for (int r = 0; r < mine.size(); r++) {
                    System.arraycopy(x, mine.get(r) * m, gx, r * m, m);
                }
                expected.add(mine.size() >= 2 ? Dense.twoPassCovariance(gx, mine.size(), m) : null);
            }
            assertThat(v.groups()).hasSize(expected.size());
            for (int g = 0; g < expected.size(); g++) {
                if (expected.get(g) != null) {
                    assertThat(Dense.relativeError(v.groups().get(g).snapshot().covariance(), expected.get(g)))
                            .isLessThan(TOL);
                }
            }
        }
    }

    @Property(tries = 40, seed = "107")
    void decayWeightsEachBatchByHalfToThePowerOfLaterSamples(@ForAll @IntRange(min = 1, max = 8) int m,
                                                             @ForAll @IntRange(min = 3, max = 400) int n,
                                                             @ForAll @IntRange(min = 2, max = 300) int halfLife,
                                                             @ForAll @IntRange(min = 1, max = 60) int maxBatch,
                                                             @ForAll long seed) {
        Random random = new Random(seed);
        double[] x = rows(random, n, m);
        // One group and blocks larger than any batch: a batch is one chunk, decayed as a unit.
        WindowedCovariance w = WindowedCovariance.create(m, WindowSpec.decay(halfLife, 1).withBlockRows(1 << 20));
        double[] weights = new double[n];
        int from = 0;
        List<int[]> batches = new ArrayList<>();
        while (from < n) {
            int b = Math.min(n - from, 1 + random.nextInt(maxBatch));
            w.update(x, from * m, b, 0);
            batches.add(new int[] {from, b});
            from += b;
        }
        for (int[] b : batches) {
            double wt = Math.pow(0.5, (double) (n - b[0] - b[1]) / halfLife);
            for (int r = 0; r < b[1]; r++) {
                weights[b[0] + r] = wt;
            }
        }
        double sw = 0;
        double[] mean = new double[m];
        for (int i = 0; i < n; i++) {
            sw += weights[i];
            for (int j = 0; j < m; j++) {
                mean[j] += weights[i] * x[i * m + j];
            }
        }
        for (int j = 0; j < m; j++) {
            mean[j] /= sw;
        }
        double[] ref = new double[m * m];
        for (int i = 0; i < n; i++) {
            for (int a = 0; a < m; a++) {
                for (int b = 0; b < m; b++) {
                    ref[a * m + b] += weights[i] * (x[i * m + a] - mean[a]) * (x[i * m + b] - mean[b]) / (sw - 1);
                }
            }
        }
        try (WindowView v = w.view()) {
            assertThat(v.weight()).isCloseTo(sw, org.assertj.core.data.Offset.offset(1e-9 * sw));
            if (sw > 1.5) {
                assertThat(Dense.relativeError(union(v.groups(), m).snapshot().covariance(), ref)).isLessThan(1e-9);
            }
        }
    }

    @Test
    void aViewKeepsItsPanesWhileTheRingMovesOnAndNothingIsAllocatedBeyondTheBound() {
        int m = 4;
        Random random = new Random(5);
        WindowSpec spec = WindowSpec.sliding(40, 4); // panes of 10
        WindowedCovariance w = WindowedCovariance.create(m, spec);
        double[] x = rows(random, 400, m);
        w.update(x, 0, 45, 1); // 4 closed panes: rows 0..39
        WindowView held = w.view();
        double[] before = union(held.groups(), m).snapshot().covariance();
        assertThat(held.firstSample()).isZero();
        assertThat(held.endSample()).isEqualTo(40);
        // The writer moves on by far more than a window while the refresh still holds its panes.
        w.update(x, 45 * m, 300, 2);
        assertThat(w.allocatedAccumulators()).isLessThanOrEqualTo(spec.maxAccumulators());
        double[] after = union(held.groups(), m).snapshot().covariance();
        assertThat(after).containsExactly(before);
        assertThat(Dense.relativeError(before, Dense.twoPassCovariance(slice(x, m, 0, 40), 40, m))).isLessThan(TOL);
        held.close();
        // Once released, panes are reused and the window is again exact (the long open pane closed).
        w.update(x, 345 * m, 55, 3);
        try (WindowView v = w.view()) {
            long first = v.firstSample();
            long end = v.endSample();
            assertThat(end).isLessThanOrEqualTo(400);
            assertThat(Dense.relativeError(union(v.groups(), m).snapshot().covariance(),
                    Dense.twoPassCovariance(slice(x, m, first, end), (int) (end - first), m))).isLessThan(TOL);
        }
        assertThat(w.allocatedAccumulators()).isLessThanOrEqualTo(spec.maxAccumulators());
    }

    @Test
    void onlyOneViewAtATime() {
        WindowedCovariance w = WindowedCovariance.create(3, WindowSpec.cumulative(2));
        w.update(new double[] {1, 2, 3, 4, 5, 7}, 0, 2, 0);
        WindowView v = w.view();
        assertThatThrownBy(w::view).isInstanceOf(IllegalStateException.class);
        v.close();
        v.close(); // idempotent
        w.view().close();
    }

    @Test
    void partialAccumulatorsMergeWholeIntoThePaneAndCountAsTheirSamples() {
        int m = 5;
        Random random = new Random(9);
        double[] x = rows(random, 90, m);
        WindowedCovariance w = WindowedCovariance.create(m, WindowSpec.sliding(60, 3)); // panes of 20
        CovarianceAccumulator partial = CovarianceAccumulator.create(m);
        partial.update(x, 0, 30); // one partial of 30 rows: fills and overfills pane 0
        w.merge(partial, 7, 9);
        w.update(x, 30 * m, 40, 10); // panes [0, 30) (the partial), [30, 50), [50, 70)
        try (WindowView v = w.view()) {
            assertThat(v.firstSample()).isZero();
            assertThat(v.endSample()).isEqualTo(70);
            assertThat(v.groups()).extracting(CovarianceAccumulator::count).containsExactly(30L, 20L, 20L);
            assertThat(v.stepMin()).isEqualTo(7);
            assertThat(v.stepMax()).isEqualTo(10);
            assertThat(Dense.relativeError(union(v.groups(), m).snapshot().covariance(),
                    Dense.twoPassCovariance(slice(x, m, 0, 70), 70, m))).isLessThan(TOL);
        }
    }

    @Test
    void aPartialThatDoesNotFitClosesThePaneFirst() {
        int m = 4;
        double[] x = rows(new Random(12), 200, m);
        WindowedCovariance w = WindowedCovariance.create(m, WindowSpec.sliding(60, 3)); // panes of 20
        int[] sizes = {12, 20, 5, 10, 6, 20, 20}; // 12 | 20 | 5+10 | 6 (not with 15: 21 > 20) | 20 | 20
        int from = 0;
        for (int size : sizes) {
            CovarianceAccumulator p = CovarianceAccumulator.create(m);
            p.update(x, from * m, size);
            w.merge(p, from, from);
            from += size;
        }
        try (WindowView v = w.view()) { // the newest three closed panes: [47, 53), [53, 73), [73, 93)
            assertThat(v.groups()).extracting(CovarianceAccumulator::count).containsExactly(6L, 20L, 20L);
            assertThat(v.firstSample()).isEqualTo(47);
            assertThat(v.endSample()).isEqualTo(93);
            assertThat(Dense.relativeError(union(v.groups(), m).snapshot().covariance(),
                    Dense.twoPassCovariance(slice(x, m, 47, 93), 46, m))).isLessThan(TOL);
        }
    }

    @Property(tries = 30, seed = "109")
    void stateRoundTripsAndContinuesExactly(@ForAll @IntRange(min = 0, max = 2) int modeIndex,
                                            @ForAll @IntRange(min = 10, max = 300) int n,
                                            @ForAll long seed) {
        int m = 4;
        Random random = new Random(seed);
        double[] x = rows(random, 2 * n, m);
        WindowSpec spec = switch (modeIndex) {
            case 0 -> WindowSpec.sliding(48, 4);
            case 1 -> WindowSpec.cumulative(3).withBlockRows(7);
            default -> WindowSpec.decay(50, 3).withBlockRows(7);
        };
        WindowedCovariance a = WindowedCovariance.create(m, spec);
        a.update(x, 0, n, 1);
        WindowedCovariance b = WindowedCovariance.fromByteArray(a.toByteArray());
        assertThat(b.toByteArray()).isEqualTo(a.toByteArray());
        a.update(x, n * m, n, 2);
        b.update(x, n * m, n, 2);
        try (WindowView va = a.view(); WindowView vb = b.view()) {
            assertThat(vb.samples()).isEqualTo(va.samples());
            assertThat(vb.firstSample()).isEqualTo(va.firstSample());
            assertThat(union(vb.groups(), m).snapshot().covariance())
                    .containsExactly(union(va.groups(), m).snapshot().covariance());
        }
    }

    @Test
    void corruptStateIsRefusedWithTheProblemNamed() {
        WindowedCovariance w = WindowedCovariance.create(3, WindowSpec.sliding(12, 3));
        w.update(new double[] {1, 2, 3, 4, 5, 7, 0, 1, 0}, 0, 3, 0);
        byte[] good = w.toByteArray();
        for (int i = 0; i < good.length; i += 7) {
            byte[] bad = good.clone();
            bad[i] ^= 0x10;
            assertThatThrownBy(() -> WindowedCovariance.fromByteArray(bad)).isInstanceOf(FormatException.class)
                    .hasMessageContaining("checksum");
        }
        byte[] cut = java.util.Arrays.copyOf(good, good.length - 9);
        assertThatThrownBy(() -> WindowedCovariance.fromByteArray(cut)).isInstanceOf(FormatException.class);
    }
}
