package org.alphawatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.server.MonitorService;
import org.alphawatch.testing.Dense;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same rows give the same alpha interval offline ({@code analyze}) and served (cumulative
 * window, the default 8 groups), however the rows were cut into batches: both put row i in group
 * (i / 256) mod 8. Equal to 1e-9 (both sum the same groups; only the merge order differs).
 */
class IntervalAgreementTest {
    @Test
    void analyzeAndServeAgreeOnTheSameRows(@TempDir Path dir) throws Exception {
        int d = 96;
        int n = 5000;
        double[] x = Dense.powerLawSamples(new Random(3), n, d, 1.4);
        Path file = dir.resolve("rows.npy");
        Files.write(file, NpyWriter.toBytes(x, n, d));
        AnalyzeCommandTest.Result offline = AnalyzeCommandTest.run("analyze", file.toString(), "--json");
        assertThat(offline.status()).isZero();
        JsonNode a = new ObjectMapper().readTree(offline.out());

        try (MonitorService service = TestServers.start(TestServers.manualRefresh(WindowMode.CUMULATIVE, 0)
                .withCiGroups(8))) {
            Http http = new Http(service.server().baseUrl());
            Random cuts = new Random(4);
            int from = 0;
            int step = 0;
            while (from < n) {
                int b = Math.min(n - from, 1 + cuts.nextInt(700));
                double[] part = new double[b * d];
                System.arraycopy(x, from * d, part, 0, part.length);
                assertThat(http.post("/v1/runs/agree/layers/h/batches?step=" + step++, NpyWriter.toBytes(part, b, d))
                        .status()).isEqualTo(202);
                from += b;
            }
            TestServers.settle(service);
            JsonNode s = http.get("/v1/runs/agree/layers/h/spectrum").json();
            assertThat(s.get("samples").asLong()).isEqualTo(n);
            assertThat(s.get("alpha").asDouble()).isCloseTo(a.get("alpha").asDouble(),
                    org.assertj.core.data.Offset.offset(1e-9));
            for (int i = 0; i < 2; i++) {
                assertThat(s.get("alpha_ci").get(i).asDouble()).isCloseTo(a.get("alpha_ci").get(i).asDouble(),
                        org.assertj.core.data.Offset.offset(1e-9));
            }
            System.out.println("analyze " + a.get("alpha_ci") + ", served " + s.get("alpha_ci"));
        }
    }
}
