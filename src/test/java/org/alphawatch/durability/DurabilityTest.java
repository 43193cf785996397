package org.alphawatch.durability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.server.MonitorService;
import org.alphawatch.server.ServerConfig;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recovery from checkpoints and the write-ahead log, including truncated and bit-flipped files.
 * A crash is simulated by copying the state directory while the server runs (what a crash leaves
 * on disk: acknowledged batches are fsynced before their 202).
 */
class DurabilityTest {
    static ServerConfig config(Durability.Mode mode, Path dir) {
        return ServerConfig.local(0, TestServers.manualRefresh(WindowMode.CUMULATIVE, 0))
                .withDurability(new DurabilitySettings(mode, dir, Duration.ofHours(1)));
    }

    static void post(Http http, String layer, int step, int rows) {
        double[] x = TestServers.layerData(layer.hashCode() & 7, 0, step, rows, 24);
        assertThat(http.post("/v1/runs/dur/layers/" + layer + "/batches?step=" + step, NpyWriter.toBytes(x, rows, 24))
                .status()).isEqualTo(202);
    }

    static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) {
                Files.copy(p, to.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    static JsonNode spectrum(MonitorService service, String layer) {
        TestServers.settle(service);
        return new Http(service.server().baseUrl()).get("/v1/runs/dur/layers/" + layer + "/spectrum").json();
    }

    /** The state every recovery below must reproduce: all batches, uninterrupted. */
    static JsonNode[] reference(Path dir, int batches) {
        try (MonitorService ref = MonitorService.create(config(Durability.Mode.NONE, dir), new EjmlEigenSolver()).start()) {
            Http http = new Http(ref.server().baseUrl());
            for (int i = 0; i < batches; i++) {
                post(http, i % 2 == 0 ? "a" : "b", i, 50 + i);
            }
            return new JsonNode[] {spectrum(ref, "a"), spectrum(ref, "b")};
        }
    }

    /** Batches 0..11 alternating layers a and b, with checkpoints after batches 3 and 7. */
    static void postTwelveWithCheckpoints(MonitorService service) throws Exception {
        Http http = new Http(service.server().baseUrl());
        for (int i = 0; i < 12; i++) {
            post(http, i % 2 == 0 ? "a" : "b", i, 50 + i);
            if (i == 3 || i == 7) {
                service.durability().checkpoint();
            }
        }
    }

    static void assertSameState(MonitorService service, JsonNode[] expected) {
        for (int l = 0; l < 2; l++) {
            JsonNode got = spectrum(service, l == 0 ? "a" : "b");
            assertThat(got.get("samples")).isEqualTo(expected[l].get("samples"));
            assertThat(got.get("total_samples")).isEqualTo(expected[l].get("total_samples"));
            assertThat(got.get("step_range")).isEqualTo(expected[l].get("step_range"));
            for (int i = 0; i < expected[l].get("eigenvalues").size(); i++) {
                assertThat(got.get("eigenvalues").get(i).asDouble()).isCloseTo(
                        expected[l].get("eigenvalues").get(i).asDouble(), org.assertj.core.api.Assertions.within(1e-13));
            }
        }
    }

    @Test
    void walRecoversEveryAcknowledgedBatchAcrossCheckpoints(@TempDir Path tmp) throws Exception {
        Path live = tmp.resolve("live");
        Path crashed = tmp.resolve("crashed");
        JsonNode[] expected = reference(tmp.resolve("ref"), 12);
        try (MonitorService service = MonitorService.create(config(Durability.Mode.WAL, live), new EjmlEigenSolver())
                .start()) {
            postTwelveWithCheckpoints(service);
            copy(live, crashed); // the files a crash would leave behind
        }
        try (MonitorService back = MonitorService.create(config(Durability.Mode.WAL, crashed), new EjmlEigenSolver())
                .start()) {
            assertThat(back.recovery().layers()).isEqualTo(2);
            assertThat(back.recovery().replayedRecords()).isEqualTo(4); // batches 8..11 after the last checkpoint
            assertSameState(back, expected);
            // Recovery continues the log: more batches and another recovery still add up.
            Http http = new Http(back.server().baseUrl());
            post(http, "a", 12, 70);
        }
        try (MonitorService again = MonitorService.create(config(Durability.Mode.WAL, crashed), new EjmlEigenSolver())
                .start()) {
            assertThat(spectrum(again, "a").get("samples").asLong()).isEqualTo(expected[0].get("samples").asLong() + 70);
        }
    }

    @Test
    void corruptNewestCheckpointFallsBackToThePreviousAndTheLog(@TempDir Path tmp) throws Exception {
        JsonNode[] expected = reference(tmp.resolve("ref"), 12);
        Path live = tmp.resolve("live");
        try (MonitorService service = MonitorService.create(config(Durability.Mode.WAL, live), new EjmlEigenSolver())
                .start()) {
            postTwelveWithCheckpoints(service);
            for (String damage : new String[] {"truncate", "flip"}) {
                Path crashed = tmp.resolve("crashed-" + damage);
                copy(live, crashed);
                Path newest = Checkpoints.list(crashed).get(0);
                byte[] b = Files.readAllBytes(newest);
                if (damage.equals("truncate")) {
                    Files.write(newest, java.util.Arrays.copyOf(b, b.length / 2));
                } else {
                    b[b.length / 3] ^= 0x10;
                    Files.write(newest, b);
                }
                try (MonitorService back = MonitorService.create(config(Durability.Mode.WAL, crashed),
                        new EjmlEigenSolver()).start()) {
                    assertThat(back.recovery().unusableCheckpoints()).isEqualTo(1);
                    assertThat(back.recovery().checkpoint()).isEqualTo(Checkpoints.list(crashed).get(1));
                    assertSameState(back, expected);
                }
            }
        }
    }

    @Test
    void tornOrCorruptLogTailIsTruncatedToTheLastGoodRecord(@TempDir Path tmp) throws Exception {
        Path live = tmp.resolve("live");
        JsonNode[] expectedTen = reference(tmp.resolve("ref"), 10);
        try (MonitorService service = MonitorService.create(config(Durability.Mode.WAL, live), new EjmlEigenSolver())
                .start()) {
            Http http = new Http(service.server().baseUrl());
            for (int i = 0; i < 11; i++) {
                post(http, i % 2 == 0 ? "a" : "b", i, 50 + i);
            }
            for (String damage : new String[] {"torn", "flip"}) {
                Path crashed = tmp.resolve("crashed-" + damage);
                copy(live, crashed);
                List<Path> segments = WalReader.segments(crashed);
                Path last = segments.get(segments.size() - 1);
                byte[] b = Files.readAllBytes(last);
                int lastRecord = (int) (b.length - WriteAheadLog.encodeBatch(11,
                        new org.alphawatch.pipeline.ActivationBatch(new org.alphawatch.pipeline.LayerKey("dur", "a"), 10,
                                org.alphawatch.pipeline.BatchKind.TRAIN, -1,
                                org.alphawatch.io.NpyArray.ofDoubles(new double[60 * 24], 60, 24), null)).length);
                if (damage.equals("torn")) {
                    Files.write(last, java.util.Arrays.copyOf(b, lastRecord + 100)); // a crash mid-write
                } else {
                    b[lastRecord + 50] ^= 0x01; // a flipped bit in the last record
                    Files.write(last, b);
                }
                try (MonitorService back = MonitorService.create(config(Durability.Mode.WAL, crashed),
                        new EjmlEigenSolver()).start()) {
                    assertThat(back.recovery().truncatedSegments()).isEqualTo(1);
                    assertThat(Files.size(last)).isEqualTo(lastRecord);
                    assertSameState(back, expectedTen);
                }
            }
        }
    }

    @Test
    void checkpointModeKeepsWhatTheLastCheckpointHad(@TempDir Path tmp) throws Exception {
        Path live = tmp.resolve("live");
        Path crashed = tmp.resolve("crashed");
        JsonNode[] expectedEight = reference(tmp.resolve("ref"), 8);
        try (MonitorService service = MonitorService.create(config(Durability.Mode.CHECKPOINT, live),
                new EjmlEigenSolver()).start()) {
            Http http = new Http(service.server().baseUrl());
            for (int i = 0; i < 12; i++) {
                post(http, i % 2 == 0 ? "a" : "b", i, 50 + i);
                if (i == 7) {
                    TestServers.settle(service);
                    service.durability().checkpoint();
                }
            }
            copy(live, crashed);
        }
        assertThat(WalReader.segments(crashed)).isEmpty();
        try (MonitorService back = MonitorService.create(config(Durability.Mode.CHECKPOINT, crashed),
                new EjmlEigenSolver()).start()) {
            assertSameState(back, expectedEight); // batches 8..11 came after the checkpoint: lost, as documented
        }
    }
}
