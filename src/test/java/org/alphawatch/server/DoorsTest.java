package org.alphawatch.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.io.PartialMoments;
import org.alphawatch.testing.Dense;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.ServerProcess;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Partials that no rows could produce, tried as an attacker would against a real server process
 * (issue 20): counts past 2^53 (which once wrapped a layer's count negative and, through
 * checkpoints, cost every run after two restarts), co-moments of 1e300 or 1.7e308, cross
 * co-moments beyond Cauchy-Schwarz, a non-semi-definite 3 x 3 block, one sample with a co-moment.
 * In every window mode, with and without a write-ahead log: each is refused with 400 naming the
 * problem, the attacked layer and a bystander run stay exactly as they were (same count, same
 * eigenvalues), and with a log both come back exactly after a crash and after a second one.
 */
class DoorsTest {
    private static final int D = 4;

    static Stream<Arguments> modes() {
        List<Arguments> out = new ArrayList<>();
        for (String window : List.of("sliding", "cumulative", "decay")) {
            out.add(Arguments.of(window, false));
            out.add(Arguments.of(window, true));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}, wal {1}")
    @MethodSource("modes")
    void impossiblePartialsAreRefusedAndChangeNothing(String window, boolean wal, @TempDir Path tmp) throws Exception {
        Path state = tmp.resolve("state");
        try (ServerProcess server = start(tmp, window, wal, state, false)) {
            Http http = server.http();
            Random random = new Random(20 + window.length() + (wal ? 1 : 0));
            double[] victimRows = Dense.gaussian(random, 50, D);
            double[] bystanderRows = Dense.gaussian(random, 80, D);
            assertThat(http.post("/v1/runs/victim/layers/a/batches?step=1", NpyWriter.toBytes(victimRows, 50, D))
                    .status()).isEqualTo(202);
            assertThat(http.post("/v1/runs/bystander/layers/b/batches?step=1",
                    NpyWriter.toBytes(bystanderRows, 80, D)).status()).isEqualTo(202);
            JsonNode victim = settled(http, "victim", "a", 50);
            JsonNode bystander = settled(http, "bystander", "b", 80);
            if (window.equals("cumulative")) {
                assertExact(victim, victimRows, 50);
                assertExact(bystander, bystanderRows, 80);
            }

            double[] mean = {1, 2, 3, 4};
            double[] zero = new double[D * (D + 1) / 2];
            Object[][] attacks = {
                {partial(1L << 62, mean, zero), "value_out_of_range", "samples 4611686018427387904"},
                {partial(Long.MAX_VALUE, mean, zero), "value_out_of_range", "samples 9223372036854775807"},
                {partial(10, mean, diagonal(1e300)), "value_out_of_range", "exceeds what 10 samples"},
                {partial(10, mean, diagonal(1.7e308)), "value_out_of_range", "exceeds what 10 samples"},
                {partial(1, mean, diagonal(1)), "bad_npy", "a single row has no co-moment"},
                {partial(10, mean, notSemiDefinite()), "bad_npy", "not positive semi-definite"},
                {pairs(10, crossScaled(2.0)), "bad_npy", "Cauchy-Schwarz"},
                {pairs(10, jointNotSemiDefinite()), "bad_npy", "joint co-moment of the two passes"},
            };
            for (Object[] attack : attacks) {
                Http.Response r = http.post("/v1/runs/victim/layers/a/partials", (byte[]) attack[0]);
                assertThat(r.status()).as(attack[2].toString()).isEqualTo(400);
                assertThat(r.json().get("error").asText()).as(attack[2].toString()).isEqualTo(attack[1]);
                assertThat(r.json().get("detail").asText()).contains((String) attack[2]);
            }
            // Two partials that are each possible but together pass 2^53: the second is refused whole.
            long half = (1L << 52) + 1;
            assertThat(http.post("/v1/runs/victim/layers/big/partials", partial(half, mean, zero)).status())
                    .isEqualTo(202);
            Http.Response second = http.post("/v1/runs/victim/layers/big/partials", partial(half, mean, zero));
            assertThat(second.status()).isEqualTo(400);
            assertThat(second.json().get("error").asText()).isEqualTo("too_many_samples");
            assertThat(total(http, "victim", "big", half)).isEqualTo(half);

            assertThat(unchanged(settled(http, "victim", "a", 50), victim)).isTrue();
            assertThat(unchanged(settled(http, "bystander", "b", 80), bystander)).isTrue();
            assertThat(metric(http, "alphawatch_ingest_rejected_total{reason=\"too_many_samples\"}")).isEqualTo(1);
            assertThat(http.get("/healthz").status()).isEqualTo(200);
            if (!wal) {
                return;
            }
            server.kill9();
            // The failure seen before: the first restart wrote bad checkpoints, the second lost every run.
            for (int restart = 0; restart < 2; restart++) {
                try (ServerProcess again = start(tmp, window, true, state, false)) {
                    Http h = again.http();
                    assertThat(unchanged(settled(h, "victim", "a", 50), victim)).as("restart " + restart).isTrue();
                    assertThat(unchanged(settled(h, "bystander", "b", 80), bystander)).isTrue();
                    assertThat(total(h, "victim", "big", half)).isEqualTo(half);
                    assertThat(h.get("/healthz").json().get("status").asText()).isEqualTo("ok");
                    assertThat(again.terminate(60)).isTrue(); // a final checkpoint, read by the next start
                }
            }
        }
    }

    static ServerProcess start(Path tmp, String window, boolean wal, Path state, boolean recover) throws Exception {
        List<String> args = new ArrayList<>(List.of("--window", window, "--window-size", "64", "--ci-groups", "2",
                "--refresh-samples", "1", "--refresh-seconds", "0", "--min-samples", "2"));
        if (wal) {
            args.addAll(List.of("--durability", "wal", "--state-dir", state.toString(), "--checkpoint-seconds", "1"));
        }
        if (recover) {
            args.add("--recover");
        }
        ServerProcess p = ServerProcess.start(tmp.resolve("server-" + System.nanoTime() + ".log"), "256m",
                args.toArray(String[]::new));
        p.url();
        return p;
    }

    static byte[] partial(long samples, double[] mean, double[] upper) {
        return PartialMoments.of(D, samples, 1, 1, mean, upper).encode();
    }

    static double[] diagonal(double v) {
        double[] u = new double[D * (D + 1) / 2];
        int k = 0;
        for (int i = 0; i < D; i++) {
            u[k] = v;
            k += D - i;
        }
        return u;
    }

    /** Pairwise correlations 0.9, 0.9, -0.9 in the first three units: every 2 x 2 minor is fine, the 3 x 3 is not. */
    static double[] notSemiDefinite() {
        double[][] m = {{1, 0.9, 0.9, 0}, {0.9, 1, -0.9, 0}, {0.9, -0.9, 1, 0}, {0, 0, 0, 1}};
        return upper(m);
    }

    static double[] upper(double[][] m) {
        double[] u = new double[D * (D + 1) / 2];
        int k = 0;
        for (int i = 0; i < D; i++) {
            for (int j = i; j < D; j++) {
                u[k++] = m[i][j];
            }
        }
        return u;
    }

    /** Pairs with identity pass co-moments and the cross co-moment {@code cross} (row-major). */
    static byte[] pairs(long n, double[] cross) {
        double[] m = diagonal(1);
        return PartialMoments.withPairs(D, n, 1, 1, new double[D], m, n, new double[D], new double[D], m, m, cross)
                .encode();
    }

    static double[] crossScaled(double c) {
        double[] x = new double[D * D];
        x[0] = c; // |M_01[0][0]| = 2 > sqrt(1 * 1)
        return x;
    }

    /**
     * Each |cross entry| within Cauchy-Schwarz (0.8 <= 1), but the joint matrix of identity passes
     * with cross [[0.8, 0.8], [0.8, -0.8]] in its first units has the eigenvalue 1 - 0.8 sqrt(2) < 0.
     */
    static double[] jointNotSemiDefinite() {
        double[] x = new double[D * D];
        x[0] = 0.8;
        x[1] = 0.8;
        x[D] = 0.8;
        x[D + 1] = -0.8;
        return x;
    }

    /** The layer's spectrum once it reflects {@code total} samples. */
    static JsonNode settled(Http http, String run, String layer, long total) throws InterruptedException {
        long deadline = System.nanoTime() + 120_000_000_000L;
        JsonNode doc = null;
        while (System.nanoTime() < deadline) {
            Http.Response r = http.get("/v1/runs/" + run + "/layers/" + layer + "/spectrum");
            if (r.status() == 200) {
                doc = r.json();
                if (doc.get("total_samples").asLong() == total && doc.get("eigenvalues") != null) {
                    return doc;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError(run + "/" + layer + " never showed " + total + " samples: " + doc);
    }

    /** The samples the layer has applied, once they reach {@code expected} (or whatever they are at the deadline). */
    static long total(Http http, String run, String layer, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        long seen = -1;
        do {
            Http.Response r = http.get("/v1/runs/" + run);
            if (r.status() == 200) {
                for (JsonNode l : r.json().get("layers")) {
                    if (l.get("layer").asText().equals(layer)) {
                        seen = l.get("total_samples").asLong();
                    }
                }
            }
            if (seen == expected) {
                return seen;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        return seen;
    }

    static boolean unchanged(JsonNode now, JsonNode before) {
        assertThat(now.get("total_samples").asLong()).isEqualTo(before.get("total_samples").asLong());
        assertThat(now.get("samples").asLong()).isEqualTo(before.get("samples").asLong());
        assertThat(Dense.relativeError(values(now, "eigenvalues"), values(before, "eigenvalues"))).isLessThan(1e-12);
        assertThat(now.get("trace").asDouble()).isCloseTo(before.get("trace").asDouble(),
                org.assertj.core.data.Percentage.withPercentage(1e-10));
        return true;
    }

    static void assertExact(JsonNode doc, double[] rows, int n) {
        double[] cov = Dense.twoPassCovariance(rows, n, D);
        double trace = 0;
        for (int i = 0; i < D; i++) {
            trace += cov[i * D + i];
        }
        assertThat(doc.get("trace").asDouble()).isCloseTo(trace, org.assertj.core.data.Percentage.withPercentage(1e-10));
    }

    static double[] values(JsonNode doc, String field) {
        double[] v = new double[doc.get(field).size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = doc.get(field).get(i).asDouble();
        }
        return v;
    }

    static double metric(Http http, String series) {
        for (String line : http.get("/metrics").body().split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        throw new AssertionError("no series " + series);
    }
}
