package org.alphawatch.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.server.MonitorService;
import org.alphawatch.testing.Chromium;
import org.alphawatch.testing.ExternalTools;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live page in a real headless Chromium against the real server: it loads, its plots draw the
 * server's data, an SSE update reaches it, and a screenshot is kept in target/screenshots.
 */
@Tag("slow")
class LivePageTest {
    static void deleteQuietly(Path root) {
        try (var paths = Files.walk(root)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (java.io.IOException e) {
            // best effort: a temporary directory
        }
    }

    @Test
    void pageDrawsRealDataAndFollowsTheEventStream(@TempDir Path dir) throws Exception {
        Path chromium = ExternalTools.require("chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser");
        try (MonitorService service = TestServers.start(TestServers.manualRefresh(WindowMode.CUMULATIVE, 0).withCiGroups(4))) {
            Http http = new Http(service.server().baseUrl());
            for (int step = 0; step < 4; step++) {
                for (String layer : new String[] {"h1", "h2"}) {
                    double[] x = TestServers.layerData(layer.equals("h1") ? 1 : 3, 0, step, 200, 48);
                    assertThat(http.post("/v1/runs/page/layers/" + layer + "/batches?step=" + (100 * step),
                            NpyWriter.toBytes(x, 200, 48)).status()).isEqualTo(202);
                }
                TestServers.settle(service);
            }
            for (int n : new int[] {32, 64, 128}) {
                assertThat(http.post("/v1/runs/page/layers/h1/batches?step=300&kind=probe", TestServers.probeBody(n, 48, 7)).status())
                        .isEqualTo(202);
            }
            TestServers.settle(service);
            assertThat(http.get("/").body()).contains("<title>alphawatch</title>", "/page/app.js");

            // The browser profile lives outside the JUnit temporary directory: a helper process that
            // lingers for a moment must not turn cleanup into a test error.
            Path profileRoot = Files.createTempDirectory("alphawatch-chromium");
            try (Chromium browser = Chromium.launch(chromium, profileRoot.resolve("profile"))) {
                browser.navigate(service.server().baseUrl() + "/");
                double spectrum = browser.waitForNumber("document.getElementById('spectrum').dataset.points", 0,
                        Duration.ofSeconds(30));
                assertThat(spectrum).as("eigenvalues drawn").isEqualTo(48 + 2);
                assertThat(browser.waitForNumber("document.getElementById('history').dataset.points", 0,
                        Duration.ofSeconds(10))).as("alpha history: 4 refreshes of h2, 5 of h1 (the probes refreshed it)")
                        .isEqualTo(9);
                assertThat(browser.waitForNumber("document.getElementById('trajectory').dataset.points", 0,
                        Duration.ofSeconds(10))).as("probe trajectory points").isEqualTo(129);
                String facts = browser.evaluate("document.getElementById('spectrum-facts').textContent").asText();
                double alpha = http.get("/v1/runs/page/layers/h1/spectrum").json().get("alpha").asDouble();
                assertThat(facts).contains("page/h1", String.format(java.util.Locale.ROOT, "alpha %.3f", alpha));
                assertThat(browser.evaluate("document.getElementById('status').textContent").asText()).isEqualTo("live");

                // A new refresh arrives over SSE and extends the history without reloading.
                double[] x = TestServers.layerData(1, 1, 9, 200, 48);
                http.post("/v1/runs/page/layers/h1/batches?step=400", NpyWriter.toBytes(x, 200, 48));
                TestServers.settle(service);
                assertThat(browser.waitForNumber("document.getElementById('history').dataset.points", 9,
                        Duration.ofSeconds(20))).isEqualTo(10);

                byte[] png = browser.screenshot();
                Path shots = Path.of("target", "screenshots");
                Files.createDirectories(shots);
                Files.write(shots.resolve("live-page.png"), png);
                assertThat(png).startsWith(0x89, 'P', 'N', 'G');
                assertThat(png.length).isGreaterThan(20_000);
            } finally {
                deleteQuietly(profileRoot);
            }
        }
    }
}
