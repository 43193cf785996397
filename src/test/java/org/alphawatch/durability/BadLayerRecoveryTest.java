package org.alphawatch.durability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.server.MonitorService;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint that holds one unreadable layer state (what a version without the 2^53 cap wrote
 * after an attacker's partial: a window count wrapped negative, inside intact checksums) costs only
 * that layer (issue 20). Once the whole restart failed over to an older checkpoint and the second
 * started with no layers at all. Now: with an older readable copy that the log covers, every layer
 * comes back exactly; without one the start is refused naming the layer, and {@code --recover}
 * brings back every other layer exactly, skips exactly that one (its logged batches too, so it is
 * not half-rebuilt) and reports it.
 */
class BadLayerRecoveryTest {
    /** Three runs; checkpoints after rounds 1 and 2; round 3 only in the log. */
    static void ingest(MonitorService service, int round) {
        Http http = new Http(service.server().baseUrl());
        for (String[] layer : new String[][] {{"A", "x"}, {"B", "y"}, {"C", "z"}}) {
            int step = round * 10 + layer[1].charAt(0);
            post(http, layer[0], layer[1], step, 30 + round);
        }
    }

    static void post(Http http, String run, String layer, int step, int n) {
        Http.Response r = http.post("/v1/runs/" + run + "/layers/" + layer + "/batches?step=" + step,
                org.alphawatch.io.NpyWriter.toBytes(DurabilityTest.rows(layer, step, n), n, 24));
        assertThat(r.status()).as(r.body()).isEqualTo(202);
    }

    /** The crash copy of a directory after three rounds, with checkpoints after rounds 1 and 2. */
    static Path crashed(Path tmp) throws Exception {
        Path live = tmp.resolve("live");
        Path crashed = tmp.resolve("crashed");
        try (MonitorService service = DurabilityTest.start(Durability.Mode.WAL, live)) {
            for (int round = 1; round <= 3; round++) {
                ingest(service, round);
                if (round < 3) {
                    TestServers.settle(service);
                    service.durability().checkpoint();
                }
            }
            DurabilityTest.copy(live, crashed);
        }
        return crashed;
    }

    static JsonNode[] reference(Path tmp) {
        try (MonitorService ref = DurabilityTest.start(Durability.Mode.NONE, tmp.resolve("ref"))) {
            for (int round = 1; round <= 3; round++) {
                ingest(ref, round);
            }
            TestServers.settle(ref);
            Http http = new Http(ref.server().baseUrl());
            return new JsonNode[] {spectrum(http, "A", "x"), spectrum(http, "B", "y"), spectrum(http, "C", "z")};
        }
    }

    static JsonNode spectrum(Http http, String run, String layer) {
        return http.get("/v1/runs/" + run + "/layers/" + layer + "/spectrum").json();
    }

    static void assertSame(JsonNode got, JsonNode expected) {
        assertThat(got.get("total_samples")).isEqualTo(expected.get("total_samples"));
        assertThat(got.get("samples")).isEqualTo(expected.get("samples"));
        assertThat(org.alphawatch.testing.Dense.relativeError(eigenvalues(got), eigenvalues(expected)))
                .isLessThan(1e-12);
    }

    static double[] eigenvalues(JsonNode doc) {
        double[] v = new double[doc.get("eigenvalues").size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = doc.get("eigenvalues").get(i).asDouble();
        }
        return v;
    }

    /** Replaces layer {@code name}'s state in checkpoint {@code file} by one whose window count wrapped negative. */
    static void wrapCount(Path file, String name) throws IOException {
        Checkpoints.Loaded loaded = Checkpoints.read(file);
        List<byte[]> layers = new ArrayList<>();
        boolean found = false;
        for (byte[] state : loaded.layers()) {
            if (name.equals(org.alphawatch.pipeline.RecoveryPort.layerName(state))) {
                state = wrapped(state);
                found = true;
            }
            layers.add(state);
        }
        assertThat(found).as(name + " in " + file).isTrue();
        Files.delete(file);
        Checkpoints.write(file.getParent(), loaded.walStart(), layers);
    }

    static byte[] wrapped(byte[] state) {
        byte[] s = state.clone();
        ByteBuffer b = ByteBuffer.wrap(s).order(ByteOrder.LITTLE_ENDIAN);
        int at = 6;
        at += 2 + (b.getShort(at) & 0xffff); // run
        at += 2 + (b.getShort(at) & 0xffff); // layer
        at += 4 + 8; // dims, last applied sequence number
        int windowLength = b.getInt(at);
        int window = at + 4;
        b.putLong(window + 28, Long.MIN_VALUE + 17); // total samples, wrapped
        seal(s, window, windowLength);
        seal(s, 0, s.length);
        return s;
    }

    /** Re-computes the CRC32C in the last 4 bytes of {@code s[from, from + length)}: intact checksums around bad values. */
    static void seal(byte[] s, int from, int length) {
        CRC32C crc = new CRC32C();
        crc.update(s, from, length - 4);
        ByteBuffer.wrap(s).order(ByteOrder.LITTLE_ENDIAN).putInt(from + length - 4, (int) crc.getValue());
    }

    @Test
    void anUnreadableLayerIsTakenFromTheOlderCheckpointWhenTheLogCoversIt(@TempDir Path tmp) throws Exception {
        Path dir = crashed(tmp);
        List<Path> checkpoints = Checkpoints.list(dir);
        assertThat(checkpoints).hasSize(2);
        wrapCount(checkpoints.get(0), "B/y");
        JsonNode[] expected = reference(tmp);
        try (MonitorService back = DurabilityTest.start(Durability.Mode.WAL, dir)) {
            TestServers.settle(back);
            Http http = new Http(back.server().baseUrl());
            assertSame(spectrum(http, "A", "x"), expected[0]);
            assertSame(spectrum(http, "B", "y"), expected[1]);
            assertSame(spectrum(http, "C", "z"), expected[2]);
            assertThat(http.get("/healthz").json().get("status").asText()).isEqualTo("ok");
        }
    }

    @Test
    void withoutACopyTheStartIsRefusedNamingTheLayerAndRecoverSkipsExactlyIt(@TempDir Path tmp) throws Exception {
        Path dir = crashed(tmp);
        for (Path checkpoint : Checkpoints.list(dir)) {
            wrapCount(checkpoint, "B/y");
        }
        assertThatThrownBy(() -> DurabilityTest.start(Durability.Mode.WAL, dir)).hasMessageContaining("B/y")
                .hasMessageContaining("total samples").hasMessageContaining("--recover");
        JsonNode[] expected = reference(tmp);
        try (MonitorService back = MonitorService.create(DurabilityTest.config(Durability.Mode.WAL, dir, true),
                new EjmlEigenSolver()).start()) {
            TestServers.settle(back);
            Http http = new Http(back.server().baseUrl());
            assertSame(spectrum(http, "A", "x"), expected[0]);
            assertSame(spectrum(http, "C", "z"), expected[2]);
            assertThat(http.get("/v1/runs/B/layers/y/spectrum").status()).as("not half-rebuilt from the log")
                    .isEqualTo(404);
            JsonNode health = http.get("/healthz").json();
            assertThat(health.get("status").asText()).isEqualTo("recovered_with_loss");
            assertThat(health.get("durability").get("recovery_loss").asText()).contains("B/y");
        }
    }
}
