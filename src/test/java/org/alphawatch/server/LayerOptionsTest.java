package org.alphawatch.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.durability.Durability;
import org.alphawatch.durability.DurabilitySettings;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.testing.Dense;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sender chooses a layer's window and maturity in its own units (issue 23): {@code window} and
 * {@code min_samples} on the batch that creates the layer apply to that layer only, are shown in
 * the 202 and the spectrum document, do not change with later batches, and survive a crash
 * (the log's records and the checkpoint carry them). Bad values are refused naming the parameter.
 */
class LayerOptionsTest {
    static MonitorService start(Path dir) {
        MonitorConfig sliding = MonitorConfig.defaults().withWindow(WindowMode.SLIDING, 0).withRefresh(0,
                Duration.ofHours(1)).withCiGroups(4);
        ServerConfig config = ServerConfig.local(0, sliding)
                .withDurability(new DurabilitySettings(Durability.Mode.WAL, dir, Duration.ofHours(1)));
        return MonitorService.create(config, new EjmlEigenSolver()).start();
    }

    @Test
    void aSendersWindowAppliesToItsLayerAndSurvivesACrash(@TempDir Path tmp) throws Exception {
        Path live = tmp.resolve("live");
        Path crashed = tmp.resolve("crashed");
        Random random = new Random(23);
        try (MonitorService service = start(live)) {
            Http http = new Http(service.server().baseUrl());
            Http.Response first = http.post("/v1/runs/r/layers/conv/batches?step=1&window=400&min_samples=120",
                    NpyWriter.toBytes(Dense.gaussian(random, 100, 8), 100, 8));
            assertThat(first.status()).as(first.body()).isEqualTo(202);
            assertThat(first.json().get("window_samples").asLong()).isEqualTo(400);
            assertThat(first.json().get("min_samples").asLong()).isEqualTo(120);
            Http.Response later = http.post("/v1/runs/r/layers/conv/batches?step=2&window=999&min_samples=7",
                    NpyWriter.toBytes(Dense.gaussian(random, 100, 8), 100, 8));
            assertThat(later.json().get("window_samples").asLong()).as("set when the layer was created").isEqualTo(400);
            Http.Response plain = http.post("/v1/runs/r/layers/other/batches?step=1",
                    NpyWriter.toBytes(Dense.gaussian(random, 100, 8), 100, 8));
            assertThat(plain.json().get("window_samples").asLong()).as("the server's: 16 per unit").isEqualTo(128);
            assertThat(plain.json().get("min_samples").asLong()).isEqualTo(80);
            for (String[] bad : new String[][] {{"window=1", "window 1 must be within 2"},
                {"min_samples=-3", "min_samples -3"}, {"window=abc", "window 'abc' is not an integer"}}) {
                Http.Response r = http.post("/v1/runs/r/layers/x/batches?step=1&" + bad[0],
                        NpyWriter.toBytes(Dense.gaussian(random, 10, 8), 10, 8));
                assertThat(r.status()).as(bad[0]).isEqualTo(400);
                assertThat(r.json().get("detail").asText()).contains(bad[1]);
            }
            TestServers.settle(service);
            assertWindow(http, 400, 120);
            service.durability().checkpoint(); // the layer state carries them...
            http.post("/v1/runs/r/layers/late/partials?window=600&min_samples=90", org.alphawatch.io.PartialMoments.of(8,
                    3, 1, 1, new double[8], DoorsTestData.identityUpper(8)).encode()); // ...and so does the log
            Files.createDirectories(crashed);
            try (var files = Files.list(live)) {
                for (Path f : files.toList()) {
                    Files.copy(f, crashed.resolve(f.getFileName()));
                }
            }
        }
        try (MonitorService back = start(crashed)) {
            Http http = new Http(back.server().baseUrl());
            TestServers.settle(back);
            assertWindow(http, 400, 120);
            Http.Response late = http.post("/v1/runs/r/layers/late/partials", org.alphawatch.io.PartialMoments.of(8, 3,
                    2, 2, new double[8], DoorsTestData.identityUpper(8)).encode());
            assertThat(late.json().get("window_samples").asLong()).isEqualTo(600);
            assertThat(late.json().get("min_samples").asLong()).isEqualTo(90);
        }
    }

    static void assertWindow(Http http, long size, long minSamples) {
        JsonNode doc = http.get("/v1/runs/r/layers/conv/spectrum").json();
        assertThat(doc.get("window").get("size").asLong()).isEqualTo(size);
        assertThat(doc.get("min_samples").asLong()).isEqualTo(minSamples);
    }

    /** Small helpers shared with the partial-making tests. */
    static final class DoorsTestData {
        static double[] identityUpper(int d) {
            double[] u = new double[d * (d + 1) / 2];
            int k = 0;
            for (int i = 0; i < d; i++) {
                u[k] = 1;
                k += d - i;
            }
            return u;
        }
    }
}
