package org.alphawatch.core.stat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.alphawatch.testing.Dense;
import org.junit.jupiter.api.Test;

/**
 * Streaming against the dense two-pass reference. Tolerance 1e-10 relative (Frobenius): the
 * pairwise update's rounding error grows like n * eps ~ 1e-12 for these sizes, so 1e-10 leaves a
 * wide margin while any algebra slip shows as O(1).
 */
class CovarianceAccumulatorTest {
    private static final double TOL = 1e-10;

    @Property(tries = 60, seed = "11")
    void anySplitAndMergeOrderEqualsTwoPass(@ForAll @IntRange(min = 1, max = 24) int m,
                                            @ForAll @IntRange(min = 2, max = 300) int n,
                                            @ForAll @IntRange(min = 1, max = 8) int parts,
                                            @ForAll long seed) {
        splitAndMerge(CoMomentKernel.Kind.JAVA, m, n, parts, seed);
    }

    /** The same property on the native back-end (OpenBLAS syrk on an off-heap matrix). */
    @Property(tries = 60, seed = "17")
    void nativeKernelEqualsTwoPass(@ForAll @IntRange(min = 1, max = 70) int m,
                                   @ForAll @IntRange(min = 2, max = 300) int n,
                                   @ForAll @IntRange(min = 1, max = 8) int parts,
                                   @ForAll long seed) {
        org.alphawatch.testing.ExternalTools.requireThat(org.alphawatch.core.linalg.LinearAlgebra.nativeAvailable(),
                "the bundled OpenBLAS did not load");
        splitAndMerge(CoMomentKernel.Kind.OPENBLAS, m, n, parts, seed);
    }

    private static void splitAndMerge(CoMomentKernel.Kind kind, int m, int n, int parts, long seed) {
        Random random = new Random(seed);
        double[] x = Dense.gaussian(random, n, m);
        for (int i = 0; i < x.length; i++) {
            x[i] = x[i] * (1 + i % m) + 3 * (i % m); // unequal scales and offsets
        }
        double[] reference = Dense.twoPassCovariance(x, n, m);

        // Random cut points: split into up to `parts` batches, each into its own accumulator.
        List<Integer> cuts = new ArrayList<>();
        for (int p = 1; p < parts; p++) {
            cuts.add(random.nextInt(n + 1));
        }
        cuts.add(0);
        cuts.add(n);
        Collections.sort(cuts);
        List<CovarianceAccumulator> shards = new ArrayList<>();
        for (int c = 0; c + 1 < cuts.size(); c++) {
            CovarianceAccumulator acc = CovarianceAccumulator.create(m, kind);
            int from = cuts.get(c);
            int to = cuts.get(c + 1);
            // Inside a shard, feed in random-sized batches too.
            while (from < to) {
                int b = 1 + random.nextInt(to - from);
                acc.update(x, from * m, b);
                from += b;
            }
            shards.add(acc);
        }
        Collections.shuffle(shards, random);
        CovarianceAccumulator total = CovarianceAccumulator.create(m, kind);
        for (CovarianceAccumulator s : shards) {
            total.merge(s);
        }
        CovarianceSnapshot snap = total.snapshot();
        assertThat(snap.count()).isEqualTo(n);
        assertThat(Dense.relativeError(snap.covariance(), reference)).isLessThan(TOL);
        assertThat(Dense.relativeError(snap.mean(), Dense.exactMean(x, n, m))).isLessThan(TOL);
    }

    @Property(tries = 30, seed = "12")
    void mergeIsCommutativeAndEmptyIsIdentity(@ForAll @IntRange(min = 1, max = 16) int m, @ForAll long seed) {
        Random random = new Random(seed);
        CovarianceAccumulator a = CovarianceAccumulator.create(m);
        CovarianceAccumulator b = CovarianceAccumulator.create(m);
        a.update(Dense.gaussian(random, 17, m), 17);
        b.update(Dense.gaussian(random, 9, m), 9);
        CovarianceAccumulator ab = a.copy();
        ab.merge(b);
        CovarianceAccumulator ba = b.copy();
        ba.merge(a);
        assertThat(Dense.relativeError(ab.snapshot().covariance(), ba.snapshot().covariance())).isLessThan(1e-14);

        byte[] before = a.toByteArray();
        a.merge(CovarianceAccumulator.create(m));
        assertThat(a.toByteArray()).isEqualTo(before);
        CovarianceAccumulator empty = CovarianceAccumulator.create(m);
        empty.merge(a);
        assertThat(empty.toByteArray()).isEqualTo(before);
    }

    @Test
    void largeOffsetDefeatsTheNaiveFormulaButNotOurs() {
        int n = 5000;
        int m = 8;
        Random random = new Random(13);
        double[] x = new double[n * m];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < m; j++) {
                x[r * m + j] = 1e6 * (1 + j) + 1e-3 * random.nextGaussian();
            }
        }
        double[] reference = Dense.twoPassCovariance(x, n, m);

        // The textbook one-pass formula (sum x x^T - n mu mu^T) / (n - 1).
        double[] naive = new double[m * m];
        double[] sum = new double[m];
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < m; i++) {
                sum[i] += x[r * m + i];
                for (int j = 0; j < m; j++) {
                    naive[i * m + j] += x[r * m + i] * x[r * m + j];
                }
            }
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < m; j++) {
                naive[i * m + j] = (naive[i * m + j] - sum[i] * sum[j] / n) / (n - 1);
            }
        }
        assertThat(Dense.relativeError(naive, reference)).isGreaterThan(1.0);

        for (CoMomentKernel.Kind kind : kinds()) {
            CovarianceAccumulator acc = CovarianceAccumulator.create(m, kind);
            for (int r = 0; r < n; r += 64) {
                acc.update(x, r * m, Math.min(64, n - r));
            }
            assertThat(Dense.relativeError(acc.snapshot().covariance(), reference)).as(kind.name()).isLessThan(TOL);
        }
    }

    static java.util.List<CoMomentKernel.Kind> kinds() {
        return org.alphawatch.core.linalg.LinearAlgebra.nativeAvailable()
                ? java.util.List.of(CoMomentKernel.Kind.JAVA, CoMomentKernel.Kind.OPENBLAS)
                : java.util.List.of(CoMomentKernel.Kind.JAVA);
    }

    @Test
    void float32RowsEqualTheirFloat64Values() {
        Random random = new Random(14);
        int n = 200;
        int m = 33;
        float[] f = new float[n * m];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) random.nextGaussian();
        }
        CovarianceAccumulator a = CovarianceAccumulator.create(m);
        CovarianceAccumulator b = CovarianceAccumulator.create(m);
        a.update(f, n);
        b.update(Dense.toDoubles(f), n);
        assertThat(a.toByteArray()).isEqualTo(b.toByteArray());
    }

    @Test
    void decayEqualsWeightedTwoPass() {
        Random random = new Random(15);
        int m = 6;
        double[] first = Dense.gaussian(random, 40, m);
        double[] second = Dense.gaussian(random, 25, m);
        for (int i = 0; i < second.length; i++) {
            second[i] += 2;
        }
        double f = 0.3;
        CovarianceAccumulator acc = CovarianceAccumulator.create(m);
        acc.update(first, 40);
        acc.decay(f);
        acc.update(second, 25);

        double w = 40 * f + 25;
        double[] mean = new double[m];
        for (int r = 0; r < 40; r++) {
            for (int j = 0; j < m; j++) {
                mean[j] += f * first[r * m + j] / w;
            }
        }
        for (int r = 0; r < 25; r++) {
            for (int j = 0; j < m; j++) {
                mean[j] += second[r * m + j] / w;
            }
        }
        double[] cov = new double[m * m];
        for (int r = 0; r < 65; r++) {
            double weight = r < 40 ? f : 1;
            double[] src = r < 40 ? first : second;
            int row = r < 40 ? r : r - 40;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < m; j++) {
                    cov[i * m + j] += weight * (src[row * m + i] - mean[i]) * (src[row * m + j] - mean[j]) / (w - 1);
                }
            }
        }
        assertThat(acc.weight()).isEqualTo(w);
        assertThat(acc.count()).isEqualTo(65);
        assertThat(Dense.relativeError(acc.snapshot().covariance(), cov)).isLessThan(TOL);
        assertThatThrownBy(() -> acc.decay(0)).hasMessageContaining("outside (0, 1]");
        assertThatThrownBy(() -> acc.decay(1.5)).hasMessageContaining("outside (0, 1]");
    }

    @Test
    void resetForgetsEverything() {
        CovarianceAccumulator acc = CovarianceAccumulator.create(3);
        acc.update(new double[] {1, 2, 3, 4, 5, 7}, 2);
        acc.reset();
        assertThat(acc.toByteArray()).isEqualTo(CovarianceAccumulator.create(3).toByteArray());
        assertThat(acc.snapshot().covariance()).containsOnly(0.0);
    }

    @Test
    void batchesThatDoNotFitAreRefusedWithoutChangingState() {
        CovarianceAccumulator acc = CovarianceAccumulator.create(4);
        acc.update(new double[] {1, 2, 3, 4, 2, 3, 4, 6}, 2);
        byte[] before = acc.toByteArray();
        assertThatThrownBy(() -> acc.update(new double[7], 2)).hasMessageContaining("does not fit");
        assertThatThrownBy(() -> acc.update(new double[8], -1)).hasMessageContaining("does not fit");
        assertThatThrownBy(() -> acc.merge(CovarianceAccumulator.create(5))).hasMessageContaining("cannot merge 5");
        assertThat(acc.toByteArray()).isEqualTo(before);
    }

    @Test
    void updatesDoNotAllocateOnceWarm() {
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int m = 64;
        int rows = 128;
        float[] batch = new float[rows * m];
        Random random = new Random(16);
        for (int i = 0; i < batch.length; i++) {
            batch[i] = (float) random.nextGaussian();
        }
        CovarianceAccumulator acc = CovarianceAccumulator.create(m);
        for (int i = 0; i < 50; i++) {
            acc.update(batch, rows); // warm-up: workspace grows once, JIT compiles
        }
        long tid = Thread.currentThread().getId();
        long before = bean.getThreadAllocatedBytes(tid);
        for (int i = 0; i < 200; i++) {
            acc.update(batch, rows);
        }
        long allocated = bean.getThreadAllocatedBytes(tid) - before;
        // 200 batches x 128 rows: one allocation per sample would be >= 25,600 objects (> 400 kB).
        assertThat(allocated).isLessThan(16_384);
    }
}
