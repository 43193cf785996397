package org.alphawatch.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.Resources;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Test;

/**
 * The public documents pinned whole: a spectrum document and the /metrics exposition of one known
 * layer (EJML, deterministic). Only what depends on the clock is masked. A renamed field, a new
 * series or a changed value makes this red; an intended change updates the golden files.
 */
class GoldenDocumentsTest {
    /** Set to rewrite the golden files after an intended change (then review the diff). */
    static final String UPDATE = "ALPHAWATCH_UPDATE_GOLDEN";

    @Test
    void theSpectrumDocumentAndTheMetricsExpositionAreTheGoldenOnes() throws Exception {
        try (MonitorService service = TestServers.start(TestServers.manualRefresh(WindowMode.CUMULATIVE, 0))) {
            Http http = new Http(service.server().baseUrl());
            assertThat(http.post("/v1/runs/golden/layers/fc/batches?step=7",
                    NpyWriter.toBytes(TestServers.layerData(3, 0, 0, 400, 12), 400, 12)).status()).isEqualTo(202);
            TestServers.settle(service);
            ObjectMapper json = new ObjectMapper();
            ObjectNode doc = (ObjectNode) json.readTree(http.get("/v1/runs/golden/layers/fc/spectrum").body());
            doc.put("refreshed_at_ms", 0).put("refresh_seconds", 0);
            compare(json.writerWithDefaultPrettyPrinter().writeValueAsString(doc) + "\n", "spectrum.json");
            List<String> lines = new ArrayList<>();
            for (String line : http.get("/metrics").body().split("\n")) {
                if (line.startsWith("#") && !line.startsWith("# TYPE") && !line.startsWith("# HELP")) {
                    continue;
                }
                // Durations and times depend on the machine: their values are masked, their series kept.
                boolean timed = line.matches("^[a-z_]*(seconds|_ms|timestamp)[a-z_]*(\\{.*})? .*");
                lines.add(timed && !line.startsWith("#") ? line.replaceAll(" [^ ]+$", " <masked>") : line);
            }
            compare(String.join("\n", lines) + "\n", "metrics.txt");
        }
    }

    private static void compare(String actual, String name) throws Exception {
        Path golden = Resources.path("golden/documents/" + name);
        if (System.getenv(UPDATE) != null) {
            Files.writeString(Path.of("src/test/resources/golden/documents", name), actual);
        }
        assertThat(actual).as(name + " (regenerate with -D" + UPDATE + "=true after an intended change)")
                .isEqualTo(Files.readString(golden));
    }
}
