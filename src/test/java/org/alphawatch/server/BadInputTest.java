package org.alphawatch.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.metrics.MonitorMetrics;
import org.alphawatch.pipeline.Monitor;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.TestServers;
import org.alphawatch.testing.Resources;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Every refusal is a JSON error with the right status, is counted in
 * alphawatch_ingest_rejected_total{reason}, and leaves the layer's sample count and spectrum
 * exactly as they were.
 */
class BadInputTest {
    private static final String LAYER = "/v1/runs/bad/layers/fc/batches";
    /** Bodies over 64 KiB are refused. */
    private static final MonitorConfig SMALL_BODIES = TestServers.manualRefresh(WindowMode.CUMULATIVE, 0)
            .withLimits(64 * 1024, 1L << 30, 64, 256, 8192);

    private static double rejected(Http http, String reason) {
        Matcher m = Pattern.compile("alphawatch_ingest_rejected_total\\{reason=\"" + reason + "\"} (\\S+)")
                .matcher(http.get("/metrics").body());
        assertThat(m.find()).as("rejected series for " + reason).isTrue();
        return Double.parseDouble(m.group(1));
    }

    private static byte[] good(int rows, int dims, long seed) {
        double[] x = TestServers.layerData((int) seed, 0, 0, rows, dims);
        return NpyWriter.toBytes(x, rows, dims);
    }

    @Test
    void badBatchesAreRefusedCountedAndChangeNothing() throws Exception {
        try (MonitorService service = TestServers.start(SMALL_BODIES)) {
            Http http = new Http(service.server().baseUrl());
            assertThat(http.post(LAYER + "?step=1", good(300, 16, 1)).status()).isEqualTo(202);
            service.monitor().awaitIdle(Duration.ofSeconds(10));
            service.monitor().refreshAll();
            service.monitor().awaitIdle(Duration.ofSeconds(10));
            String before = http.get("/v1/runs/bad/layers/fc/spectrum").body();
            JsonNode beforeJson = http.get("/v1/runs/bad/layers/fc/spectrum").json();

            byte[] valid = good(10, 16, 2);
            double[] nan = new double[10 * 16];
            nan[37] = Double.NaN;
            byte[] nanBody = NpyWriter.toBytes(nan, 10, 16);
            double[] huge = TestServers.layerData(2, 0, 0, 10, 16);
            huge[16 + 3] = 1e200; // its square overflows float64: the layer could never be decomposed again
            byte[] poison = NpyWriter.toBytes(huge, 10, 16);
            Object[][] cases = {
                {LAYER + "?step=2", good(10, 15, 3), "application/octet-stream", 400, "dims_mismatch", "has 16 units, the batch has 15"},
                {LAYER + "?step=2", nanBody, "application/octet-stream", 400, "non_finite", "row 2, column 5 is NaN"},
                {LAYER + "?step=2", Arrays.copyOf(valid, valid.length - 3), "application/octet-stream", 400, "bad_npy", "truncated"},
                {LAYER + "?step=2", Arrays.copyOf(valid, valid.length + 8), "application/octet-stream", 400, "bad_npy", "8 bytes follow the array"},
                {LAYER + "?step=2", "hello, I am not numpy".getBytes(), "application/octet-stream", 415, "unsupported_media_type", "not a .npy file"},
                {LAYER + "?step=2", Files.readAllBytes(Resources.path("npy/one_d.npy")), null, 400, "bad_shape", "1-D"},
                {LAYER + "?step=2", Files.readAllBytes(Resources.path("npy/three_d.npy")), null, 400, "bad_shape", "3-D"},
                {LAYER + "?step=2", Files.readAllBytes(Resources.path("npy/object.npy")), null, 400, "bad_npy", "object arrays"},
                {LAYER + "?step=2", new byte[0], null, 400, "bad_npy", "empty body"},
                {LAYER + "?step=2", valid, "text/csv", 415, "unsupported_media_type", "Content-Type 'text/csv'"},
                {LAYER, valid, null, 400, "bad_parameter", "step"},
                {LAYER + "?step=-4", valid, null, 400, "bad_parameter", "step '-4'"},
                {LAYER + "?step=%EF%BC%91%EF%BC%92", valid, null, 400, "bad_parameter", "ASCII digits"},
                {LAYER + "?step=2", poison, "application/octet-stream", 400, "value_out_of_range", "row 1, column 3 is 1.0E200"},
                {LAYER + "?step=2&kind=eval", valid, null, 400, "bad_parameter", "kind 'eval'"},
                {LAYER + "?step=2&repeat=7", valid, null, 400, "bad_parameter", "repeat '7'"},
                {"/v1/runs/bad/layers/f%20c/batches?step=2", valid, null, 400, "invalid_name", "layer name 'f%20c' is invalid"},
                {"/v1/runs/" + "r".repeat(65) + "/layers/fc/batches?step=2", valid, null, 400, "invalid_name", "run name"},
                {LAYER + "?step=2", good(5000, 16, 4), null, 413, "body_too_large", "exceeds max-body-bytes 65536"},
            };
            for (Object[] c : cases) {
                String what = c[0] + " " + c[4];
                
                double count = rejected(http, (String) c[4]);
                Http.Response r = http.post((String) c[0], (byte[]) c[1], (String) c[2]);
                assertThat(r.status()).as(what).isEqualTo(c[3]);
                JsonNode body = r.json();
                assertThat(body.get("error").asText()).as(what).isEqualTo(c[4]);
                assertThat(body.get("detail").asText()).as(what).contains((String) c[5]);
                assertThat(rejected(http, (String) c[4])).as(what).isEqualTo(count + 1);
            }
            // A chunked body (no Content-Length) over the limit is cut off while reading.
            byte[] big = good(5000, 16, 5);
            HttpRequest chunked = HttpRequest.newBuilder(URI.create(http.base() + LAYER + "?step=2"))
                    .POST(HttpRequest.BodyPublishers.fromPublisher(chunks(big))).build();
            Http.Response r = http.send(chunked);
            assertThat(r.status()).isEqualTo(413);

            service.monitor().awaitIdle(Duration.ofSeconds(10));
            service.monitor().refreshAll();
            service.monitor().awaitIdle(Duration.ofSeconds(10));
            JsonNode after = http.get("/v1/runs/bad/layers/fc/spectrum").json();
            assertThat(after.get("samples")).isEqualTo(beforeJson.get("samples"));
            assertThat(after.get("eigenvalues")).isEqualTo(beforeJson.get("eigenvalues"));
            assertThat(after.get("alpha")).isEqualTo(beforeJson.get("alpha"));
            assertThat(before).contains("\"samples\":300");

            // Queries for unknown runs and layers.
            assertThat(http.get("/v1/runs/nope/layers/fc/spectrum").status()).isEqualTo(404);
            assertThat(http.get("/v1/runs/bad/layers/nope/history").json().get("error").asText()).isEqualTo("not_found");
            assertThat(http.get("/v1/runs/nope").status()).isEqualTo(404);
            assertThat(http.get("/v2/whatever").status()).isEqualTo(404);
        }
    }

    /** Error codes and labels do not change with the default locale (Turkish lower-cases I to dotless i). */
    @Test
    void labelsDoNotDependOnTheDefaultLocale() {
        java.util.Locale saved = java.util.Locale.getDefault();
        try {
            java.util.Locale.setDefault(java.util.Locale.forLanguageTag("tr-TR"));
            assertThat(org.alphawatch.pipeline.RejectReason.INVALID_NAME.label()).isEqualTo("invalid_name");
            assertThat(org.alphawatch.pipeline.RejectReason.BAD_PARAMETER.label()).isEqualTo("bad_parameter");
            assertThat(org.alphawatch.alert.AlertKind.SMOOTHNESS_CROSSING.label()).isEqualTo("smoothness_crossing");
            assertThat(org.alphawatch.core.window.WindowMode.SLIDING.label()).isEqualTo("sliding");
            assertThat(org.alphawatch.pipeline.BatchKind.TRAIN.label()).isEqualTo("train");
        } finally {
            java.util.Locale.setDefault(saved);
        }
    }

    /**
     * A refresh that fails (an eigen-solver that does not converge) keeps the last spectrum but
     * marks it, and counts the failure; the next successful refresh clears the mark.
     */
    @Test
    void aFailedRefreshIsMarkedAndCounted() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean failing = new java.util.concurrent.atomic.AtomicBoolean();
        org.alphawatch.core.spectrum.EigenSolver solver = new org.alphawatch.core.spectrum.EigenSolver() {
            final EjmlEigenSolver real = new EjmlEigenSolver();

            @Override
            public String name() {
                return "ejml";
            }

            @Override
            public boolean eigenvalues(double[] a, int n, double[] values) {
                return !failing.get() && real.eigenvalues(a, n, values);
            }

            @Override
            public boolean decompose(double[] a, int n, double[] values, double[] vectors) {
                return !failing.get() && real.decompose(a, n, values, vectors);
            }
        };
        try (MonitorService service = MonitorService.create(ServerConfig.local(0,
                TestServers.manualRefresh(WindowMode.CUMULATIVE, 0)), solver).start()) {
            Http http = new Http(service.server().baseUrl());
            assertThat(http.post(LAYER + "?step=1", good(300, 16, 1)).status()).isEqualTo(202);
            TestServers.settle(service);
            JsonNode ok = http.get("/v1/runs/bad/layers/fc/spectrum").json();
            assertThat(ok.has("refresh_error")).isFalse();
            failing.set(true);
            assertThat(http.post(LAYER + "?step=2", good(300, 16, 2)).status()).isEqualTo(202);
            TestServers.settle(service);
            JsonNode marked = http.get("/v1/runs/bad/layers/fc/spectrum").json();
            assertThat(marked.get("samples")).isEqualTo(ok.get("samples")); // the last good spectrum, ...
            assertThat(marked.get("refresh_error").asText()).contains("did not converge"); // ... marked
            assertThat(marked.get("total_samples").asLong()).isEqualTo(600);
            assertThat(http.get("/metrics").body())
                    .contains("alphawatch_spectrum_refresh_failures_total{layer=\"fc\",run=\"bad\"} 1.0");
            failing.set(false);
            assertThat(http.post(LAYER + "?step=3", good(300, 16, 3)).status()).isEqualTo(202);
            TestServers.settle(service);
            JsonNode recovered = http.get("/v1/runs/bad/layers/fc/spectrum").json();
            assertThat(recovered.has("refresh_error")).isFalse();
            assertThat(recovered.get("samples").asLong()).isEqualTo(900);
        }
    }

    /**
     * A body refused while it is still being sent (declared too large, or too large once counted)
     * must still reach the client as a 413: closing with unread bytes makes the kernel reset the
     * connection, which destroyed 71 of 300 such answers (declared) and 8 of 200 (chunked).
     */
    @Test
    void everyTooLargeBodyGetsItsAnswerNotAReset() throws Exception {
        try (MonitorService service = TestServers.start(SMALL_BODIES)) {
            Http http = new Http(service.server().baseUrl());
            byte[] big = good(5000, 16, 4); // 640 KB against a 64 KiB limit
            int declared = 0;
            int chunked = 0;
            for (int i = 0; i < 150; i++) {
                declared += http.post(LAYER + "?step=2", big).status() == 413 ? 1 : 0;
                HttpRequest request = HttpRequest.newBuilder(URI.create(http.base() + LAYER + "?step=2"))
                        .POST(HttpRequest.BodyPublishers.fromPublisher(chunks(big))).build();
                chunked += http.send(request).status() == 413 ? 1 : 0;
            }
            assertThat(declared).as("413s received for a declared-too-large body").isEqualTo(150);
            assertThat(chunked).as("413s received for a chunked too-large body").isEqualTo(150);
            assertThat(http.get("/v1/runs").json().get("runs")).isEmpty();
            // The same for the thresholds document (refused after 16 KiB; 8 MB, where the old code lost answers).
            assertThat(http.post("/v1/runs/cfg/layers/fc/batches?step=1", good(10, 16, 2)).status()).isEqualTo(202);
            TestServers.settle(service);
            byte[] hugeConfig = ("{\"warmup\": 3, \"pad\": \"" + "x".repeat(8 << 20) + "\"}").getBytes();
            int configs = 0;
            for (int i = 0; i < 30; i++) {
                HttpRequest put = HttpRequest.newBuilder(URI.create(http.base() + "/v1/runs/cfg/alert-config"))
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(hugeConfig)).build();
                configs += http.send(put).status() == 413 ? 1 : 0;
            }
            assertThat(configs).as("413s received for a too-large alert-config").isEqualTo(30);
            assertThat(http.get("/v1/runs/cfg/alert-config").json().get("warmup").asInt()).isEqualTo(8);
        }
    }

    /** A body published in small chunks without a Content-Length. */
    private static Flow.Publisher<ByteBuffer> chunks(byte[] data) {
        return subscriber -> subscriber.onSubscribe(new Flow.Subscription() {
            int at;
            boolean done;

            @Override
            public void request(long n) {
                for (long i = 0; i < n && !done; i++) {
                    if (at >= data.length) {
                        done = true;
                        subscriber.onComplete();
                        return;
                    }
                    int len = Math.min(4096, data.length - at);
                    subscriber.onNext(ByteBuffer.wrap(data, at, len));
                    at += len;
                }
            }

            @Override
            public void cancel() {
                done = true;
            }
        });
    }

    @Test
    void tokenIsRequiredForWritesAndOptionallyForReads() throws IOException {
        String token = "0123456789abcdef-secret";
        MonitorConfig config = TestServers.manualRefresh(WindowMode.CUMULATIVE, 0);
        ServerConfig writesOnly = new ServerConfig("127.0.0.1", 0, Optional.of(token.getBytes()), false, config);
        try (MonitorService service = MonitorService.create(writesOnly, new EjmlEigenSolver()).start()) {
            Http anonymous = new Http(service.server().baseUrl());
            Http wrong = anonymous.withToken("0123456789abcdef-secreT");
            Http right = anonymous.withToken(token);
            for (Http h : new Http[] {anonymous, wrong}) {
                Http.Response r = h.post(LAYER + "?step=1", good(20, 8, 6));
                assertThat(r.status()).isEqualTo(401);
                assertThat(r.json().get("error").asText()).isEqualTo("unauthorized");
                assertThat(r.headers().firstValue("WWW-Authenticate")).isPresent();
                assertThat(h.delete("/v1/runs/bad").status()).isEqualTo(401);
            }
            assertThat(anonymous.get("/v1/runs").json().get("runs").size()).isZero();
            assertThat(right.post(LAYER + "?step=1", good(20, 8, 6)).status()).isEqualTo(202);
            assertThat(anonymous.get("/metrics").status()).isEqualTo(200);
            assertThat(anonymous.get("/metrics").body()).contains("alphawatch_ingest_rejected_total{reason=\"unauthorized\"} 4.0");
        }
        ServerConfig all = new ServerConfig("127.0.0.1", 0, Optional.of(token.getBytes()), true, config);
        try (MonitorService service = MonitorService.create(all, new EjmlEigenSolver()).start()) {
            Http anonymous = new Http(service.server().baseUrl());
            assertThat(anonymous.get("/v1/runs").status()).isEqualTo(401);
            assertThat(anonymous.get("/metrics").status()).isEqualTo(401);
            // Every route goes through the one check: the alert routes' refusals are counted and
            // carry WWW-Authenticate like the others.
            Http.Response alerts = anonymous.get("/v1/alerts");
            assertThat(alerts.status()).isEqualTo(401);
            assertThat(alerts.headers().firstValue("WWW-Authenticate")).isPresent();
            assertThat(anonymous.withToken(token).get("/metrics").body())
                    .contains("alphawatch_ingest_rejected_total{reason=\"unauthorized\"} 3.0");
            assertThat(anonymous.withToken(token).get("/metrics").status()).isEqualTo(200);
            assertThat(anonymous.get("/healthz").status()).isEqualTo(200);
        }
    }

    /** With the pipeline stalled, the third batch finds the 2-batch queue full: 429 with Retry-After. */
    @Test
    void fullQueueAnswers429WithRetryAfterAndLosesNothingAccepted() throws Exception {
        ExecutorService worker = Executors.newSingleThreadExecutor();
        CountDownLatch release = new CountDownLatch(1);
        worker.submit(() -> {
            release.await();
            return null;
        });
        Scheduler stalled = Schedulers.fromExecutorService(worker);
        MonitorConfig config = TestServers.manualRefresh(WindowMode.CUMULATIVE, 0).withQueue(2, 1L << 20);
        MonitorMetrics metrics = new MonitorMetrics();
        Monitor monitor = new Monitor(config, new EjmlEigenSolver(), metrics, stalled, Schedulers.immediate(),
                Schedulers.single());
        metrics.bind(monitor);
        try (AlphawatchServer server = new AlphawatchServer(ServerConfig.local(0, config), monitor, metrics, "ejml").start()) {
            Http http = new Http(server.baseUrl());
            assertThat(http.post(LAYER + "?step=1", good(50, 8, 7)).status()).isEqualTo(202);
            assertThat(http.post(LAYER + "?step=2", good(50, 8, 8)).status()).isEqualTo(202);
            Http.Response full = http.post(LAYER + "?step=3", good(50, 8, 9));
            assertThat(full.status()).isEqualTo(429);
            assertThat(full.headers().firstValue("Retry-After")).contains("1");
            assertThat(full.json().get("error").asText()).isEqualTo("queue_full");
            assertThat(http.get("/metrics").body()).contains("alphawatch_queue_batches 2.0");
            release.countDown();
            assertThat(monitor.awaitIdle(Duration.ofSeconds(10))).isTrue();
            monitor.refreshAll();
            assertThat(monitor.awaitIdle(Duration.ofSeconds(10))).isTrue();
            assertThat(http.get("/v1/runs/bad/layers/fc/spectrum").json().get("samples").asLong()).isEqualTo(100);
        } finally {
            monitor.close();
            worker.shutdownNow();
        }
    }
}
