package org.alphawatch.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.io.NpyArray;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.scheduler.VirtualTimeScheduler;

/** Pipeline timing with virtual time (no sleeps): time-based refresh, coalescing, windows. */
class MonitorTimingTest {
    private static final LayerKey KEY = new LayerKey("vt", "h1");

    private static ActivationBatch batch(long step, int rows, int dims, long seed) {
        Random r = new Random(seed);
        double[] x = new double[rows * dims];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextGaussian() / (1 + i % dims);
        }
        return ActivationBatch.train(KEY, step, NpyArray.ofDoubles(x, rows, dims));
    }

    @Test
    void timeBasedRefreshFiresOnlyWhenTheIntervalElapsesAndThereIsNewData() {
        VirtualTimeScheduler time = VirtualTimeScheduler.create();
        MonitorConfig config = MonitorConfig.defaults().withWindow(WindowMode.CUMULATIVE, 0)
                .withRefresh(0, Duration.ofSeconds(10)).withCiGroups(0);
        try (Monitor monitor = new Monitor(config, new EjmlEigenSolver(), MonitorObserver.NONE,
                Schedulers.immediate(), Schedulers.immediate(), time)) {
            List<LayerSnapshot> seen = new CopyOnWriteArrayList<>();
            monitor.snapshots().subscribe(seen::add);
            assertThat(monitor.offer(batch(1, 100, 8, 1)).ok()).isTrue();
            time.advanceTimeBy(Duration.ofSeconds(9));
            assertThat(seen).isEmpty();
            time.advanceTimeBy(Duration.ofSeconds(1));
            assertThat(seen).hasSize(1);
            assertThat(seen.get(0).windowSamples()).isEqualTo(100);
            time.advanceTimeBy(Duration.ofSeconds(30)); // no new data: no refresh
            assertThat(seen).hasSize(1);
            monitor.offer(batch(2, 50, 8, 2));
            time.advanceTimeBy(Duration.ofSeconds(10));
            assertThat(seen).hasSize(2);
            assertThat(seen.get(1).windowSamples()).isEqualTo(150);
            assertThat(seen.get(1).sequence()).isEqualTo(2);
            assertThat(monitor.history(KEY).orElseThrow()).hasSize(2);
        }
    }

    @Test
    void sampleCadenceRefreshesEveryNSamples() {
        MonitorConfig config = MonitorConfig.defaults().withWindow(WindowMode.CUMULATIVE, 0)
                .withRefresh(250, Duration.ZERO).withCiGroups(0);
        try (Monitor monitor = new Monitor(config, new EjmlEigenSolver(), MonitorObserver.NONE,
                Schedulers.immediate(), Schedulers.immediate(), VirtualTimeScheduler.create())) {
            List<LayerSnapshot> seen = new CopyOnWriteArrayList<>();
            monitor.snapshots().subscribe(seen::add);
            for (int i = 0; i < 10; i++) {
                monitor.offer(batch(i, 100, 8, i));
            }
            // refreshes after 300, 600, 900 samples
            assertThat(seen).extracting(LayerSnapshot::windowSamples).containsExactly(300L, 600L, 900L);
        }
    }

    /** A compute pool that only runs tasks when the test says so. */
    static final class ManualScheduler {
        final Queue<Runnable> tasks = new ArrayDeque<>();
        final Scheduler scheduler = Schedulers.fromExecutor(tasks::add);

        int runAll() {
            int n = 0;
            Runnable r;
            while ((r = tasks.poll()) != null) {
                r.run();
                n++;
            }
            return n;
        }
    }

    @Test
    void refreshesAreCoalescedToTheNewest() {
        ManualScheduler compute = new ManualScheduler();
        AtomicInteger coalesced = new AtomicInteger();
        MonitorObserver observer = new MonitorObserver() {
            @Override
            public void refreshCoalesced(LayerKey key) {
                coalesced.incrementAndGet();
            }
        };
        MonitorConfig config = MonitorConfig.defaults().withWindow(WindowMode.CUMULATIVE, 0)
                .withRefresh(100, Duration.ZERO).withCiGroups(0);
        try (Monitor monitor = new Monitor(config, new EjmlEigenSolver(), observer, Schedulers.immediate(),
                compute.scheduler, VirtualTimeScheduler.create())) {
            List<LayerSnapshot> seen = new CopyOnWriteArrayList<>();
            monitor.snapshots().subscribe(seen::add);
            for (int i = 0; i < 5; i++) {
                monitor.offer(batch(i, 100, 8, i)); // each asks for a refresh; none runs yet
            }
            assertThat(coalesced.get()).isEqualTo(4);
            compute.runAll();
            assertThat(seen).hasSize(1);
            assertThat(seen.get(0).windowSamples()).isEqualTo(500);
            assertThat(seen.get(0).step()).isEqualTo(4);
        }
    }

    @Test
    void decayWindowForgetsWithTheHalfLife() {
        MonitorConfig config = MonitorConfig.defaults().withWindow(WindowMode.DECAY, 1000)
                .withRefresh(1, Duration.ZERO).withCiGroups(0);
        try (Monitor monitor = new Monitor(config, new EjmlEigenSolver(), MonitorObserver.NONE,
                Schedulers.immediate(), Schedulers.immediate(), VirtualTimeScheduler.create())) {
            List<LayerSnapshot> seen = new CopyOnWriteArrayList<>();
            monitor.snapshots().subscribe(seen::add);
            for (int i = 0; i < 40; i++) {
                monitor.offer(batch(i, 250, 8, i));
            }
            // Each batch of b first scales the old weight by f = 0.5^(b/H): after n batches the
            // effective size is b (1 - f^n) / (1 - f) (about 1570 here; H / ln 2 in the limit b -> 0).
            double f = Math.pow(0.5, 250 / 1000.0);
            double expected = 250 * (1 - Math.pow(f, 40)) / (1 - f);
            long last = seen.get(seen.size() - 1).windowSamples();
            assertThat((double) last).isCloseTo(expected, org.assertj.core.api.Assertions.within(1.0));
            assertThat(seen.get(seen.size() - 1).totalSamples()).isEqualTo(10_000);
        }
    }

    @Test
    void refusedBatchesLeaveNoTrace() {
        MonitorConfig config = MonitorConfig.defaults().withWindow(WindowMode.CUMULATIVE, 0)
                .withRefresh(0, Duration.ofSeconds(1)).withCiGroups(0).withLimits(1 << 20, 1 << 20, 1, 1, 64);
        try (Monitor monitor = new Monitor(config, new EjmlEigenSolver(), MonitorObserver.NONE,
                Schedulers.immediate(), Schedulers.immediate(), VirtualTimeScheduler.create())) {
            assertThat(monitor.offer(batch(1, 10, 65, 1)).reason()).isEqualTo(RejectReason.TOO_MANY_DIMS);
            assertThat(monitor.offer(batch(1, 10, 300, 1)).reason()).isEqualTo(RejectReason.TOO_MANY_DIMS);
            assertThat(monitor.runs()).isEmpty();
            assertThat(monitor.offer(batch(1, 10, 8, 1)).ok()).isTrue();
            Admission second = monitor.offer(ActivationBatch.train(new LayerKey("vt", "h2"), 1,
                    NpyArray.ofDoubles(new double[16], 2, 8)));
            assertThat(second.reason()).isEqualTo(RejectReason.TOO_MANY_LAYERS);
            Admission otherRun = monitor.offer(ActivationBatch.train(new LayerKey("vt2", "h1"), 1,
                    NpyArray.ofDoubles(new double[16], 2, 8)));
            assertThat(otherRun.reason()).isEqualTo(RejectReason.TOO_MANY_RUNS);
            assertThat(monitor.runs()).containsOnlyKeys("vt");
        }
        MonitorConfig tight = MonitorConfig.defaults().withRefresh(0, Duration.ofSeconds(1)).withCiGroups(0)
                .withLimits(1 << 20, 1 << 20, 8, 8, 8192);
        try (Monitor monitor = new Monitor(tight, new EjmlEigenSolver(), MonitorObserver.NONE,
                Schedulers.immediate(), Schedulers.immediate(), VirtualTimeScheduler.create())) {
            Admission a = monitor.offer(batch(1, 4, 200, 1)); // 2 x 2 x 8 x 200^2 = 1.28 MB > 1 MiB
            assertThat(a.reason()).isEqualTo(RejectReason.MEMORY_BUDGET);
            assertThat(a.message()).contains("200-unit layer needs 1.3 MB");
            assertThat(monitor.memoryChargedBytes()).isZero();
        }
    }
}
