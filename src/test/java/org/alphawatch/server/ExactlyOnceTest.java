package org.alphawatch.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.alphawatch.core.analysis.AnalysisOptions;
import org.alphawatch.core.analysis.SpectrumAnalyzer;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.durability.Durability;
import org.alphawatch.durability.DurabilitySettings;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.io.PartialMoments;
import org.alphawatch.testing.Dense;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.TestServers;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Exactly-once delivery over HTTP (issue 20): a client whose answers get lost sends its request
 * again with the same (sender, seq), sometimes while the first copy is still being made durable,
 * sometimes long after (a late duplicate of an old request), rows and partial accumulators mixed,
 * several layers interleaved; with and without a write-ahead log, and across a restart of the
 * logged server. Every layer then holds exactly the rows of the requests sent once: count equal and
 * spectrum equal to the two-pass spectrum of those rows to 1e-10 (the same tolerance as every
 * streaming-vs-two-pass comparison here: float64 co-moments agree to ~1e-13).
 */
class ExactlyOnceTest {
    private static final int D = 6;
    private static final AtomicInteger RUNS = new AtomicInteger();
    private static Path stateDir;
    private static MonitorService plain;
    private static MonitorService logged;

    @BeforeContainer
    static void start() throws IOException {
        stateDir = Files.createTempDirectory("exactly-once");
        plain = TestServers.start(TestServers.manualRefresh(WindowMode.CUMULATIVE, 0));
        logged = startLogged();
    }

    static MonitorService startLogged() {
        ServerConfig config = ServerConfig.local(0, TestServers.manualRefresh(WindowMode.CUMULATIVE, 0))
                .withDurability(new DurabilitySettings(Durability.Mode.WAL, stateDir, Duration.ofHours(1)));
        return MonitorService.create(config, new EjmlEigenSolver()).start();
    }

    @AfterContainer
    static void stop() {
        plain.close();
        logged.close();
    }

    /** One request of a plan: its rows, whether they travel as a partial, and how the client retries it. */
    record Request(String layer, long seq, double[] rows, int n, boolean partial, int copies, boolean concurrent,
                   boolean lateCopy) {}

    static List<Request> plan(long seed) {
        Random random = new Random(seed);
        Map<String, Integer> next = new LinkedHashMap<>();
        List<Request> out = new ArrayList<>();
        int requests = 4 + random.nextInt(10);
        for (int i = 0; i < requests; i++) {
            String layer = "l" + random.nextInt(3);
            int seq = next.merge(layer, 1, Integer::sum);
            int n = 3 + random.nextInt(20);
            out.add(new Request(layer, seq, Dense.gaussian(random, n, D), n, random.nextBoolean(),
                    1 + random.nextInt(3), random.nextInt(3) == 0, random.nextInt(4) == 0));
        }
        return out;
    }

    @Property(tries = 30, seed = "2020")
    void everyRequestCountsOnceWhateverTheRetries(@ForAll long seed, @ForAll boolean wal) throws Exception {
        MonitorService service = wal ? logged : plain;
        String run = "once" + RUNS.incrementAndGet();
        Http http = new Http(service.server().baseUrl());
        List<Request> plan = plan(seed);
        List<Request> sent = new ArrayList<>();
        for (Request r : plan) {
            String path = "/v1/runs/" + run + "/layers/" + r.layer() + (r.partial() ? "/partials?" : "/batches?step=1&")
                    + "sender=client-" + (seed & 0xffff) + "&seq=" + r.seq();
            byte[] body = body(r);
            List<Http.Response> answers = new ArrayList<>();
            if (r.concurrent()) {
                // The retry races the first copy (with a log: while it waits for its fsync).
                List<CompletableFuture<Http.Response>> copies = new ArrayList<>();
                for (int c = 0; c < r.copies(); c++) {
                    copies.add(CompletableFuture.supplyAsync(() -> http.post(path, body)));
                }
                copies.forEach(f -> answers.add(f.join()));
            } else {
                for (int c = 0; c < r.copies(); c++) {
                    answers.add(http.post(path, body));
                }
            }
            for (Http.Response a : answers) {
                assertThat(a.status()).as(a.body()).isEqualTo(202);
            }
            assertThat(answers.stream().filter(a -> !a.json().get("duplicate").asBoolean()).count())
                    .as("exactly one copy of request %s/%d is applied", r.layer(), r.seq()).isEqualTo(1);
            if (r.lateCopy() && !sent.isEmpty()) {
                // A copy of an older request of some layer, arriving after newer ones were applied.
                Request old = sent.get((int) Math.floorMod(seed + sent.size(), sent.size()));
                Http.Response late = http.post("/v1/runs/" + run + "/layers/" + old.layer()
                        + (old.partial() ? "/partials?" : "/batches?step=1&") + "sender=client-" + (seed & 0xffff)
                        + "&seq=" + old.seq(), body(old));
                assertThat(late.status()).isEqualTo(202);
                assertThat(late.json().get("duplicate").asBoolean()).isTrue();
            }
            sent.add(r);
        }
        if (wal && seed % 3 == 0) {
            // A crash in between (a copy of the directory as a crash leaves it: the log, no final
            // checkpoint): the numbers applied come back from the log, so old retries stay duplicates.
            Path crashed = Files.createTempDirectory("exactly-once-crashed");
            try (var files = Files.list(stateDir)) {
                for (Path f : files.toList()) {
                    Files.copy(f, crashed.resolve(f.getFileName()));
                }
            }
            logged.close();
            stateDir = crashed;
            logged = startLogged();
            service = logged;
            Request any = sent.get(0);
            Http.Response again = new Http(service.server().baseUrl()).post("/v1/runs/" + run + "/layers/"
                    + any.layer() + (any.partial() ? "/partials?" : "/batches?step=1&") + "sender=client-"
                    + (seed & 0xffff) + "&seq=" + any.seq(), body(any));
            assertThat(again.json().get("duplicate").asBoolean()).isTrue();
        }
        TestServers.settle(service);
        Http h = new Http(service.server().baseUrl());
        for (String layer : sent.stream().map(Request::layer).distinct().toList()) {
            List<Request> mine = sent.stream().filter(r -> r.layer().equals(layer)).toList();
            int n = mine.stream().mapToInt(Request::n).sum();
            CovarianceAccumulator ref = CovarianceAccumulator.create(D);
            for (Request r : mine) {
                ref.update(r.rows(), r.n());
            }
            JsonNode doc = h.get("/v1/runs/" + run + "/layers/" + layer + "/spectrum").json();
            assertThat(doc.get("total_samples").asLong()).as(layer).isEqualTo(n);
            double[] exact = SpectrumAnalyzer.analyze(ref.snapshot(), AnalysisOptions.defaults(new EjmlEigenSolver()))
                    .spectrum().normalized();
            assertThat(Dense.relativeError(DoorsTest.values(doc, "eigenvalues"), exact)).as(layer).isLessThan(1e-10);
            double trace = 0;
            double[] cov = Dense.twoPassCovariance(concat(mine), n, D);
            for (int i = 0; i < D; i++) {
                trace += cov[i * D + i];
            }
            assertThat(Math.abs(doc.get("trace").asDouble() - trace) / trace).isLessThan(1e-10);
        }
    }

    static double[] concat(List<Request> rs) {
        double[] all = new double[rs.stream().mapToInt(r -> r.n() * D).sum()];
        int at = 0;
        for (Request r : rs) {
            System.arraycopy(r.rows(), 0, all, at, r.n() * D);
            at += r.n() * D;
        }
        return all;
    }

    static byte[] body(Request r) {
        if (!r.partial()) {
            return NpyWriter.toBytes(r.rows(), r.n(), D);
        }
        double[] mean = Dense.exactMean(r.rows(), r.n(), D);
        double[] upper = new double[D * (D + 1) / 2];
        int k = 0;
        for (int i = 0; i < D; i++) {
            for (int j = i; j < D; j++, k++) {
                for (int t = 0; t < r.n(); t++) {
                    upper[k] += (r.rows()[t * D + i] - mean[i]) * (r.rows()[t * D + j] - mean[j]);
                }
            }
        }
        return PartialMoments.of(D, r.n(), 1, 1, mean, upper).encode();
    }
}
