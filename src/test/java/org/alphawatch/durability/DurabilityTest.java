package org.alphawatch.durability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.server.MonitorService;
import org.alphawatch.server.ServerConfig;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recovery from checkpoints and the write-ahead log, in process: damaged records in the middle of
 * a segment, torn tails, damaged newest and older checkpoints, sequence numbers across an empty
 * checkpoint, the directory lock, and deletes racing with ingest. A crash is simulated by copying
 * the state directory while the server runs (what a crash leaves on disk: acknowledged batches are
 * fsynced before their 202). The same scenarios against real processes killed with SIGKILL, and
 * with a full disk, are in {@link ChaosTest}.
 */
class DurabilityTest {
    static ServerConfig config(Durability.Mode mode, Path dir, boolean recover) {
        return ServerConfig.local(0, TestServers.manualRefresh(WindowMode.CUMULATIVE, 0))
                .withDurability(new DurabilitySettings(mode, dir, Duration.ofHours(1), recover));
    }

    static MonitorService start(Durability.Mode mode, Path dir) {
        return MonitorService.create(config(mode, dir, false), new EjmlEigenSolver()).start();
    }

    static double[] rows(String layer, int step, int n) {
        return TestServers.layerData(layer.hashCode() & 7, 0, step, n, 24);
    }

    static long post(Http http, String run, String layer, int step, int n) {
        Http.Response r = http.post("/v1/runs/" + run + "/layers/" + layer + "/batches?step=" + step,
                NpyWriter.toBytes(rows(layer, step, n), n, 24));
        assertThat(r.status()).as(r.body()).isEqualTo(202);
        return r.json().get("sequence").asLong();
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

    /** The state every recovery below must reproduce: batches 0..n-1 (all, or all but {@code skip}). */
    static JsonNode[] reference(Path dir, int batches, int skip) {
        try (MonitorService ref = start(Durability.Mode.NONE, dir)) {
            Http http = new Http(ref.server().baseUrl());
            for (int i = 0; i < batches; i++) {
                if (i != skip) {
                    postNumbered(http, i);
                }
            }
            return new JsonNode[] {spectrum(ref, "a"), spectrum(ref, "b")};
        }
    }

    /** Batches 0..11 alternating layers a and b, with checkpoints after batches 3 and 7. */
    static void postTwelveWithCheckpoints(MonitorService service) throws Exception {
        Http http = new Http(service.server().baseUrl());
        for (int i = 0; i < 12; i++) {
            postNumbered(http, i);
            if (i == 3 || i == 7) {
                TestServers.settle(service);
                service.durability().checkpoint();
            }
        }
    }

    /** A write-ahead-logged state directory after batches 0..n-1, copied as a crash leaves it (no close). */
    static Path crashedWal(Path tmp, int batches) throws Exception {
        Path live = tmp.resolve("live");
        Path crashed = tmp.resolve("crashed");
        try (MonitorService service = start(Durability.Mode.WAL, live)) {
            Http http = new Http(service.server().baseUrl());
            for (int i = 0; i < batches; i++) {
                postNumbered(http, i);
            }
            copy(live, crashed);
        }
        return crashed;
    }

    /** Batch i of the tests' sequence: layers a and b in turn, 50 + i rows, at step i. */
    static void postNumbered(Http http, int i) {
        post(http, "dur", i % 2 == 0 ? "a" : "b", i, 50 + i);
    }

    static void assertSameState(MonitorService service, JsonNode[] expected) {
        for (int l = 0; l < 2; l++) {
            JsonNode got = spectrum(service, l == 0 ? "a" : "b");
            assertThat(got.get("samples")).isEqualTo(expected[l].get("samples"));
            assertThat(got.get("total_samples")).isEqualTo(expected[l].get("total_samples"));
            for (int i = 0; i < expected[l].get("eigenvalues").size(); i++) {
                assertThat(got.get("eigenvalues").get(i).asDouble()).isCloseTo(
                        expected[l].get("eigenvalues").get(i).asDouble(), org.assertj.core.api.Assertions.within(1e-13));
            }
        }
    }

    /** Byte offsets of the records of a version-2 segment. */
    static List<Long> recordOffsets(Path segment) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(segment)).order(ByteOrder.LITTLE_ENDIAN);
        List<Long> out = new ArrayList<>();
        long p = WriteAheadLog.HEADER_BYTES;
        while (p + 8 <= b.capacity()) {
            out.add(p);
            p += 8 + b.getInt((int) p);
        }
        return out;
    }

    @Test
    void walRecoversEveryAcknowledgedBatchAcrossCheckpointsAndCrashesAgain(@TempDir Path tmp) throws Exception {
        Path live = tmp.resolve("live");
        JsonNode[] expected = reference(tmp.resolve("ref"), 12, -1);
        try (MonitorService service = start(Durability.Mode.WAL, live)) {
            postTwelveWithCheckpoints(service);
            copy(live, tmp.resolve("crashed"));
        }
        Path crashedTwice = tmp.resolve("crashed-twice");
        try (MonitorService back = start(Durability.Mode.WAL, tmp.resolve("crashed"))) {
            assertThat(back.recovery().layers()).isEqualTo(2);
            assertThat(back.recovery().replayedRecords()).isEqualTo(4); // batches 8..11 after the last checkpoint
            assertSameState(back, expected);
            post(new Http(back.server().baseUrl()), "dur", "a", 12, 70);
            copy(tmp.resolve("crashed"), crashedTwice); // a second crash, no graceful close in between
        }
        try (MonitorService again = start(Durability.Mode.WAL, crashedTwice)) {
            assertThat(spectrum(again, "a").get("samples").asLong()).isEqualTo(expected[0].get("samples").asLong() + 70);
        }
    }

    @Test
    void aDamagedCheckpointFallsBackOnlyWhenNothingIsLost(@TempDir Path tmp) throws Exception {
        JsonNode[] expected = reference(tmp.resolve("ref"), 12, -1);
        Path live = tmp.resolve("live");
        try (MonitorService service = start(Durability.Mode.WAL, live)) {
            postTwelveWithCheckpoints(service);
            // wal: the newest checkpoint damaged, the log covers everything since the older one: lossless.
            for (String damage : new String[] {"truncate", "flip"}) {
                Path crashed = tmp.resolve("crashed-" + damage);
                copy(live, crashed);
                damage(Checkpoints.list(crashed).get(0), damage);
                try (MonitorService back = start(Durability.Mode.WAL, crashed)) {
                    assertThat(back.recovery().unusableCheckpoints()).isEqualTo(1);
                    assertThat(back.recovery().checkpoint()).isEqualTo(Checkpoints.list(crashed).get(1));
                    assertSameState(back, expected);
                    assertThat(healthz(back).get("durability").get("recovery_loss").isNull()).isTrue();
                }
            }
            // The older one damaged: the newest is used, nothing said.
            Path older = tmp.resolve("crashed-older");
            copy(live, older);
            damage(Checkpoints.list(older).get(1), "flip");
            try (MonitorService back = start(Durability.Mode.WAL, older)) {
                assertThat(back.recovery().unusableCheckpoints()).isZero();
                assertSameState(back, expected);
            }
            // Both damaged: refused, naming both files; nothing in the directory changed.
            Path both = tmp.resolve("crashed-both");
            copy(live, both);
            for (Path p : Checkpoints.list(both)) {
                damage(p, "flip");
            }
            Map<String, byte[]> before = contents(both);
            assertThatThrownBy(() -> start(Durability.Mode.WAL, both)).hasMessageContaining("2 unusable checkpoint(s)")
                    .hasMessageContaining("refusing to start").hasMessageContaining("--recover");
            Map<String, byte[]> after = contents(both);
            assertThat(after).containsOnlyKeys(before.keySet().toArray(new String[0]));
            before.forEach((name, bytes) -> assertThat(after.get(name)).as(name).isEqualTo(bytes));
            // --recover: starts from what the log still has, and says what was lost.
            try (MonitorService back = MonitorService.create(config(Durability.Mode.WAL, both, true),
                    new EjmlEigenSolver()).start()) {
                String loss = healthz(back).get("durability").get("recovery_loss").asText();
                assertThat(loss).contains("2 unusable checkpoint(s)", "no usable checkpoint is left", "checkpoint-");
                // /healthz needs no token: files are named relative to the state directory.
                assertThat(loss).doesNotContain(both.toString()).doesNotContain(tmp.toString());
            }
        }
    }

    @Test
    void checkpointModeRefusesToFallBackSilently(@TempDir Path tmp) throws Exception {
        Path live = tmp.resolve("live");
        JsonNode[] expectedEight = reference(tmp.resolve("ref"), 8, -1);
        JsonNode[] expectedFour = reference(tmp.resolve("ref4"), 4, -1);
        try (MonitorService service = start(Durability.Mode.CHECKPOINT, live)) {
            postTwelveWithCheckpoints(service);
            copy(live, tmp.resolve("crashed"));
            copy(live, tmp.resolve("damaged"));
        }
        assertThat(WalReader.segments(tmp.resolve("crashed"))).isEmpty();
        try (MonitorService back = start(Durability.Mode.CHECKPOINT, tmp.resolve("crashed"))) {
            assertSameState(back, expectedEight); // batches 8..11 came after the checkpoint: lost, as documented
        }
        Path damaged = tmp.resolve("damaged");
        damage(Checkpoints.list(damaged).get(0), "flip");
        assertThatThrownBy(() -> start(Durability.Mode.CHECKPOINT, damaged))
                .hasMessageContaining("would lose the batches after it").hasMessageContaining("keeps no log");
        try (MonitorService back = MonitorService.create(config(Durability.Mode.CHECKPOINT, damaged, true),
                new EjmlEigenSolver()).start()) {
            assertSameState(back, expectedFour);
        }
    }

    /** A flipped bit in a record in the middle of a segment: refused, nothing deleted; --recover drops exactly it. */
    @Test
    void corruptionInTheMiddleOfTheLogIsRefusedOrSkippedExactly(@TempDir Path tmp) throws Exception {
        Path crashed = crashedWal(tmp, 12);
        List<Path> segments = WalReader.segments(crashed);
        Path segment = segments.get(segments.size() - 1);
        List<Long> offsets = recordOffsets(segment);
        assertThat(offsets).hasSize(12);
        byte[] b = Files.readAllBytes(segment);
        long fifth = offsets.get(4);
        b[(int) fifth + 40] ^= 0x04;
        Files.write(segment, b);
        assertThatThrownBy(() -> start(Durability.Mode.WAL, crashed))
                .hasMessageContaining(segment.getFileName().toString())
                .hasMessageContaining("offset " + fifth).hasMessageContaining("intact records follow")
                .hasMessageContaining("--recover");
        assertThat(Files.readAllBytes(segment)).as("refusing deletes nothing").isEqualTo(b);
        JsonNode[] withoutFifth = reference(tmp.resolve("ref"), 12, 4);
        try (MonitorService back = MonitorService.create(config(Durability.Mode.WAL, crashed, true),
                new EjmlEigenSolver()).start()) {
            assertThat(back.recovery().skippedRegions()).isEqualTo(1);
            assertThat(back.recovery().skippedBytes()).isEqualTo(offsets.get(5) - fifth);
            assertThat(back.recovery().replayedRecords()).isEqualTo(11);
            assertSameState(back, withoutFifth);
            assertThat(healthz(back).get("durability").get("recovery_loss").asText()).contains("1 damaged log region");
        }
    }

    @Test
    void aTornTailOfTheNewestSegmentIsCutOff(@TempDir Path tmp) throws Exception {
        JsonNode[] expectedTen = reference(tmp.resolve("ref"), 10, -1);
        Path crashed = crashedWal(tmp, 11);
        List<Path> segments = WalReader.segments(crashed);
        Path last = segments.get(segments.size() - 1);
        long lastRecord = recordOffsets(last).get(10);
        byte[] b = Files.readAllBytes(last);
        Files.write(last, java.util.Arrays.copyOf(b, (int) lastRecord + 100)); // a crash mid-write
        try (MonitorService back = start(Durability.Mode.WAL, crashed)) {
            assertThat(back.recovery().truncatedTails()).isEqualTo(1);
            assertThat(Files.size(last)).isEqualTo(lastRecord);
            assertSameState(back, expectedTen);
        }
    }

    /**
     * An older segment whose last write failed and could not be cut off: its successor's header
     * records the valid length, so the abandoned bytes are ignored, not taken for corruption.
     */
    @Test
    void anAbandonedTailOfAnOlderSegmentIsIgnored(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("state");
        Files.createDirectories(dir);
        byte[] one = WriteAheadLog.encodeBatch(1, batch("a", 0, 50));
        byte[] two = WriteAheadLog.encodeBatch(2, batch("b", 1, 51));
        ByteBuffer first = ByteBuffer.allocate(WriteAheadLog.HEADER_BYTES + one.length + 300);
        first.put(WriteAheadLog.header(1, -1)).put(one).put(new byte[300]); // 300 bytes of a failed write
        Files.write(dir.resolve(WriteAheadLog.segmentName(1)), first.array());
        ByteBuffer second = ByteBuffer.allocate(WriteAheadLog.HEADER_BYTES + two.length);
        second.put(WriteAheadLog.header(2, WriteAheadLog.HEADER_BYTES + one.length)).put(two);
        Files.write(dir.resolve(WriteAheadLog.segmentName(2)), second.array());
        JsonNode[] expected = reference(tmp.resolve("ref"), 2, -1);
        try (MonitorService back = start(Durability.Mode.WAL, dir)) {
            assertThat(back.recovery().replayedRecords()).isEqualTo(2);
            assertSameState(back, expected);
        }
    }

    static org.alphawatch.pipeline.ActivationBatch batch(String layer, int step, int n) {
        return org.alphawatch.pipeline.ActivationBatch.train(new org.alphawatch.pipeline.LayerKey("dur", layer), step,
                org.alphawatch.io.NpyArray.ofDoubles(rows(layer, step, n), n, 24));
    }

    /** Deleting the newest run leaves a checkpoint without layers: numbering must continue after it. */
    @Test
    void sequenceNumbersContinueAfterACheckpointWithoutLayers(@TempDir Path tmp) throws Exception {
        for (Durability.Mode mode : new Durability.Mode[] {Durability.Mode.WAL, Durability.Mode.CHECKPOINT}) {
            Path dir = tmp.resolve(mode.label());
            try (MonitorService s = start(mode, dir)) {
                Http http = new Http(s.server().baseUrl());
                post(http, "A", "h", 0, 40);
                post(http, "A", "h", 1, 40);
                assertThat(http.delete("/v1/runs/A").status()).isEqualTo(200);
            }
            long firstB;
            try (MonitorService s = start(mode, dir)) {
                assertThat(s.monitor().runs()).isEmpty();
                Http http = new Http(s.server().baseUrl());
                firstB = post(http, "B", "h", 0, 30);
                for (int i = 1; i < 5; i++) {
                    post(http, "B", "h", i, 30);
                }
                assertThat(firstB).as(mode + ": numbering goes on after the deletion").isGreaterThan(3);
            }
            try (MonitorService s = start(mode, dir)) {
                assertThat(s.monitor().runs()).as(mode.label()).containsOnlyKeys("B");
                assertThat(s.monitor().runs().get("B").get(0).totalSamples()).isEqualTo(150);
            }
        }
    }

    @Test
    void twoServersCannotShareAStateDirectory(@TempDir Path tmp) {
        Path dir = tmp.resolve("state");
        try (MonitorService first = start(Durability.Mode.WAL, dir)) {
            assertThatThrownBy(() -> start(Durability.Mode.CHECKPOINT, dir))
                    .hasMessageContaining("is in use by another alphawatch").hasMessageContaining("pid "
                            + ProcessHandle.current().pid());
            assertThat(first.monitor().ingest().offer(batch("a", 0, 10)).ok()).isTrue(); // the first one is unharmed
        }
        try (MonitorService again = start(Durability.Mode.WAL, dir)) {
            assertThat(again.monitor().runs()).containsOnlyKeys("dur");
        }
    }

    /**
     * Three producers on run X's layers while another client deletes X every 20 ms: afterwards
     * nothing is stuck in the queue, new batches are accepted, and both the live state and the state
     * recovered from a crash copy hold exactly the acknowledged batches numbered after the last
     * acknowledged deletion.
     */
    @Test
    void deletesRacingWithIngestLoseNothingAndWedgeNothing(@TempDir Path tmp) throws Exception {
        Path live = tmp.resolve("live");
        Map<String, List<long[]>> acked = new ConcurrentHashMap<>(); // layer -> (seq, rows)
        List<Long> deletions = java.util.Collections.synchronizedList(new ArrayList<>());
        try (MonitorService service = start(Durability.Mode.WAL, live)) {
            String base = service.server().baseUrl();
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> producers = new ArrayList<>();
            for (int p = 0; p < 3; p++) {
                String layer = "L" + p;
                Thread t = new Thread(() -> {
                    Http http = new Http(base);
                    for (int step = 0; !stop.get(); step++) {
                        int n = 20 + step % 7;
                        Http.Response r = http.post("/v1/runs/X/layers/" + layer + "/batches?step=" + step,
                                NpyWriter.toBytes(rows(layer, step, n), n, 24));
                        if (r.status() == 202) {
                            acked.computeIfAbsent(layer, k -> java.util.Collections.synchronizedList(new ArrayList<>()))
                                    .add(new long[] {r.json().get("sequence").asLong(), n});
                        } else {
                            assertThat(r.status()).as(r.body()).isEqualTo(429); // run_being_deleted or queue_full
                        }
                    }
                });
                t.start();
                producers.add(t);
            }
            Http admin = new Http(base);
            // Deletions race ingest: each waits for a batch acknowledged since the previous one, so
            // the race happens however fast the machine is (progress, not wall-clock time).
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            int seenBatches = 0;
            while (deletions.size() < 8 && System.nanoTime() < deadline) {
                int batches = acked.values().stream().mapToInt(List::size).sum();
                if (batches == seenBatches) {
                    Thread.sleep(2);
                    continue;
                }
                seenBatches = batches;
                Http.Response r = admin.delete("/v1/runs/X");
                if (r.status() == 200) {
                    deletions.add(r.json().get("sequence").asLong());
                } else {
                    assertThat(r.status()).isEqualTo(404);
                }
            }
            stop.set(true);
            for (Thread t : producers) {
                t.join(30_000);
            }
            assertThat(service.monitor().awaitIdle(Duration.ofSeconds(30))).isTrue();
            assertThat(service.monitor().queuedBatches()).isZero();
            assertThat(deletions).hasSize(8);
            assertExactly(service, acked, deletions);
            post(new Http(base), "Y", "h", 0, 30); // not wedged
            copy(live, tmp.resolve("crashed"));
        }
        try (MonitorService back = start(Durability.Mode.WAL, tmp.resolve("crashed"))) {
            assertExactly(back, acked, deletions);
            assertThat(back.monitor().runs()).containsKey("Y");
        }
    }

    static void assertExactly(MonitorService service, Map<String, List<long[]>> acked, List<Long> deletions) {
        long lastDelete = deletions.stream().mapToLong(Long::longValue).max().orElse(0);
        TestServers.settle(service);
        Map<String, Long> expected = new java.util.TreeMap<>();
        acked.forEach((layer, list) -> {
            long rows = 0;
            synchronized (list) {
                for (long[] a : list) {
                    rows += a[0] > lastDelete ? a[1] : 0;
                }
            }
            if (rows > 0) {
                expected.put(layer, rows);
            }
        });
        Map<String, Long> got = new java.util.TreeMap<>();
        List<org.alphawatch.pipeline.Monitor.LayerInfo> layers = service.monitor().runs().getOrDefault("X", List.of());
        for (var l : layers) {
            got.put(l.layer(), l.totalSamples());
        }
        assertThat(got).isEqualTo(expected);
    }

    static void damage(Path file, String how) throws IOException {
        byte[] b = Files.readAllBytes(file);
        if (how.equals("truncate")) {
            Files.write(file, java.util.Arrays.copyOf(b, b.length / 2));
        } else {
            b[b.length / 3] ^= 0x10;
            Files.write(file, b);
        }
    }

    static Map<String, byte[]> contents(Path dir) throws IOException {
        Map<String, byte[]> out = new java.util.TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                if (!p.getFileName().toString().equals(Durability.LOCK_FILE)) {
                    out.put(p.getFileName().toString(), Files.readAllBytes(p));
                }
            }
        }
        return out;
    }

    static JsonNode healthz(MonitorService service) {
        Http.Response r = new Http(service.server().baseUrl()).get("/healthz");
        return r.json();
    }
}
