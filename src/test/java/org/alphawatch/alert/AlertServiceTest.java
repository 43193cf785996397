package org.alphawatch.alert;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.io.NpyArray;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.metrics.MonitorMetrics;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.pipeline.Monitor;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.pipeline.MonitorObserver;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.server.MonitorService;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Schedulers;
import reactor.test.scheduler.VirtualTimeScheduler;

class AlertServiceTest {
    @Test
    void staleLayerIsRaisedOnTheTimerInVirtualTime() {
        VirtualTimeScheduler time = VirtualTimeScheduler.create();
        MonitorMetrics metrics = new MonitorMetrics();
        AlertService alerts = new AlertService(new AlertEngine(AlertConfig.defaults(), 0), metrics, null);
        MonitorConfig config = MonitorConfig.defaults().withWindow(WindowMode.CUMULATIVE, 0)
                .withRefresh(0, Duration.ofHours(1)).withCiGroups(1).withMinSamples(2);
        try (Monitor monitor = new Monitor(config, new EjmlEigenSolver(), MonitorObserver.both(metrics, alerts),
                Schedulers.immediate(), Schedulers.immediate(), time)) {
            alerts.attach(monitor, time, Duration.ofSeconds(10));
            List<Alert> seen = new CopyOnWriteArrayList<>();
            alerts.alerts().subscribe(seen::add);
            LayerKey key = new LayerKey("vt", "h");
            monitor.ingest().offer(ActivationBatch.train(key, 1, NpyArray.ofDoubles(new double[] {1, 2, 3, 5}, 2, 2)));
            time.advanceTimeBy(Duration.ofSeconds(290));
            assertThat(seen).isEmpty();
            time.advanceTimeBy(Duration.ofSeconds(20));
            assertThat(seen).extracting(Alert::kind).containsExactly(AlertKind.STALE_LAYER);
            assertThat(alerts.recent()).hasSize(1);
            assertThat(metrics.scrape()).contains(
                    "alphawatch_alerts_total{kind=\"stale_layer\",layer=\"h\",run=\"vt\"} 1.0");
            time.advanceTimeBy(Duration.ofMinutes(30));
            assertThat(seen).hasSize(1); // once per silence
        } finally {
            alerts.close();
        }
    }

    /** A real (JDK) HTTP server as the webhook: two failures, then success; deliveries never block. */
    @Test
    void webhookRetriesWithBackoffAndCountsDrops() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        List<String> bodies = new CopyOnWriteArrayList<>();
        HttpServer hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hook.createContext("/hook", exchange -> {
            bodies.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            int status = calls.incrementAndGet() <= 2 ? 500 : 204;
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        hook.start();
        try (WebhookSender sender = new WebhookSender(URI.create("http://127.0.0.1:" + hook.getAddress().getPort()
                + "/hook"), 4, 20)) {
            Alert a = new Alert(AlertKind.ALPHA_SHIFT, "r", "h1", 7, 1000, 2.0, 1.5, "alpha shifted");
            assertThat(sender.offer(a)).isTrue();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (sender.delivered() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(sender.delivered()).isEqualTo(1);
            assertThat(calls.get()).isEqualTo(3);
            assertThat(bodies.get(2)).contains("\"kind\":\"alpha_shift\"", "\"run\":\"r\"", "\"step\":7");
        } finally {
            hook.stop(0);
        }
        // A webhook that does not answer until the offers are done: if offer waited on the network it
        // would never return (the handler holds every request until then). The bounded queue fills
        // and further alerts are dropped at once.
        java.util.concurrent.CountDownLatch offersDone = new java.util.concurrent.CountDownLatch(1);
        HttpServer stuck = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        stuck.createContext("/", exchange -> {
            try {
                offersDone.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        stuck.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        stuck.start();
        try (WebhookSender sender = new WebhookSender(URI.create("http://127.0.0.1:" + stuck.getAddress().getPort()
                + "/"), 2, 20)) {
            Alert a = new Alert(AlertKind.STALE_LAYER, "r", "h1", -1, 0, 1, 1, "stale");
            java.util.concurrent.CompletableFuture<Void> offers = java.util.concurrent.CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 10; i++) {
                    sender.offer(a);
                }
            });
            offers.get(60, java.util.concurrent.TimeUnit.SECONDS); // returns although no request was answered
            assertThat(sender.dropped()).isBetween(7L, 8L);
            offersDone.countDown();
        } finally {
            offersDone.countDown();
            stuck.stop(0);
        }
    }

    @Test
    void alertsEndpointAndPerRunConfig() throws Exception {
        // Sliding window of 2 panes of 400 samples, one pane per batch, mature at 400.
        MonitorConfig config = TestServers.manualRefresh(WindowMode.SLIDING, 800).withCiGroups(2).withMinSamples(400);
        try (MonitorService service = TestServers.start(config)) {
            Http http = new Http(service.server().baseUrl());
            assertThat(http.get("/v1/alerts").json().get("alerts").size()).isZero();
            assertThat(put(http, "cfg", "{\"warmup\": 0}").status()).as("no such run yet").isEqualTo(404);
            http.post("/v1/runs/cfg/layers/h/batches?step=0", NpyWriter.toBytes(TestServers.layerData(0, 0, 0, 400, 32),
                    400, 32));
            TestServers.settle(service);
            Http.Response ok = put(http, "cfg", "{\"warmup\": 0, \"confirm\": 1, \"collapse_fraction\": 0.9}");
            assertThat(ok.status()).isEqualTo(200);
            assertThat(ok.json().get("warmup").asInt()).isZero();
            assertThat(http.get("/v1/runs/cfg/alert-config").json().get("collapse_fraction").asDouble()).isEqualTo(0.9);
            assertThat(http.get("/v1/runs/other/alert-config").json().get("warmup").asInt()).isEqualTo(8);
            String[][] refused = {
                {"{\"warmpu\": 3}", "unknown field 'warmpu'"},
                {"{\"collapse_fraction\": 2}", "collapse-fraction 2.0 outside (0, 1)"},
                {"{\"warmup\": 3.9}", "warmup must be an integer, got 3.9"},
                {"{\"min_shift\": \"abc\"}", "min_shift must be a finite number, got \"abc\""},
                {"{\"min_shift\": {\"a\": 1}}", "min_shift must be a finite number"},
                {"[1]", "body must be a JSON object"},
            };
            for (String[] c : refused) {
                Http.Response bad = put(http, "cfg", c[0]);
                assertThat(bad.status()).as(c[0]).isEqualTo(400);
                assertThat(bad.json().get("detail").asText()).as(c[0]).contains(c[1]);
            }
            assertThat(http.get("/v1/runs/cfg/alert-config").json().get("warmup").asInt()).as("refusals changed nothing")
                    .isZero();
            Http.Response huge = put(http, "cfg", "{\"warmup\": 1" + " ".repeat(20_000) + "}");
            assertThat(huge.status()).isEqualTo(413);

            // Collapse of the effective rank through the real pipeline: two rich panes, then a code on
            // two directions; the window [800, 1600) is compared with the disjoint [0, 800).
            for (int step = 1; step < 5; step++) {
                double[] x = step < 2 ? TestServers.layerData(0, 0, step, 400, 32) : lowRank(400, 32, step);
                http.post("/v1/runs/cfg/layers/h/batches?step=" + step, NpyWriter.toBytes(x, 400, 32));
                TestServers.settle(service);
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (http.get("/v1/alerts").json().get("alerts").size() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            var alerts = http.get("/v1/alerts?run=cfg").json().get("alerts");
            List<String> kinds = new java.util.ArrayList<>();
            alerts.forEach(a -> kinds.add(a.get("kind").asText()));
            assertThat(kinds).contains("effective_rank_collapse").doesNotHaveDuplicates();
        }
    }

    private static Http.Response put(Http http, String run, String body) {
        return http.send(java.net.http.HttpRequest.newBuilder(URI.create(http.base() + "/v1/runs/" + run
                + "/alert-config")).PUT(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build());
    }

    static double[] lowRank(int rows, int dims, long seed) {
        java.util.Random r = new java.util.Random(seed);
        double[] x = new double[rows * dims];
        for (int i = 0; i < rows; i++) {
            double a = r.nextGaussian();
            double b = r.nextGaussian();
            for (int j = 0; j < dims; j++) {
                x[i * dims + j] = a * Math.cos(j) + b * Math.sin(j) + 1e-3 * r.nextGaussian();
            }
        }
        return x;
    }
}
