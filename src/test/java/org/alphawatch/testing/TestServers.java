package org.alphawatch.testing;

import java.time.Duration;
import java.util.Random;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.server.MonitorService;
import org.alphawatch.server.ServerConfig;

/** The real service on an ephemeral loopback port, and deterministic layer data. */
public final class TestServers {
    private TestServers() {}

    /** alphawatch_ingest_rejected_total{reason} as /metrics shows it (0 when the series is absent). */
    public static double rejected(MonitorService service, String reason) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("alphawatch_ingest_rejected_total\\{reason=\""
                + reason + "\"} (\\S+)").matcher(new Http(service.server().baseUrl()).get("/metrics").body());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    public static MonitorService start(MonitorConfig config) {
        return MonitorService.create(ServerConfig.local(0, config), new EjmlEigenSolver()).start();
    }

    /**
     * Refresh only when the test asks ({@code refreshAll}); the timer is an hour away. One group (no
     * interval) and mature from 2 samples: for tests that are not about intervals or maturity.
     */
    public static MonitorConfig manualRefresh(WindowMode mode, long size) {
        return MonitorConfig.defaults().withWindow(mode, size).withRefresh(0, Duration.ofHours(1)).withCiGroups(1)
                .withMinSamples(2);
    }

    /** Rows with a power-law-ish spectrum that depends on the layer, seeded by (layer, producer, batch). */
    public static double[] layerData(int layer, int producer, int batch, int rows, int dims) {
        Random random = new Random(1000L * layer + 100L * producer + batch);
        double[] x = new double[rows * dims];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < dims; j++) {
                x[r * dims + j] = random.nextGaussian() * Math.pow(j + 1, -(0.5 + 0.25 * layer) / 2) + layer;
            }
        }
        return x;
    }

    /** Applies everything queued, refreshes every layer, and waits for the refreshes. */
    public static void settle(MonitorService service) {
        try {
            if (!service.monitor().awaitIdle(Duration.ofSeconds(30))) {
                throw new AssertionError("pipeline did not drain");
            }
            service.monitor().refreshAll();
            if (!service.monitor().awaitIdle(Duration.ofSeconds(30))) {
                throw new AssertionError("refresh did not finish");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** A probe batch: activations of a circle of n + 1 inputs followed by their 2-D latent (a second .npy). */
    public static byte[] probeBody(int n, int dims, long seed) {
        double[] acts = new double[(n + 1) * dims];
        double[] latent = new double[(n + 1) * 2];
        java.util.Random r = new java.util.Random(seed);
        double[][] w = new double[2][dims];
        for (double[] row : w) {
            for (int j = 0; j < dims; j++) {
                row[j] = r.nextGaussian();
            }
        }
        for (int t = 0; t <= n; t++) {
            double th = 2 * Math.PI * t / n;
            latent[2 * t] = Math.cos(th);
            latent[2 * t + 1] = Math.sin(th);
            for (int j = 0; j < dims; j++) {
                acts[t * dims + j] = Math.tanh(Math.cos(th) * w[0][j] + Math.sin(th) * w[1][j]);
            }
        }
        byte[] a = NpyWriter.toBytes(acts, n + 1, dims);
        byte[] b = NpyWriter.toBytes(latent, n + 1, 2);
        byte[] both = new byte[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
