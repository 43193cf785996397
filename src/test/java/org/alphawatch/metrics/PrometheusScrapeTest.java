package org.alphawatch.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.server.MonitorService;
import org.alphawatch.testing.ExternalTools;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus (Debian's package) scrapes the real server with the project's own
 * docker/prometheus/prometheus.yml (target rewritten to the test server) and serves
 * alphawatch_spectrum_alpha back through its HTTP query API.
 */
@Tag("slow")
class PrometheusScrapeTest {
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void prometheusScrapesAlpha(@TempDir Path dir) throws Exception {
        Path prometheus = ExternalTools.require("prometheus", "/usr/bin/prometheus");
        try (MonitorService service = TestServers.start(
                TestServers.manualRefresh(WindowMode.CUMULATIVE, 0))) {
            Http http = new Http(service.server().baseUrl());
            double[] x = TestServers.layerData(2, 0, 0, 400, 32);
            assertThat(http.post("/v1/runs/prom/layers/fc1/batches?step=7", NpyWriter.toBytes(x, 400, 32)).status())
                    .isEqualTo(202);
            service.monitor().awaitIdle(Duration.ofSeconds(10));
            service.monitor().refreshAll();
            service.monitor().awaitIdle(Duration.ofSeconds(10));
            double alpha = http.get("/v1/runs/prom/layers/fc1/spectrum").json().get("alpha").asDouble();

            String config = Files.readString(Path.of("docker/prometheus/prometheus.yml"))
                    .replace("alphawatch:9400", "127.0.0.1:" + service.server().port())
                    .replace("scrape_interval: 5s", "scrape_interval: 1s")
                    .replace("/etc/prometheus/rules/*.yml", dir.resolve("no-rules-*.yml").toString());
            Path configFile = dir.resolve("prometheus.yml");
            Files.writeString(configFile, config);
            int port = freePort();
            Process p = new ProcessBuilder(prometheus.toString(), "--config.file=" + configFile,
                    "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port)
                    .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
            try {
                Http prom = new Http("http://127.0.0.1:" + port);
                String query = "/api/v1/query?query=" + URLEncoder.encode(
                        "alphawatch_spectrum_alpha{run=\"prom\",layer=\"fc1\"}", StandardCharsets.UTF_8);
                JsonNode result = null;
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (System.nanoTime() < deadline) {
                    try {
                        Http.Response r = prom.get(query);
                        if (r.status() == 200 && r.json().get("data").get("result").size() > 0) {
                            result = r.json().get("data").get("result").get(0);
                            break;
                        }
                    } catch (RuntimeException notUpYet) {
                        // Prometheus still starting
                    }
                    Thread.sleep(500);
                }
                assertThat(result).as("Prometheus log:\n" + Files.readString(dir.resolve("prometheus.log"))).isNotNull();
                assertThat(result.get("metric").get("job").asText()).isEqualTo("alphawatch");
                assertThat(result.get("value").get(1).asDouble()).isCloseTo(alpha, within(1e-12));
            } finally {
                p.destroy();
                p.waitFor();
            }
        }
    }
}
