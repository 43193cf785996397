package org.alphawatch.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.TestServers;
import org.alphawatch.train.SyntheticCode;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The [live] acceptance scenario against the real server with its defaults (sliding window sized
 * from the width, detector on): a stationary stream (population spectrum n^-1.2, d = 256, 128-row
 * float32 batches, 600 batches) gives a history whose every point is within 0.25 of 1.2 and no
 * alert; switching the same stream to n^-2.2 raises alpha_shift within 40,000 samples. A refresh
 * is requested after every batch (more often than any timer would), so every window the stream
 * passes through is a candidate for history.
 */
@Tag("slow")
class LiveSignalTest {
    private static final int DIMS = 256;
    private static final int ROWS = 128;

    @Test
    void stationaryStreamIsSteadyAndASwitchIsCaught() throws Exception {
        MonitorConfig config = MonitorConfig.defaults().withRefresh(ROWS, Duration.ZERO);
        try (MonitorService service = TestServers.start(config)) {
            Http http = new Http(service.server().baseUrl());
            SyntheticCode code = new SyntheticCode(DIMS, 1.2, 42);
            float[] rows = new float[ROWS * DIMS];
            String path = "/v1/runs/live/layers/fc/batches?step=";
            for (int b = 0; b < 600; b++) {
                code.fill(rows, ROWS);
                assertThat(http.post(path + b, NpyWriter.toBytes(rows, ROWS, DIMS)).status()).isEqualTo(202);
            }
            TestServers.settle(service);
            JsonNode history = http.get("/v1/runs/live/layers/fc/history").json().get("history");
            assertThat(history.size()).as("mature refreshes (coalesced while one runs)").isGreaterThan(10);
            List<Double> alphas = new ArrayList<>();
            history.forEach(p -> alphas.add(p.get("alpha").asDouble()));
            assertThat(alphas).allSatisfy(a -> assertThat(a).isBetween(1.2 - 0.25, 1.2 + 0.25));
            history.forEach(p -> assertThat(p.get("window_samples").asLong()).isGreaterThanOrEqualTo(10L * DIMS));
            assertThat(http.get("/v1/alerts").json().get("alerts").size()).as("alerts on a stationary stream").isZero();
            System.out.printf("stationary: %d history points, alpha %.3f..%.3f%n", alphas.size(),
                    alphas.stream().mapToDouble(Double::doubleValue).min().orElseThrow(),
                    alphas.stream().mapToDouble(Double::doubleValue).max().orElseThrow());

            code.setAlpha(2.2);
            long sent = 0;
            String kind = null;
            for (int b = 600; b < 600 + 40_000 / ROWS && kind == null; b++) {
                code.fill(rows, ROWS);
                assertThat(http.post(path + b, NpyWriter.toBytes(rows, ROWS, DIMS)).status()).isEqualTo(202);
                sent += ROWS;
                if (b % 8 == 0) {
                    TestServers.settle(service);
                    for (JsonNode a : http.get("/v1/alerts").json().get("alerts")) {
                        if (a.get("kind").asText().equals("alpha_shift")) {
                            kind = a.get("kind").asText();
                            System.out.println("after " + sent + " samples: " + a.get("message").asText());
                        }
                    }
                }
            }
            assertThat(kind).as("alpha_shift within 40,000 samples of the switch").isEqualTo("alpha_shift");
        }
    }
}
