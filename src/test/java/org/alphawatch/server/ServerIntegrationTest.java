package org.alphawatch.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.alphawatch.cli.Main;
import org.alphawatch.core.analysis.AnalysisOptions;
import org.alphawatch.core.analysis.SpectrumAnalyzer;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.pipeline.LayerSnapshot;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.testing.Dense;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;

/** The real server on an ephemeral port, driven by a real HTTP client. */
class ServerIntegrationTest {
    /**
     * 4 concurrent producers x 8 layers over HTTP into a cumulative window: each layer's served
     * spectrum equals {@code analyze} of the same rows to 1e-9 (the accumulation order differs,
     * which moves results by round-off only).
     */
    @Test
    void concurrentProducersCumulativeWindowEqualsAnalyze(@TempDir Path dir) throws Exception {
        int layers = 8;
        int producers = 4;
        int batches = 5;
        int rows = 120;
        int dims = 24;
        try (MonitorService service = TestServers.start(TestServers.manualRefresh(WindowMode.CUMULATIVE, 0))) {
            Http http = new Http(service.server().baseUrl());
            ExecutorService pool = Executors.newFixedThreadPool(producers);
            List<Future<List<Integer>>> results = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                final int producer = p;
                results.add(pool.submit(() -> {
                    List<Integer> statuses = new ArrayList<>();
                    for (int b = 0; b < batches; b++) {
                        for (int l = 0; l < layers; l++) {
                            float[] f = toFloats(TestServers.layerData(l, producer, b, rows, dims));
                            statuses.add(http.post("/v1/runs/conc/layers/L" + l + "/batches?step=" + b,
                                    NpyWriter.toBytes(f, rows, dims)).status());
                        }
                    }
                    return statuses;
                }));
            }
            for (Future<List<Integer>> f : results) {
                assertThat(f.get()).containsOnly(202);
            }
            pool.shutdown();
            assertThat(service.monitor().awaitIdle(Duration.ofSeconds(30))).isTrue();
            service.monitor().refreshAll();
            assertThat(service.monitor().awaitIdle(Duration.ofSeconds(30))).isTrue();

            for (int l = 0; l < layers; l++) {
                int total = producers * batches * rows;
                float[] all = new float[total * dims];
                int at = 0;
                for (int p = 0; p < producers; p++) {
                    for (int b = 0; b < batches; b++) {
                        float[] f = toFloats(TestServers.layerData(l, p, b, rows, dims));
                        System.arraycopy(f, 0, all, at, f.length);
                        at += f.length;
                    }
                }
                Path file = dir.resolve("L" + l + ".npy");
                NpyWriter.write(file, all, total, dims);
                StringWriter out = new StringWriter();
                assertThat(Main.run(new String[] {"analyze", "--json", "--jackknife", "0", file.toString()},
                        new PrintWriter(out), new PrintWriter(new StringWriter()))).isZero();
                JsonNode expected = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.toString());
                JsonNode served = http.get("/v1/runs/conc/layers/L" + l + "/spectrum").json();
                assertThat(served.get("samples").asLong()).isEqualTo(total);
                assertThat(served.get("window").get("samples").asLong()).isEqualTo(total);
                assertThat(served.get("alpha").asDouble()).isCloseTo(expected.get("alpha").asDouble(), within(1e-9));
                assertThat(served.get("fit_range")).isEqualTo(expected.get("fit_range"));
                for (int i = 0; i < dims; i++) {
                    assertThat(served.get("eigenvalues").get(i).asDouble())
                            .isCloseTo(expected.get("eigenvalues").get(i).asDouble(), within(1e-9));
                }
                assertThat(served.get("step_range").toString()).isEqualTo("[0," + (batches - 1) + "]");
            }
            JsonNode runs = http.get("/v1/runs").json();
            assertThat(runs.get("runs").get(0).get("layers").size()).isEqualTo(layers);
        }
    }

    static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    /**
     * A sliding window of 1000 samples in 4 panes of 250, fed 300-row batches over HTTP and refreshed
     * after each: every published spectrum is exactly the last closed panes' rows (batches are split
     * at pane boundaries), and the window never falls back to a few samples.
     */
    @Test
    void slidingWindowsHoldExactlyTheirPanesRows() throws Exception {
        int dims = 12;
        int rows = 300;
        int batches = 14; // 4200 rows: 16 closed panes, 200 rows in the open one
        MonitorConfig config = TestServers.manualRefresh(WindowMode.SLIDING, 1000).withCiGroups(4)
                .withMinSamples(500);
        try (MonitorService service = TestServers.start(config)) {
            List<LayerSnapshot> seen = new CopyOnWriteArrayList<>();
            Disposable sub = service.monitor().snapshots().subscribe(seen::add);
            Http http = new Http(service.server().baseUrl());
            double[] all = new double[batches * rows * dims];
            for (int b = 0; b < batches; b++) {
                double[] x = TestServers.layerData(b % 3, 0, b, rows, dims);
                System.arraycopy(x, 0, all, b * rows * dims, x.length);
                assertThat(http.post("/v1/runs/sw/layers/h/batches?step=" + b, NpyWriter.toBytes(x, rows, dims))
                        .status()).isEqualTo(202);
                TestServers.settle(service);
            }
            sub.dispose();
            // Immature windows (250 samples after the first batch) are never published.
            assertThat(seen).hasSize(batches - 1);
            AnalysisOptions options = AnalysisOptions.defaults(new EjmlEigenSolver());
            for (LayerSnapshot s : seen) {
                long end = (s.totalSamples() / 250) * 250;
                long first = Math.max(0, end - 1000);
                assertThat(s.windowEnd()).isEqualTo(end);
                assertThat(s.windowFirst()).isEqualTo(first);
                assertThat(s.windowSamples()).isEqualTo(end - first).isGreaterThanOrEqualTo(500);
                assertThat(s.stepMin()).isEqualTo(first / rows);
                assertThat(s.stepMax()).isEqualTo((end - 1) / rows);
                CovarianceAccumulator ref = CovarianceAccumulator.create(dims);
                ref.update(all, (int) first * dims, (int) (end - first));
                double[] expected = SpectrumAnalyzer.analyze(ref.snapshot(), options).spectrum().eigenvalues();
                assertThat(Dense.relativeError(s.report().spectrum().eigenvalues(), expected)).isLessThan(1e-10);
            }
            assertThat(seen.get(seen.size() - 1).totalSamples()).isEqualTo(4200);
            var doc = http.get("/v1/runs/sw/layers/h/spectrum").json();
            assertThat(doc.get("mature").asBoolean()).isTrue();
            assertThat(doc.get("window").get("mode").asText()).isEqualTo("sliding");
            assertThat(doc.get("window").get("panes").asInt()).isEqualTo(4);
            assertThat(doc.get("window").get("first_sample").asLong()).isEqualTo(3000);
            assertThat(doc.get("window").get("end_sample").asLong()).isEqualTo(4000);
        }
    }

    @Test
    void metricsSeriesExistAndDisappearWithTheRun() throws IOException {
        try (MonitorService service = TestServers.start(TestServers.manualRefresh(WindowMode.CUMULATIVE, 0))) {
            Http http = new Http(service.server().baseUrl());
            double[] x = TestServers.layerData(1, 0, 0, 200, 16);
            assertThat(http.post("/v1/runs/gone/layers/fc/batches?step=1", NpyWriter.toBytes(x, 200, 16)).status())
                    .isEqualTo(202);
            assertThat(http.post("/v1/runs/kept/layers/fc/batches?step=1", NpyWriter.toBytes(x, 200, 16)).status())
                    .isEqualTo(202);
            try {
                service.monitor().awaitIdle(Duration.ofSeconds(10));
                service.monitor().refreshAll();
                service.monitor().awaitIdle(Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            String text = http.get("/metrics").body();
            assertThat(text).contains("alphawatch_spectrum_alpha{layer=\"fc\",run=\"gone\"}",
                    "alphawatch_ingest_samples_total{layer=\"fc\",run=\"gone\"} 200.0",
                    "alphawatch_spectrum_refresh_seconds_count{layer=\"fc\",run=\"gone\"} 1",
                    "alphawatch_spectrum_eigenvalue{layer=\"fc\",rank=\"16\",run=\"gone\"}",
                    "alphawatch_spectrum_window_samples{layer=\"fc\",run=\"gone\"} 200.0");
            assertThat(text).doesNotContain("rank=\"23\"");
            assertThat(http.delete("/v1/runs/gone").status()).isEqualTo(200);
            String after = http.get("/metrics").body();
            assertThat(after).doesNotContain("run=\"gone\"").contains("run=\"kept\"");
            assertThat(http.get("/v1/runs/gone/layers/fc/spectrum").status()).isEqualTo(404);
            assertThat(http.delete("/v1/runs/gone").status()).isEqualTo(404);
            JsonNode health = http.get("/healthz").json();
            assertThat(health.get("status").asText()).isEqualTo("ok");
            assertThat(health.get("layers").asInt()).isEqualTo(1);
        }
    }

    @Test
    void serverSentEventsCarrySnapshots() throws Exception {
        try (MonitorService service = TestServers.start(TestServers.manualRefresh(WindowMode.CUMULATIVE, 0))) {
            Http http = new Http(service.server().baseUrl());
            java.net.http.HttpRequest req = java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(http.base() + "/v1/events?run=sse")).GET().build();
            java.net.http.HttpResponse<java.util.stream.Stream<String>> res = http.client()
                    .sendAsync(req, java.net.http.HttpResponse.BodyHandlers.ofLines())
                    .get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
            double[] x = TestServers.layerData(3, 0, 0, 300, 20);
            assertThat(http.post("/v1/runs/other/layers/h/batches?step=1", NpyWriter.toBytes(x, 300, 20)).status())
                    .isEqualTo(202);
            assertThat(http.post("/v1/runs/sse/layers/h/batches?step=5", NpyWriter.toBytes(x, 300, 20)).status())
                    .isEqualTo(202);
            TestServers.settle(service);
            java.util.concurrent.CompletableFuture<String> data = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                java.util.Iterator<String> lines = res.body().iterator();
                while (lines.hasNext()) {
                    if (lines.next().equals("event: snapshot")) {
                        return lines.next();
                    }
                }
                return null;
            });
            String line = data.get(20, java.util.concurrent.TimeUnit.SECONDS);
            res.body().close();
            assertThat(line).startsWith("data: ");
            JsonNode event = new com.fasterxml.jackson.databind.ObjectMapper().readTree(line.substring(6));
            assertThat(event.get("run").asText()).isEqualTo("sse");
            assertThat(event.get("step").asLong()).isEqualTo(5);
            assertThat(event.get("alpha").asDouble()).isEqualTo(
                    http.get("/v1/runs/sse/layers/h/spectrum").json().get("alpha").asDouble());
        }
    }
}
