package org.alphawatch.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.alphawatch.core.linalg.LinearAlgebra;
import org.alphawatch.core.spectrum.OpenBlasEigenSolver;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.io.NpyArray;
import org.alphawatch.testing.ExternalTools;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.scheduler.Schedulers;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * In steady state a refresh allocates no d x d array: the window hands its panes (or recycled
 * copies) to the refresh, and the analysis works in the layer's workspace (the merged window, which
 * LAPACK reduces in place, and the fit window's eigenvectors). Measured with the JVM's per-thread
 * allocation counter on the thread that runs everything (immediate schedulers): over 20 refreshes of
 * a 512-unit layer, the heap allocated per refresh must stay below a quarter of one 8 d^2 = 2 MB
 * array (what remains: a few d-length arrays and the report objects).
 */
class RefreshAllocationTest {
    @ParameterizedTest
    @EnumSource(value = WindowMode.class)
    void steadyRefreshesAllocateNoSquareArray(WindowMode mode) {
        ExternalTools.requireThat(LinearAlgebra.nativeAvailable(), "the bundled OpenBLAS did not load");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int d = 512;
        int rows = 1024;
        MonitorConfig config = MonitorConfig.defaults().withWindow(mode, mode == WindowMode.CUMULATIVE ? 0 : 8192)
                .withRefresh(rows, Duration.ZERO).withMinSamples(2);
        Random random = new Random(5);
        List<ActivationBatch> batches = new ArrayList<>();
        for (int b = 0; b < 40; b++) {
            float[] x = new float[rows * d];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (random.nextGaussian() / (1 + i % d));
            }
            batches.add(ActivationBatch.train(new LayerKey("alloc", "h"), b, NpyArray.ofFloats(x, rows, d)));
        }
        List<LayerSnapshot> seen = new ArrayList<>();
        try (Monitor monitor = new Monitor(config, new OpenBlasEigenSolver(), MonitorObserver.NONE,
                Schedulers.immediate(), Schedulers.immediate(), VirtualTimeScheduler.create(), 1)) {
            monitor.snapshots().subscribe(seen::add);
            for (int b = 0; b < 20; b++) { // warm up: every pane, copy buffer and workspace exists
                assertThat(monitor.ingest().offer(batches.get(b)).ok()).isTrue();
            }
            int before = seen.size();
            long t = Thread.currentThread().getId();
            long start = threads.getThreadAllocatedBytes(t);
            for (int b = 20; b < 40; b++) {
                monitor.ingest().offer(batches.get(b));
            }
            long allocated = threads.getThreadAllocatedBytes(t) - start;
            int refreshes = seen.size() - before;
            assertThat(refreshes).isEqualTo(20);
            long perRefresh = allocated / refreshes;
            System.out.printf("%s: %d bytes allocated per refresh (an 8 d^2 array is %d)%n", mode, perRefresh,
                    8L * d * d);
            assertThat(perRefresh).isLessThan(8L * d * d / 4);
        }
    }
}
