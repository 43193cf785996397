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
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.io.NpyArray;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.scheduler.VirtualTimeScheduler;

/** Pipeline timing with virtual time (no sleeps): time-based refresh, coalescing, windows, maturity. */
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

    private static Monitor monitor(MonitorConfig config, MonitorObserver observer, Scheduler compute,
                                   Scheduler timer) {
        return new Monitor(config, new EjmlEigenSolver(), observer, Schedulers.immediate(), compute, timer);
    }

    /** Cumulative, one group, mature from 2 samples: the tests below are about timing only. */
    private static MonitorConfig cumulative() {
        return MonitorConfig.defaults().withWindow(WindowMode.CUMULATIVE, 0).withCiGroups(1).withMinSamples(2);
    }

    @Test
    void timeBasedRefreshFiresOnlyWhenTheIntervalElapsesAndThereIsNewData() {
        VirtualTimeScheduler time = VirtualTimeScheduler.create();
        MonitorConfig config = cumulative().withRefresh(0, Duration.ofSeconds(10));
        try (Monitor monitor = monitor(config, MonitorObserver.NONE, Schedulers.immediate(), time)) {
            List<LayerSnapshot> seen = new CopyOnWriteArrayList<>();
            monitor.snapshots().subscribe(seen::add);
            assertThat(monitor.ingest().offer(batch(1, 100, 8, 1)).ok()).isTrue();
            time.advanceTimeBy(Duration.ofSeconds(9));
            assertThat(seen).isEmpty();
            time.advanceTimeBy(Duration.ofSeconds(1));
            assertThat(seen).hasSize(1);
            assertThat(seen.get(0).windowSamples()).isEqualTo(100);
            time.advanceTimeBy(Duration.ofSeconds(30)); // no new data: no refresh
            assertThat(seen).hasSize(1);
            monitor.ingest().offer(batch(2, 50, 8, 2));
            time.advanceTimeBy(Duration.ofSeconds(10));
            assertThat(seen).hasSize(2);
            assertThat(seen.get(1).windowSamples()).isEqualTo(150);
            assertThat(seen.get(1).sequence()).isEqualTo(2);
            assertThat(monitor.history(KEY).orElseThrow()).hasSize(2);
        }
    }

    @Test
    void sampleCadenceRefreshesEveryNSamples() {
        MonitorConfig config = cumulative().withRefresh(250, Duration.ZERO);
        try (Monitor monitor = monitor(config, MonitorObserver.NONE, Schedulers.immediate(),
                VirtualTimeScheduler.create())) {
            List<LayerSnapshot> seen = new CopyOnWriteArrayList<>();
            monitor.snapshots().subscribe(seen::add);
            for (int i = 0; i < 10; i++) {
                monitor.ingest().offer(batch(i, 100, 8, i));
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

    /**
     * One refresh runs per layer; requests meanwhile merge into one follow-up that sees the newest
     * data (the intermediate windows 200, 300, 400 are never computed).
     */
    @Test
    void refreshesWhileOneRunsMergeIntoOneFollowUp() {
        ManualScheduler compute = new ManualScheduler();
        AtomicInteger coalesced = new AtomicInteger();
        MonitorObserver observer = new MonitorObserver() {
            @Override
            public void refreshCoalesced(LayerKey key) {
                coalesced.incrementAndGet();
            }
        };
        MonitorConfig config = cumulative().withRefresh(100, Duration.ZERO);
        try (Monitor monitor = monitor(config, observer, compute.scheduler, VirtualTimeScheduler.create())) {
            List<LayerSnapshot> seen = new CopyOnWriteArrayList<>();
            monitor.snapshots().subscribe(seen::add);
            for (int i = 0; i < 5; i++) {
                monitor.ingest().offer(batch(i, 100, 8, i)); // the first starts a refresh; none runs yet
            }
            assertThat(coalesced.get()).isEqualTo(4);
            assertThat(compute.runAll()).isEqualTo(2);
            assertThat(seen).extracting(LayerSnapshot::windowSamples).containsExactly(100L, 500L);
            assertThat(seen.get(1).step()).isEqualTo(4);
        }
    }

    @Test
    void decayWindowForgetsWithTheHalfLife() {
        MonitorConfig config = cumulative().withWindow(WindowMode.DECAY, 1000).withRefresh(1, Duration.ZERO);
        try (Monitor monitor = monitor(config, MonitorObserver.NONE, Schedulers.immediate(),
                VirtualTimeScheduler.create())) {
            List<LayerSnapshot> seen = new CopyOnWriteArrayList<>();
            monitor.snapshots().subscribe(seen::add);
            for (int i = 0; i < 40; i++) {
                monitor.ingest().offer(batch(i, 250, 8, i));
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

    /**
     * The sliding window sized from the width (8 units: 128 samples in 8 panes of 16, mature from
     * 80): no snapshot with fewer than 80 samples is published or enters history, the layer's
     * current spectrum before that is the immature one (flagged), and once full the window never
     * shrinks below its mature size again.
     */
    @Test
    void slidingWindowPublishesOnlyMatureSnapshotsAndNeverResets() {
        MonitorConfig config = MonitorConfig.defaults().withRefresh(1, Duration.ZERO);
        try (Monitor monitor = monitor(config, MonitorObserver.NONE, Schedulers.immediate(),
                VirtualTimeScheduler.create())) {
            List<LayerSnapshot> seen = new CopyOnWriteArrayList<>();
            monitor.snapshots().subscribe(seen::add);
            for (int i = 0; i < 7; i++) {
                monitor.ingest().offer(batch(i, 10, 8, i));
            }
            // 70 samples: 4 closed panes (64 samples), immature.
            assertThat(seen).isEmpty();
            LayerSnapshot early = monitor.snapshot(KEY).orElseThrow();
            assertThat(early.mature()).isFalse();
            assertThat(early.windowSamples()).isEqualTo(64);
            assertThat(early.minSamples()).isEqualTo(80);
            assertThat(monitor.history(KEY).orElseThrow()).isEmpty();
            for (int i = 7; i < 100; i++) {
                monitor.ingest().offer(batch(i, 10, 8, i));
            }
            assertThat(seen).isNotEmpty();
            assertThat(seen).allSatisfy(s -> {
                assertThat(s.mature()).isTrue();
                assertThat(s.windowSamples()).isBetween(80L, 128L);
                assertThat(s.windowEnd() - s.windowFirst()).isEqualTo(s.windowSamples());
            });
            assertThat(seen.get(seen.size() - 1).windowSamples()).isEqualTo(128);
            assertThat(seen.get(seen.size() - 1).windowEnd()).isEqualTo(992); // 62 closed panes of 16
            assertThat(monitor.history(KEY).orElseThrow()).hasSize(seen.size());
            assertThat(monitor.snapshot(KEY).orElseThrow().mature()).isTrue();
        }
    }

    @Test
    void refusedBatchesLeaveNoTrace() {
        MonitorConfig config = cumulative().withRefresh(0, Duration.ofSeconds(1)).withLimits(1 << 20, 1 << 20, 1, 1, 64);
        try (Monitor monitor = monitor(config, MonitorObserver.NONE, Schedulers.immediate(),
                VirtualTimeScheduler.create())) {
            assertThat(monitor.ingest().offer(batch(1, 10, 65, 1)).reason()).isEqualTo(RejectReason.TOO_MANY_DIMS);
            assertThat(monitor.ingest().offer(batch(1, 10, 300, 1)).reason()).isEqualTo(RejectReason.TOO_MANY_DIMS);
            assertThat(monitor.runs()).isEmpty();
            assertThat(monitor.ingest().offer(batch(1, 10, 8, 1)).ok()).isTrue();
            Admission second = monitor.ingest().offer(ActivationBatch.train(new LayerKey("vt", "h2"), 1,
                    NpyArray.ofDoubles(new double[16], 2, 8)));
            assertThat(second.reason()).isEqualTo(RejectReason.TOO_MANY_LAYERS);
            Admission otherRun = monitor.ingest().offer(ActivationBatch.train(new LayerKey("vt2", "h1"), 1,
                    NpyArray.ofDoubles(new double[16], 2, 8)));
            assertThat(otherRun.reason()).isEqualTo(RejectReason.TOO_MANY_RUNS);
            assertThat(monitor.runs()).containsOnlyKeys("vt");
        }
        MonitorConfig tight = cumulative().withRefresh(0, Duration.ofSeconds(1)).withLimits(1 << 20, 1 << 20, 8, 8, 8192);
        try (Monitor monitor = monitor(tight, MonitorObserver.NONE, Schedulers.immediate(),
                VirtualTimeScheduler.create())) {
            // one group and its refresh copy, plus two refresh buffers: 4 x 8 x 200^2 = 1.3 MB > 1 MiB
            Admission a = monitor.ingest().offer(batch(1, 4, 200, 1));
            assertThat(a.reason()).isEqualTo(RejectReason.MEMORY_BUDGET);
            assertThat(a.message()).contains("200-unit layer needs 1.3 MB");
            assertThat(monitor.memoryChargedBytes()).isZero();
        }
    }

    /** Batches admitted before a delete are applied to the old layer and removed; after it, a new layer starts. */
    @Test
    void deletionIsOrderedWithIngest() throws Exception {
        ManualScheduler ingest = new ManualScheduler();
        MonitorConfig config = cumulative().withRefresh(0, Duration.ofHours(1));
        try (Monitor monitor = new Monitor(config, new EjmlEigenSolver(), MonitorObserver.NONE, ingest.scheduler,
                Schedulers.immediate(), VirtualTimeScheduler.create())) {
            assertThat(monitor.ingest().offer(batch(1, 30, 8, 1)).ok()).isTrue();
            assertThat(monitor.runs()).isEmpty(); // not applied yet: invisible
            ingest.runAll();
            assertThat(monitor.runs().get("vt")).extracting(Monitor.LayerInfo::totalSamples).containsExactly(30L);
            assertThat(monitor.ingest().offer(batch(2, 40, 8, 2)).ok()).isTrue(); // queued, not applied
            assertThat(monitor.ingest().deleteRun("vt").get()).isEqualTo(3L);
            assertThat(monitor.ingest().offer(batch(3, 50, 8, 3)).ok()).isTrue(); // a new layer
            ingest.runAll();
            assertThat(monitor.runs().get("vt")).extracting(Monitor.LayerInfo::totalSamples).containsExactly(50L);
            assertThat(monitor.queuedBatches()).isZero();
            assertThat(monitor.ingest().deleteRun("nope").get()).isEqualTo(-1L);
        }
    }
}
