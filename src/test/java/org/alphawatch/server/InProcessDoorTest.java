package org.alphawatch.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.Random;
import org.alphawatch.attach.LayerStream;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.testing.Dense;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Test;

/**
 * The in-process door and layer removal (issue 20): rows a Java program sends in the same JVM pass
 * the same checks as HTTP rows (NaN, infinity, 1e200 refused with {@code false}, counted, nothing
 * kept: the built-in trainer of a diverging run no longer poisons its window); and releasing a layer
 * (a scale-out rebalance) keeps its run's alert thresholds, which only a deletion forgets.
 */
class InProcessDoorTest {
    @Test
    void nonFiniteAndHugeRowsAreRefusedInProcessAndChangeNothing() throws Exception {
        try (MonitorService service = TestServers.start(TestServers.manualRefresh(WindowMode.CUMULATIVE, 0))) {
            LayerStream stream = LayerStream.inProcess(service.monitor(), "trainer");
            float[] good = toFloats(Dense.gaussian(new Random(3), 40, 5));
            assertThat(stream.send("h", 1, good, 40, 5)).isTrue();
            TestServers.settle(service);
            double before = service.monitor().snapshot(new LayerKey("trainer", "h")).orElseThrow().report()
                    .spectrum().trace();
            float[][] bad = new float[3][];
            float[] poison = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
            for (int i = 0; i < 3; i++) {
                bad[i] = good.clone();
                bad[i][7 + 5 * i] = poison[i];
            }
            for (float[] rows : bad) {
                assertThat(stream.send("h", 2, rows, 40, 5)).isFalse();
            }
            double[] huge = Dense.gaussian(new Random(4), 10, 5);
            huge[3] = 1e200; // beyond 1e100: its square would overflow float64 arithmetic
            assertThat(LayerStream.inProcess(service.monitor(), "trainer").send("h2", 1, toFloats(huge), 10, 5))
                    .as("1e200 is infinity in float32: refused as non-finite").isFalse();
            assertThat(stream.refused()).isEqualTo(3);
            assertThat(stream.samples()).isEqualTo(40);
            TestServers.settle(service);
            assertThat(service.monitor().admittedSamples(new LayerKey("trainer", "h"))).isEqualTo(40);
            assertThat(service.monitor().snapshot(new LayerKey("trainer", "h")).orElseThrow().report().spectrum()
                    .trace()).isEqualTo(before);
            assertThat(service.monitor().hasLayer(new LayerKey("trainer", "h2"))).as("no layer for refused rows")
                    .isFalse();
            assertThat(TestServers.rejected(service, "non_finite")).isEqualTo(4);
        }
    }

    @Test
    void releasingALayerKeepsItsRunsAlertThresholdsDeletingForgetsThem() throws Exception {
        try (MonitorService service = TestServers.start(TestServers.manualRefresh(WindowMode.CUMULATIVE, 0))) {
            Http http = new Http(service.server().baseUrl());
            http.post("/v1/runs/r/layers/a/batches?step=1", org.alphawatch.io.NpyWriter.toBytes(
                    Dense.gaussian(new Random(5), 30, 4), 30, 4));
            http.post("/v1/runs/r/layers/b/batches?step=1", org.alphawatch.io.NpyWriter.toBytes(
                    Dense.gaussian(new Random(6), 30, 4), 30, 4));
            TestServers.settle(service);
            assertThat(put(http, "r", "{\"warmup\": 3, \"min_shift\": 0.25}").status()).isEqualTo(200);
            // A refused threshold body is a refusal like any other: counted once, by its reason.
            double before = TestServers.rejected(service, "bad_parameter");
            assertThat(put(http, "r", "{\"warmup\": -1}").status()).isEqualTo(400);
            assertThat(TestServers.rejected(service, "bad_parameter")).isEqualTo(before + 1);
            // A rebalance moves layer a to another worker: thresholds of its run stay.
            service.monitor().recovery().releaseLayers(k -> k.layer().equals("a"));
            assertThat(http.get("/v1/runs/r/alert-config").json().get("warmup").asInt()).isEqualTo(3);
            service.monitor().recovery().releaseLayers(k -> true);
            assertThat(http.get("/v1/runs/r/alert-config").json().get("min_shift").asDouble()).isEqualTo(0.25);
            // The run comes back (the partition returns); then a deletion forgets.
            http.post("/v1/runs/r/layers/a/batches?step=2", org.alphawatch.io.NpyWriter.toBytes(
                    Dense.gaussian(new Random(7), 30, 4), 30, 4));
            TestServers.settle(service);
            assertThat(http.get("/v1/runs/r/alert-config").json().get("warmup").asInt()).isEqualTo(3);
            assertThat(http.delete("/v1/runs/r").status()).isEqualTo(200);
            assertThat(http.get("/v1/runs/r/alert-config").json().get("warmup").asInt()).as("the default").isEqualTo(8);
        }
    }

    private static Http.Response put(Http http, String run, String body) {
        return http.send(java.net.http.HttpRequest.newBuilder(URI.create(http.base() + "/v1/runs/" + run
                + "/alert-config")).PUT(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build());
    }

    static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

}
