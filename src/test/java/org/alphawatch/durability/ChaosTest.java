package org.alphawatch.durability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.testing.ExternalTools;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.ServerProcess;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash-and-chaos suite of docs/durability.md, against real server processes: SIGKILL at
 * random moments while producers ingest, a client deletes, and the log rotates every 300 ms
 * (repeated, on one state directory); a disk that fills up and frees again; inodes running out
 * during rotation; a second server on the same directory; and bodies that declare far more than
 * they send next to honest producers. Invariant everywhere: the recovered state is exactly what
 * the acknowledged requests define (up to the requests whose answer the kill cut off).
 */
@Tag("slow")
class ChaosTest {
    static final int DIMS = 20;
    private final List<Path> mounts = new ArrayList<>();

    @AfterEach
    void unmount() {
        for (Path m : mounts) {
            ExternalTools.succeeds("umount", "-l", m.toString());
        }
    }

    /** A tmpfs of the given size and inode count, mounted for this test (needs root; CI runs as root). */
    Path tmpfs(Path at, String options) throws IOException {
        Files.createDirectories(at);
        boolean ok = ExternalTools.succeeds("mount", "-t", "tmpfs", "-o", options, "tmpfs", at.toString());
        ExternalTools.requireThat(ok, "cannot mount a tmpfs (" + options + "); the disk-full scenarios need root");
        mounts.add(at);
        return at;
    }

    static double[] data(String layer, int step, int rows) {
        return TestServers.layerData(Math.abs(layer.hashCode()) % 5, 2, step, rows, DIMS);
    }

    /** Posts {@code rows} rows of {@code layer} at {@code step}; the answer's status. */
    static int post(Http http, String run, String layer, int step, int rows) {
        return http.post("/v1/runs/" + run + "/layers/" + layer + "/batches?step=" + step,
                NpyWriter.toBytes(data(layer, step, rows), rows, DIMS)).status();
    }

    static String[] wal(Path dir, String checkpointSeconds, String... more) {
        List<String> args = new ArrayList<>(List.of("--durability", "wal", "--state-dir", dir.toString(),
                "--checkpoint-seconds", checkpointSeconds, "--window", "cumulative", "--refresh-seconds", "3600",
                "--ci-groups", "1"));
        args.addAll(List.of(more));
        return args.toArray(new String[0]);
    }

    /** Samples per layer of a run, as the server lists them (0 for absent layers). */
    static Map<String, Long> samples(Http http, String run) {
        Map<String, Long> out = new TreeMap<>();
        Http.Response r = http.get("/v1/runs/" + run);
        if (r.status() == 200) {
            for (JsonNode l : r.json().get("layers")) {
                out.put(l.get("layer").asText(), l.get("total_samples").asLong());
            }
        }
        return out;
    }

    record Acked(String run, String layer, long seq, int rows) {}

    /**
     * Values a layer may hold after a crash: the rows of acknowledged batches numbered after the
     * last deletion, where that deletion is the last acknowledged one or, if a DELETE was cut off
     * by the kill, possibly a later one; plus, possibly, the batch whose answer the kill cut off.
     */
    static Set<Long> allowed(List<Acked> acked, String layer, long lastDelete, boolean deleteInFlight,
                             int inFlightRows) {
        List<Long> cuts = new ArrayList<>(List.of(lastDelete));
        if (deleteInFlight) {
            acked.stream().filter(a -> a.layer().equals(layer) && a.seq() > lastDelete).forEach(a -> cuts.add(a.seq()));
            cuts.add(Long.MAX_VALUE);
        }
        Set<Long> out = new HashSet<>();
        for (long cut : cuts) {
            long base = acked.stream().filter(a -> a.layer().equals(layer) && a.seq() > cut).mapToLong(Acked::rows).sum();
            out.add(base);
            if (inFlightRows > 0) {
                out.add(base + inFlightRows);
            }
        }
        return out;
    }

    @Test
    void killedAtRandomMomentsDuringIngestDeletesAndRotation(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("state");
        Random random = new Random(20261126);
        Map<String, Map<String, Long>> verified = new TreeMap<>(); // earlier rounds' runs: must never change
        for (int round = 0; round < 4; round++) {
            String deleted = "X" + round;
            String kept = "Z" + round;
            List<Acked> acked = new CopyOnWriteArrayList<>();
            Map<String, Integer> inFlight = new ConcurrentHashMap<>();
            List<Long> deletes = new CopyOnWriteArrayList<>();
            AtomicBoolean deleteInFlight = new AtomicBoolean();
            try (ServerProcess server = ServerProcess.start(tmp.resolve("round" + round + ".log"), "512m",
                    wal(dir, "0.3"))) {
                String url = server.url();
                AtomicBoolean dead = new AtomicBoolean();
                List<Thread> threads = new ArrayList<>();
                String[][] producers = {{deleted, "a"}, {deleted, "b"}, {kept, "c"}};
                for (String[] p : producers) {
                    threads.add(new Thread(() -> {
                        Http http = new Http(url);
                        for (int step = 0; !dead.get(); step++) {
                            int rows = 20 + step % 13;
                            inFlight.put(p[1], rows);
                            try {
                                Http.Response r = http.post("/v1/runs/" + p[0] + "/layers/" + p[1] + "/batches?step="
                                        + step, NpyWriter.toBytes(data(p[1], step, rows), rows, DIMS));
                                if (r.status() == 202) {
                                    acked.add(new Acked(p[0], p[1], r.json().get("sequence").asLong(), rows));
                                }
                                inFlight.remove(p[1]);
                            } catch (RuntimeException e) {
                                dead.set(true);
                            }
                        }
                    }));
                }
                threads.add(new Thread(() -> {
                    Http http = new Http(url);
                    while (!dead.get()) {
                        deleteInFlight.set(true);
                        try {
                            Http.Response r = http.delete("/v1/runs/" + deleted);
                            if (r.status() == 200) {
                                deletes.add(r.json().get("sequence").asLong());
                            }
                            deleteInFlight.set(false);
                            Thread.sleep(80 + random.nextInt(120));
                        } catch (RuntimeException e) {
                            dead.set(true);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }));
                threads.forEach(Thread::start);
                // A random moment measured in progress, not in wall-clock time (a loaded machine is slow).
                int killAfter = 11 + random.nextInt(60);
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
                while (acked.size() < killAfter && System.nanoTime() < deadline && server.process().isAlive()) {
                    Thread.sleep(5);
                }
                server.kill9();
                dead.set(true);
                for (Thread t : threads) {
                    t.join(30_000);
                }
            }
            assertThat(acked).hasSizeGreaterThan(10);
            try (ServerProcess back = ServerProcess.start(tmp.resolve("recovered" + round + ".log"), "512m",
                    wal(dir, "0.3"))) {
                Http http = back.http();
                for (Map.Entry<String, Map<String, Long>> e : verified.entrySet()) {
                    assertThat(samples(http, e.getKey())).as("round %d: run %s of an earlier round", round, e.getKey())
                            .isEqualTo(e.getValue());
                }
                long lastDelete = deletes.stream().mapToLong(Long::longValue).max().orElse(0);
                Map<String, Long> gotDeleted = samples(http, deleted);
                Map<String, Long> gotKept = samples(http, kept);
                for (String layer : List.of("a", "b")) {
                    assertThat(allowed(acked, layer, lastDelete, deleteInFlight.get(), inFlight.getOrDefault(layer, 0)))
                            .as("round %d layer %s", round, layer).contains(gotDeleted.getOrDefault(layer, 0L));
                }
                assertThat(allowed(acked, "c", 0, false, inFlight.getOrDefault("c", 0)))
                        .as("round %d kept layer", round).contains(gotKept.getOrDefault("c", 0L));
                System.out.printf("round %d: %d batches and %d deletes acknowledged, killed; recovered %s and %s%n",
                        round, acked.size(), deletes.size(), gotDeleted, gotKept);
                verified.put(deleted, gotDeleted);
                verified.put(kept, gotKept);
                if (round % 2 == 1) {
                    assertThat(back.terminate(30)).as("SIGTERM stops the server").isTrue();
                }
            }
        }
    }

    @Test
    void aFullDiskRefusesWhatItCannotKeepAndLosesNothingAcknowledged(@TempDir Path tmp) throws Exception {
        Path disk = tmpfs(tmp.resolve("disk"), "size=6m");
        Path filler = disk.resolve("filler");
        Files.write(filler, new byte[2_500_000]);
        Path dir = disk.resolve("state");
        long acked = 0;
        try (ServerProcess server = ServerProcess.start(tmp.resolve("full.log"), "512m", wal(dir, "3600"))) {
            Http http = server.http();
            int step = 0;
            int status = 202;
            while (status == 202 && step < 500) {
                status = post(http, "F", "a", step, 400);
                if (status == 202) {
                    acked += 400;
                }
                step++;
            }
            assertThat(status).as("the disk filled up").isEqualTo(503);
            Http.Response health = http.get("/healthz");
            assertThat(health.status()).isEqualTo(503);
            assertThat(health.json().get("status").asText()).isEqualTo("degraded");
            assertThat(health.json().get("durability").get("last_error").asText()).contains("No space left");
            assertThat(http.get("/metrics").body()).containsPattern("alphawatch_durability_wal_failures_total [1-9]");
            // A refused batch for a new layer leaves no layer behind.
            Http.Response refused = http.post("/v1/runs/F/layers/new/batches?step=0",
                    NpyWriter.toBytes(data("new", 0, 400), 400, DIMS));
            assertThat(refused.status()).isEqualTo(503);
            assertThat(refused.json().get("error").asText()).isEqualTo("not_durable");
            assertThat(samples(http, "F")).containsOnlyKeys("a");
            Files.delete(filler); // space again
            for (int i = 0; i < 10; i++, step++) {
                assertThat(post(http, "F", "a", step, 400)).isEqualTo(202);
                acked += 400;
            }
            assertThat(http.get("/healthz").status()).as("healthy again").isEqualTo(200);
            server.kill9();
        }
        try (ServerProcess back = ServerProcess.start(tmp.resolve("full-back.log"), "512m", wal(dir, "3600"))) {
            assertThat(samples(back.http(), "F")).isEqualTo(Map.of("a", acked));
        }
    }

    @Test
    void runningOutOfInodesDuringRotationDegradesButKeepsIngesting(@TempDir Path tmp) throws Exception {
        Path disk = tmpfs(tmp.resolve("inodes"), "size=64m,nr_inodes=64");
        Path dir = disk.resolve("state");
        long acked = 0;
        try (ServerProcess server = ServerProcess.start(tmp.resolve("inodes.log"), "512m", wal(dir, "0.5"))) {
            Http http = server.http();
            List<Path> fillers = new ArrayList<>();
            try {
                for (int i = 0; i < 1000; i++) {
                    Path f = disk.resolve("f" + i);
                    Files.createFile(f);
                    fillers.add(f);
                }
            } catch (IOException full) {
                // no inode left
            }
            int step = 0;
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (http.get("/healthz").status() == 200 && System.nanoTime() < deadline) {
                assertThat(post(http, "I", "a", step, 50)).isEqualTo(202);
                acked += 50;
                step++;
                Thread.sleep(50);
            }
            JsonNode health = http.get("/healthz").json();
            assertThat(health.get("status").asText()).isEqualTo("degraded");
            assertThat(health.get("durability").get("checkpoint_failures").asLong()).isPositive();
            for (int i = 0; i < 5; i++, step++) { // the current segment still takes batches
                assertThat(post(http, "I", "a", step, 50)).isEqualTo(202);
                acked += 50;
            }
            for (Path f : fillers) {
                Files.delete(f);
            }
            deadline = System.nanoTime() + 20_000_000_000L;
            while (http.get("/healthz").status() != 200 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(http.get("/healthz").status()).as("a later checkpoint succeeded").isEqualTo(200);
            server.kill9();
        }
        try (ServerProcess back = ServerProcess.start(tmp.resolve("inodes-back.log"), "512m", wal(dir, "0.5"))) {
            assertThat(samples(back.http(), "I")).isEqualTo(Map.of("a", acked));
        }
    }

    @Test
    void aSecondServerOnTheSameStateDirectoryRefusesToStart(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("state");
        try (ServerProcess first = ServerProcess.start(tmp.resolve("first.log"), "256m", wal(dir, "60"))) {
            first.url();
            try (ServerProcess second = ServerProcess.start(tmp.resolve("second.log"), "256m", wal(dir, "60"))) {
                assertThat(second.waitFor(60)).isEqualTo(2);
                assertThat(second.log()).contains("is in use by another alphawatch", "pid " + first.process().pid());
            }
            assertThat(first.http().get("/healthz").status()).isEqualTo(200);
        }
    }

    /**
     * Twenty connections that declare 67 MB bodies and send 6 bytes, a 67 MB uint8 Fortran-order
     * array that would decode to 268 MB, and a 300 MB alert configuration, next to two honest
     * producers: the producers get every batch accepted, memory stays bounded, the server lives.
     */
    @Test
    void bodiesThatDeclareOrExpandToMuchDoNotTakeMemory(@TempDir Path tmp) throws Exception {
        try (ServerProcess server = ServerProcess.start(tmp.resolve("flood.log"), "512m", "--read-timeout-seconds", "60",
                "--max-body-bytes", "80MB", "--body-memory", "128MB", "--window", "cumulative", "--refresh-seconds",
                "3600")) {
            Http http = server.http();
            float[] rows = new float[256 * 64];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = (float) Math.sin(i * 0.37);
            }
            byte[] batch = NpyWriter.toBytes(rows, 256, 64);
            for (int i = 0; i < 20; i++) { // warm up: code paths loaded, pools sized
                assertThat(http.post("/v1/runs/honest/layers/warm/batches?step=" + i, batch).status()).isEqualTo(202);
            }
            long baseline = server.rssBytes();
            java.net.URI uri = java.net.URI.create(server.url());
            List<Socket> liars = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                Socket s = new Socket(uri.getHost(), uri.getPort());
                s.getOutputStream().write(("POST /v1/runs/flood/layers/x/batches?step=1 HTTP/1.1\r\nHost: h\r\n"
                        + "Content-Type: application/octet-stream\r\nContent-Length: 67000000\r\n\r\n\u0093NUMPY")
                        .getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().flush();
                liars.add(s);
            }
            AtomicInteger accepted = new AtomicInteger();
            List<Thread> honest = new ArrayList<>();
            for (int p = 0; p < 2; p++) {
                String layer = "p" + p;
                Thread t = new Thread(() -> {
                    Http h = new Http(uri.toString());
                    for (int i = 0; i < 30; i++) {
                        if (h.post("/v1/runs/honest/layers/" + layer + "/batches?step=" + i, batch).status() == 202) {
                            accepted.incrementAndGet();
                        }
                    }
                });
                t.start();
                honest.add(t);
            }
            for (Thread t : honest) {
                t.join(60_000);
            }
            assertThat(accepted.get()).as("honest producers unaffected").isEqualTo(60);
            long afterLiars = server.rssBytes();
            // A uint8 Fortran-order array of 67 MB: 268 MB once decoded to float32, over the 128 MB budget.
            byte[] header = ("{'descr': '|u1', 'fortran_order': True, 'shape': (67000, 1000), }").getBytes(
                    StandardCharsets.ISO_8859_1);
            int headerLen = ((10 + header.length + 1 + 63) / 64) * 64 - 10;
            byte[] npy = new byte[10 + headerLen + 67_000_000];
            System.arraycopy(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                (byte) (headerLen & 0xff), (byte) (headerLen >> 8)}, 0, npy, 0, 10);
            java.util.Arrays.fill(npy, 10, 10 + headerLen, (byte) ' ');
            System.arraycopy(header, 0, npy, 10, header.length);
            npy[10 + headerLen - 1] = '\n';
            Http.Response expand = http.post("/v1/runs/flood/layers/u8/batches?step=1", npy);
            assertThat(expand.status()).as(expand.body()).isEqualTo(429);
            assertThat(expand.json().get("error").asText()).isEqualTo("body_memory");
            npy = null;
            // 300 MB of alert configuration: refused after 16 KiB.
            try (Socket s = new Socket(uri.getHost(), uri.getPort())) {
                OutputStream out = s.getOutputStream();
                out.write(("PUT /v1/runs/honest/alert-config HTTP/1.1\r\nHost: h\r\nContent-Length: 300000000\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                byte[] chunk = new byte[1 << 20];
                java.util.Arrays.fill(chunk, (byte) ' ');
                try {
                    for (int i = 0; i < 300; i++) {
                        out.write(chunk);
                    }
                } catch (IOException refused) {
                    // the server answered 413 and closed the connection
                }
                String answer = new String(s.getInputStream().readNBytes(12), StandardCharsets.ISO_8859_1);
                assertThat(answer).isEqualTo("HTTP/1.1 413");
            }
            long afterAll = server.rssBytes();
            System.out.printf("RSS: %d MB after warm-up, %d MB with 20 liars and 60 honest batches, %d MB after the "
                    + "expanding and the endless bodies%n", baseline >> 20, afterLiars >> 20, afterAll >> 20);
            assertThat(afterLiars - baseline).as("20 declared 67 MB bodies hold nothing").isLessThan(100L << 20);
            assertThat(afterAll - baseline).as("within the body budget").isLessThan(250L << 20);
            assertThat(http.post("/v1/runs/honest/layers/after/batches?step=1", batch).status()).isEqualTo(202);
            for (Socket s : liars) {
                s.close();
            }
        }
    }
}
