package org.alphawatch.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.alphawatch.attach.LayerStream;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.testing.Dense;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.ServerProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs that end (issue 24): a sender that finished says so ({@code POST /v1/runs/{run}/end}, the
 * Java stream's and the Python client's close); the run raises no staleness alert while a run that
 * only went quiet does, shows as ended in {@code /v1/runs} and {@code /metrics}, and a later batch
 * reopens it.
 */
class EndedRunTest {
    @Test
    void anEndedRunIsNotStaleAndABatchReopensIt(@TempDir Path tmp) throws Exception {
        try (ServerProcess server = ServerProcess.start(tmp.resolve("server.log"), "256m", "--alert-stale-seconds", "1",
                "--window", "cumulative", "--refresh-seconds", "1", "--min-samples", "2")) {
            Http http = server.http();
            Random random = new Random(24);
            for (String run : new String[] {"done", "quiet"}) {
                assertThat(http.post("/v1/runs/" + run + "/layers/a/batches?step=1",
                        NpyWriter.toBytes(Dense.gaussian(random, 20, 4), 20, 4)).status()).isEqualTo(202);
            }
            try (LayerStream stream = LayerStream.http(server.url(), null, "java")) {
                assertThat(stream.send("h", 1, new float[] {1, 2, 3, 4, 2, 1, 0, 5}, 2, 4)).isTrue();
            } // close: the run is over
            Http.Response end = http.post("/v1/runs/done/end", new byte[0]);
            assertThat(end.status()).as(end.body()).isEqualTo(200);
            assertThat(end.json().get("ended").asBoolean()).isTrue();
            assertThat(http.post("/v1/runs/nosuch/end", new byte[0]).status()).isEqualTo(404);

            // The quiet run's staleness alert proves the threshold passed for all of them.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            JsonNode alerts = null;
            while (System.nanoTime() < deadline) {
                alerts = http.get("/v1/alerts").json().get("alerts");
                if (alerts.toString().contains("\"run\":\"quiet\"")) {
                    break;
                }
                Thread.sleep(100);
            }
            assertThat(alerts.toString()).contains("\"run\":\"quiet\"").contains("stale_layer");
            for (JsonNode a : alerts) {
                assertThat(a.get("run").asText()).as(a.toString()).isNotIn("done", "java");
            }
            assertThat(ended(http, "done")).isTrue();
            assertThat(ended(http, "java")).isTrue();
            assertThat(ended(http, "quiet")).isFalse();
            assertThat(http.get("/metrics").body()).contains("alphawatch_layer_ended{layer=\"a\",run=\"done\"} 1.0")
                    .contains("alphawatch_layer_ended{layer=\"a\",run=\"quiet\"} 0.0");

            assertThat(http.post("/v1/runs/done/layers/a/batches?step=2",
                    NpyWriter.toBytes(Dense.gaussian(random, 20, 4), 20, 4)).status()).isEqualTo(202);
            assertThat(ended(http, "done")).as("a batch reopens the run").isFalse();
        }
    }

    static boolean ended(Http http, String run) {
        return http.get("/v1/runs/" + run).json().get("ended").asBoolean();
    }
}
