package org.alphawatch.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Test;

/**
 * The HTTP handlers under random input with a fixed budget: every answer is 202 or a JSON 4xx with
 * error and detail, never a 5xx; a reference layer's state is untouched; stalled uploads are cut off.
 */
class HostileInputTest {
    private static final Set<Integer> ALLOWED = Set.of(202, 400, 404, 405, 413, 415, 429);

    /**
     * Random names, parameters and bodies (random bytes, mutated and truncated arrays, arrays of
     * random widths), a quarter of them aimed at the reference layer keep/fc. Afterwards keep/fc
     * holds exactly its first batch plus the requests that were answered 202, in order (replayed
     * into a fresh server): refused requests changed nothing.
     */
    @Test
    void randomRequestsNeverBreakTheServer() throws Exception {
        MonitorConfig config = TestServers.manualRefresh(WindowMode.CUMULATIVE, 0)
                .withLimits(256 * 1024, 1L << 30, 8, 16, 4096);
        byte[] good = NpyWriter.toBytes(TestServers.layerData(1, 0, 0, 100, 16), 100, 16);
        List<byte[]> acceptedForKeep = new ArrayList<>();
        JsonNode after;
        int refusedForKeep = 0;
        try (MonitorService service = TestServers.start(config)) {
            Http http = new Http(service.server().baseUrl());
            assertThat(http.post("/v1/runs/keep/layers/fc/batches?step=0", good).status()).isEqualTo(202);
            TestServers.settle(service);

            Random r = new Random(75);
            String[] names = {"fc", "ref", "h1", "\u00e9t\u00e9", "a/b", "..", "%2e%2e", "x".repeat(65), "", "-x",
                "\u0000", "a b", "run:1", "<script>"};
            for (int i = 0; i < 400; i++) {
                boolean keep = r.nextInt(4) == 0;
                String run = keep ? "keep" : names[r.nextInt(names.length)];
                String layer = keep ? "fc" : names[r.nextInt(names.length)];
                String query = switch (r.nextInt(6)) {
                    case 0 -> "";
                    case 1 -> "?step=" + r.nextInt(1000);
                    case 2 -> "?step=-1";
                    case 3 -> "?step=1&kind=" + (r.nextBoolean() ? "probe" : "zz") + "&repeat=" + r.nextInt(3);
                    case 4 -> "?step=" + Long.MAX_VALUE + "9";
                    default -> "?step=2&step=3";
                };
                byte[] body;
                switch (r.nextInt(4)) {
                    case 0 -> {
                        body = new byte[r.nextInt(2000)];
                        r.nextBytes(body);
                    }
                    case 1 -> {
                        body = good.clone();
                        for (int k = 0; k < 1 + r.nextInt(6); k++) {
                            body[r.nextInt(body.length)] = (byte) r.nextInt(256);
                        }
                    }
                    case 2 -> body = java.util.Arrays.copyOf(good, r.nextInt(good.length));
                    default -> {
                        int cols = r.nextInt(3) == 0 ? 16 : 1 + r.nextInt(40);
                        body = NpyWriter.toBytes(TestServers.layerData(2, 0, i, 20, cols), 20, cols);
                    }
                }
                String path = "/v1/runs/" + URLEncoder.encode(run, StandardCharsets.UTF_8) + "/layers/"
                        + URLEncoder.encode(layer, StandardCharsets.UTF_8) + "/batches" + query;
                Http.Response res;
                try {
                    res = http.post(path, body, r.nextInt(10) == 0 ? "text/plain" : "application/octet-stream");
                } catch (IllegalArgumentException badUri) {
                    continue; // the client refuses to build this URI: nothing reaches the server
                }
                assertThat(res.status()).as(path).isIn(ALLOWED);
                if (res.status() != 202) {
                    JsonNode err = res.json();
                    assertThat(err.get("error").asText()).as(path).isNotBlank();
                    assertThat(err.get("detail").asText()).as(path).isNotBlank();
                    refusedForKeep += keep ? 1 : 0;
                } else if (keep && res.json().get("kind").asText().equals("train")
                        && !res.json().has("repeat")) {
                    acceptedForKeep.add(body);
                }
            }
            TestServers.settle(service);
            assertThat(http.get("/healthz").status()).isEqualTo(200);
            after = http.get("/v1/runs/keep/layers/fc/spectrum").json();
        }
        assertThat(refusedForKeep).as("refused requests aimed at the reference layer").isGreaterThan(30);
        try (MonitorService reference = TestServers.start(config)) {
            Http http = new Http(reference.server().baseUrl());
            assertThat(http.post("/v1/runs/keep/layers/fc/batches?step=0", good).status()).isEqualTo(202);
            for (byte[] b : acceptedForKeep) {
                assertThat(http.post("/v1/runs/keep/layers/fc/batches?step=1", b).status()).isEqualTo(202);
            }
            TestServers.settle(reference);
            JsonNode expected = http.get("/v1/runs/keep/layers/fc/spectrum").json();
            assertThat(after.get("total_samples")).isEqualTo(expected.get("total_samples"));
            assertThat(after.get("eigenvalues")).isEqualTo(expected.get("eigenvalues"));
        }
    }

    @Test
    void stalledUploadsAreCutOffAndOthersAreServed() throws Exception {
        var config = ServerConfig.local(0, TestServers.manualRefresh(WindowMode.CUMULATIVE, 0))
                .withReadTimeout(Duration.ofSeconds(1));
        try (MonitorService service = MonitorService.create(config, new org.alphawatch.core.spectrum.EjmlEigenSolver())
                .start(); Socket socket = new Socket("127.0.0.1", service.server().port())) {
            socket.setSoTimeout(15_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/runs/slow/layers/fc/batches?step=1 HTTP/1.1\r\nHost: x\r\n"
                    + "Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[100]);
            out.flush();
            long start = System.nanoTime();
            InputStream in = socket.getInputStream();
            byte[] buf = new byte[4096];
            int first = 0;
            int n;
            while ((n = in.read(buf, first, buf.length - first)) > 0) {
                first += n;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            // The read timeout (1 s) answers 408; the request timeout (10 s) would close without it.
            String answer = new String(java.util.Arrays.copyOf(buf, Math.max(0, first)), StandardCharsets.US_ASCII);
            assertThat(answer).startsWith("HTTP/1.1 408").contains("\"error\":\"read_timeout\"");
            assertThat(seconds).as("closed after the read timeout, not the request timeout").isLessThan(8);
            Http http = new Http(service.server().baseUrl());
            assertThat(http.get("/healthz").status()).isEqualTo(200);
            assertThat(http.get("/v1/runs").json().get("runs").size()).isZero();
        }
    }
}
