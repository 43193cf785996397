package org.alphawatch.scale;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.alphawatch.cli.Main;
import org.alphawatch.core.analysis.AnalysisOptions;
import org.alphawatch.core.analysis.SpectrumAnalyzer;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.testing.Dense;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.LocalBroker;
import org.alphawatch.testing.ServerProcess;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka mode as an operator runs it (issue 22), with real processes: a broker, two ingest nodes,
 * workers sharing a state directory. A wrong width through the second ingest node is refused
 * before any 202; a worker started with another window refuses to start, naming the setting; a
 * killed worker turns every node's {@code /healthz} degraded and its layers answer 503, not 404; a
 * graceful hand-over answers 503, never 404; after all of it every acknowledged row counts once.
 * Then the broker loses its data: a worker on the kept state directory refuses the partitions of
 * the new topic (another topic id), says so, and takes them again after {@code kafka-reset}.
 */
@Tag("slow")
class KafkaClusterTest {
    static final int D = 6;
    static final int PARTITIONS = 4;
    static final List<String> LAYERS = List.of("a", "b", "c", "d", "e", "f");

    final Map<String, CovarianceAccumulator> reference = new ConcurrentHashMap<>();
    final Map<String, Long> rows = new ConcurrentHashMap<>();
    final Random random = new Random(22);

    static String[] args(String bootstrap, Path shared, String role) {
        return args(bootstrap, shared, role, "cumulative");
    }

    static String[] args(String bootstrap, Path shared, String role, String window) {
        return new String[] {"--kafka", bootstrap, "--role", role, "--kafka-partitions", Integer.toString(PARTITIONS),
            "--state-dir", shared.toString(), "--checkpoint-seconds", "1", "--window", window, "--refresh-seconds", "1",
            "--min-samples", "2"};
    }

    /** Sends one batch to each layer through {@code http}; 202s are remembered as the reference. */
    void produce(Http http, int round) {
        for (String layer : LAYERS) {
            int n = 8 + round % 5;
            double[] x = Dense.gaussian(random, n, D);
            Http.Response r;
            int attempts = 0;
            do {
                r = http.post("/v1/runs/c/layers/" + layer + "/batches?step=" + round + "&sender=t&seq="
                        + (round + 1), NpyWriter.toBytes(x, n, D));
                attempts++;
            } while ((r.status() == 429 || r.status() == 503) && attempts < 600 && sleep(100));
            assertThat(r.status()).as(r.body()).isEqualTo(202);
            reference.computeIfAbsent(layer, k -> CovarianceAccumulator.create(D)).update(x, n);
            rows.merge(layer, (long) n, Long::sum);
        }
    }

    static boolean sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return true;
    }

    void assertExact(Http http, String when) throws InterruptedException {
        for (String layer : LAYERS) {
            long expected = rows.get(layer);
            JsonNode doc = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < deadline) {
                Http.Response r = http.get("/v1/runs/c/layers/" + layer + "/spectrum");
                if (r.status() == 200 && r.json().get("samples").asLong() == expected) {
                    doc = r.json();
                    break;
                }
                Thread.sleep(200);
            }
            assertThat(doc).as(when + ": " + layer + " never showed " + expected + " samples").isNotNull();
            double[] exact = SpectrumAnalyzer.analyze(reference.get(layer).snapshot(),
                    AnalysisOptions.defaults(new EjmlEigenSolver())).spectrum().normalized();
            double[] served = new double[doc.get("eigenvalues").size()];
            for (int i = 0; i < served.length; i++) {
                served[i] = doc.get("eigenvalues").get(i).asDouble();
            }
            assertThat(Dense.relativeError(served, exact)).as(when + ": " + layer).isLessThan(1e-9);
        }
    }

    static String status(ServerProcess node) throws Exception {
        return node.http().get("/healthz").json().get("status").asText();
    }

    static void awaitStatus(List<ServerProcess> nodes, String status, String why) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            boolean all = true;
            for (ServerProcess n : nodes) {
                all &= status.equals(status(n));
            }
            if (all) {
                return;
            }
            Thread.sleep(100);
        }
        List<String> seen = new ArrayList<>();
        for (ServerProcess n : nodes) {
            seen.add(n.http().get("/healthz").body());
        }
        throw new AssertionError(why + ": not every node became " + status + ": " + seen);
    }

    /** Asks every layer's spectrum through {@code http} until stopped; records each status seen. */
    Thread queries(Http http, AtomicBoolean stop, Map<Integer, Integer> statuses) {
        Thread t = new Thread(() -> {
            while (!stop.get()) {
                for (String layer : LAYERS) {
                    Http.Response r = http.get("/v1/runs/c/layers/" + layer + "/spectrum");
                    statuses.merge(r.status(), 1, Integer::sum);
                    if (r.status() == 404) {
                        System.out.println("404 during the hand-over: " + r.body());
                    }
                }
            }
        });
        t.start();
        return t;
    }

    @Test
    void anOperatorsCluster(@TempDir Path tmp) throws Exception {
        Path shared = tmp.resolve("shared");
        Files.createDirectories(shared);
        try (LocalBroker broker = LocalBroker.start(tmp.resolve("broker"));
             ServerProcess i1 = ServerProcess.start(tmp.resolve("i1.log"), "256m", args(broker.bootstrap(), shared,
                "ingest"));
             ServerProcess i2 = ServerProcess.start(tmp.resolve("i2.log"), "256m", args(broker.bootstrap(), shared,
                     "ingest"));
             ServerProcess w1 = ServerProcess.start(tmp.resolve("w1.log"), "256m", args(broker.bootstrap(), shared,
                     "worker"));
             ServerProcess w2 = ServerProcess.start(tmp.resolve("w2.log"), "256m", args(broker.bootstrap(), shared,
                     "worker"))) {
            Http one = i1.http();
            Http two = i2.http();
            w1.url();
            w2.url();
            awaitStatus(List.of(i1, i2, w1, w2), "ok", "every partition owned");
            for (int round = 0; round < 3; round++) {
                produce(round % 2 == 0 ? one : two, round);
            }
            // A wrong width through the other ingest node (it never published this layer): refused, not 202'd.
            Http.Response wrong = two.post("/v1/runs/c/layers/a/batches?step=9", NpyWriter.toBytes(
                    Dense.gaussian(random, 4, D + 3), 4, D + 3));
            assertThat(wrong.status()).as(wrong.body()).isEqualTo(400);
            assertThat(wrong.json().get("error").asText()).isEqualTo("dims_mismatch");

            // A worker with another window refuses to start, naming the setting.
            try (ServerProcess odd = ServerProcess.start(tmp.resolve("odd.log"), "256m", args(broker.bootstrap(), shared,
                    "worker", "sliding"))) {
                assertThat(odd.waitFor(120)).as(odd.log()).isEqualTo(2);
                assertThat(odd.log()).contains("--window is sliding here but cumulative in the cluster");
            }

            // A graceful hand-over (a third worker joins): every answer is 200 or 503, never 404.
            Map<Integer, Integer> seen = new TreeMap<>();
            AtomicBoolean stop = new AtomicBoolean();
            Thread asking = queries(one, stop, seen);
            try (ServerProcess w3 = ServerProcess.start(tmp.resolve("w3.log"), "256m", args(broker.bootstrap(), shared,
                    "worker"))) {
                w3.url();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (w3.http().get("/healthz").json().get("kafka").get("worker").get("owned_partitions").isEmpty()
                        && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                awaitStatus(List.of(i1, i2, w1, w2, w3), "ok", "after the hand-over");
                produce(one, 3);
                stop.set(true);
                asking.join(30_000);
                assertThat(seen).as("statuses seen during the hand-over").doesNotContainKey(404).containsKey(200);
                assertExact(two, "after the hand-over");

                // A worker killed: every node's /healthz turns degraded (it is probed every second), its
                // layers answer 503; after the session timeout its partitions move and all is well.
                w3.kill9();
                awaitStatus(List.of(i1, i2, w1, w2), "degraded", "after SIGKILL of a worker");
                JsonNode runs = one.get("/v1/runs").json();
                Map<Integer, Integer> during = new TreeMap<>();
                for (String layer : LAYERS) {
                    during.merge(one.get("/v1/runs/c/layers/" + layer + "/spectrum").status(), 1, Integer::sum);
                }
                assertThat(during).as("no 404 while a worker is dead").doesNotContainKey(404);
                awaitStatus(List.of(i1, i2, w1, w2), "ok", "after its partitions moved");
                if (runs.has("partial")) {
                    assertThat(runs.get("missing").toString()).containsAnyOf("no live owner", "does not answer");
                }
            }
            produce(two, 4);
            assertExact(one, "after the killed worker's partitions moved");
            assertThat(w1.terminate(60)).isTrue();
            assertThat(w2.terminate(60)).isTrue();
        }

        // The broker loses its data; a new one starts. A worker on the kept state directory refuses
        // the partitions (their checkpoints count another topic's offsets) instead of mixing data.
        try (LocalBroker fresh = LocalBroker.start(tmp.resolve("broker-new"));
             ServerProcess w = ServerProcess.start(tmp.resolve("w-new.log"), "256m", args(fresh.bootstrap(), shared,
                     "worker"))) {
            w.url();
            JsonNode refused = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < deadline) {
                JsonNode h = w.http().get("/healthz").json();
                if (h.get("kafka").get("worker").get("refused_partitions").size() == PARTITIONS) {
                    refused = h;
                    break;
                }
                Thread.sleep(200);
            }
            assertThat(refused).as(w.log()).isNotNull();
            assertThat(refused.get("status").asText()).isEqualTo("degraded");
            assertThat(refused.get("kafka").get("worker").get("refused_partitions").toString()).contains("topic id")
                    .contains("kafka-reset");
            assertThat(w.http().get("/v1/runs").json().get("runs").size()).as("nothing restored").isZero();
            for (int p = 0; p < PARTITIONS; p++) {
                StringWriter out = new StringWriter();
                int rc = Main.run(new String[] {"kafka-reset", "--kafka", fresh.bootstrap(), "--state-dir",
                    shared.toString(), "--partition", Integer.toString(p)}, new PrintWriter(out), new PrintWriter(out));
                assertThat(rc).as(out.toString()).isZero();
            }
            try {
                awaitStatus(List.of(w), "ok", "after kafka-reset");
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\n" + w.log(), e);
            }
            assertThat(Files.list(shared.resolve("partitions")).filter(f -> f.toString().contains(".reset-")).count())
                    .as("the old checkpoints are kept aside").isEqualTo(PARTITIONS);
        }
    }
}
