package org.alphawatch.scale;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.alphawatch.core.analysis.AnalysisOptions;
import org.alphawatch.core.analysis.SpectrumAnalyzer;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.testing.Dense;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.LocalBroker;
import org.alphawatch.testing.ServerProcess;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scale-out with real processes: a Kafka broker, an ingest node and two workers sharing a state
 * directory. Producers stream into eight layers (one per partition); a worker is SIGKILLed mid-stream, later restarted
 * on the same directory, and the broker is restarted: after each, every layer's spectrum, asked on
 * the ingest node, equals the exact spectrum of exactly the acknowledged rows, and the sample
 * counts are exact (nothing lost, nothing counted twice).
 */
@Tag("slow")
class ScaleOutTest {
    static final int D = 16;
    static final int ROWS = 40;
    static final int PARTITIONS = 8;
    /** Eight layers, one on each partition (checked below): whichever worker dies held some. */
    static final List<String> LAYERS = List.of("l0", "l1", "l2", "l3", "l4", "l5", "l6", "l7");

    /** Acknowledged rows per layer (batch ids: the rows are regenerated from them). */
    final Map<String, List<Integer>> acknowledged = new ConcurrentHashMap<>();
    final AtomicInteger nextBatch = new AtomicInteger();

    static double[] rows(int batch) {
        return TestServers.layerData(batch % 4, batch, batch, ROWS, D);
    }

    String[] nodeArgs(String bootstrap, Path shared, String role) {
        return new String[] {"--kafka", bootstrap, "--role", role, "--kafka-partitions", Integer.toString(PARTITIONS),
            "--state-dir", shared.toString(), "--checkpoint-seconds", "1", "--window", "cumulative",
            "--refresh-seconds", "1", "--min-samples", "2"};
    }

    /** Sends {@code batches} batches from 3 producers; only 202s count as acknowledged. */
    void produce(String url, int batches) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(3);
        List<Future<?>> fs = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            fs.add(pool.submit(() -> {
                Http http = new Http(url);
                while (true) {
                    int id = nextBatch.getAndIncrement();
                    if (id >= batches) {
                        return null;
                    }
                    String layer = LAYERS.get(id % LAYERS.size());
                    Http.Response r;
                    do {
                        r = http.post("/v1/runs/big/layers/" + layer + "/batches?step=" + id, NpyWriter.toBytes(rows(id), ROWS, D));
                    } while (r.status() == 429);
                    assertThat(r.status()).as(r.body()).isEqualTo(202);
                    acknowledged.computeIfAbsent(layer, k -> java.util.Collections.synchronizedList(new ArrayList<>())).add(id);
                }
            }));
        }
        for (Future<?> f : fs) {
            f.get(5, TimeUnit.MINUTES);
        }
        pool.shutdown();
    }

    /** Waits until the cluster shows every acknowledged row, then compares each layer with the exact spectrum. */
    void assertExact(Http ingest, String when) throws Exception {
        Map<String, Long> expected = new TreeMap<>();
        LAYERS.forEach(l -> expected.put(l, (long) acknowledged.getOrDefault(l, List.of()).size() * ROWS));
        Map<String, Long> seen = new TreeMap<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            seen.clear();
            JsonNode runs = ingest.get("/v1/runs").json().get("runs");
            for (JsonNode run : runs) {
                for (JsonNode layer : run.get("layers")) {
                    seen.put(layer.get("layer").asText(), layer.get("total_samples").asLong());
                }
            }
            if (seen.equals(expected)) {
                break;
            }
            Thread.sleep(250);
        }
        assertThat(seen).as(when + ": samples per layer (acknowledged " + expected + ")").isEqualTo(expected);
        for (String layer : LAYERS) {
            CovarianceAccumulator ref = CovarianceAccumulator.create(D);
            for (int id : new ArrayList<>(acknowledged.get(layer))) {
                ref.update(rows(id), ROWS);
            }
            double[] exact = SpectrumAnalyzer.analyze(ref.snapshot(), AnalysisOptions.defaults(new EjmlEigenSolver()))
                    .spectrum().normalized();
            JsonNode doc = null;
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < until) { // the owner refreshes every second
                Http.Response r = ingest.get("/v1/runs/big/layers/" + layer + "/spectrum");
                if (r.status() == 200 && r.json().get("samples").asLong() == expected.get(layer)) {
                    doc = r.json();
                    break;
                }
                Thread.sleep(200);
            }
            assertThat(doc).as(when + ": spectrum of " + layer).isNotNull();
            double[] served = new double[doc.get("eigenvalues").size()];
            for (int i = 0; i < served.length; i++) {
                served[i] = doc.get("eigenvalues").get(i).asDouble();
            }
            assertThat(Dense.relativeError(served, exact)).as(when + ": " + layer).isLessThan(1e-9);
        }
    }

    @Test
    void workersCrashAndRestartAndTheBrokerRestartsWithoutLosingOrDoublingAnything(@TempDir Path tmp) throws Exception {
        Set<Integer> partitions = new HashSet<>();
        LAYERS.forEach(l -> partitions.add(Partitioning.partition(new LayerKey("big", l), PARTITIONS)));
        assertThat(partitions).as("the layers fall on every partition").hasSize(PARTITIONS);
        Path shared = tmp.resolve("shared");
        Files.createDirectories(shared);
        try (LocalBroker broker = LocalBroker.start(tmp.resolve("broker"));
             ServerProcess ingest = ServerProcess.start(tmp.resolve("ingest.log"), "512m",
                     nodeArgs(broker.bootstrap(), shared, "ingest"));
             ServerProcess w1 = ServerProcess.start(tmp.resolve("w1.log"), "512m",
                     nodeArgs(broker.bootstrap(), shared, "worker"));
             ServerProcess w2 = ServerProcess.start(tmp.resolve("w2.log"), "512m",
                     nodeArgs(broker.bootstrap(), shared, "worker"))) {
            Http http = ingest.http();
            w1.url();
            w2.url();
            awaitOwned(w1, w2);
            produce(ingest.url(), 120);
            w2.kill9(); // mid-stream: its partitions move to w1, which resumes from their checkpoints
            produce(ingest.url(), 240);
            assertExact(http, "after SIGKILL of a worker");
            assertThat(owned(w1)).as("w1 owns every partition now").hasSize(PARTITIONS);

            try (ServerProcess w2again = ServerProcess.start(tmp.resolve("w2b.log"), "512m",
                    nodeArgs(broker.bootstrap(), shared, "worker"))) {
                w2again.url();
                awaitOwned(w1, w2again);
                assertExact(http, "after the worker came back");
                produce(ingest.url(), 300);
                assertExact(http, "after more batches");

                broker.stop();
                broker.restart();
                produce(ingest.url(), 360);
                assertExact(http, "after a broker restart");
                System.out.println("scale-out: " + nextBatch.get() + " batches sent; w1 owns " + owned(w1)
                        + ", w2 owns " + owned(w2again));
            }
        }
    }

    @Test
    void aPythonTrainerPublishesPartialsStraightToKafka(@TempDir Path tmp) throws Exception {
        String python = System.getenv().getOrDefault("ALPHAWATCH_PYTHON", "/usr/bin/python3");
        org.alphawatch.testing.ExternalTools.requireThat(org.alphawatch.testing.ExternalTools.succeeds(python, "-c",
                "import numpy, kafka"), python + " lacks numpy or kafka-python (Debian: python3-numpy python3-kafka)");
        Path shared = tmp.resolve("shared");
        Path rows = tmp.resolve("rows.npy");
        try (LocalBroker broker = LocalBroker.start(tmp.resolve("broker"));
             ServerProcess node = ServerProcess.start(tmp.resolve("node.log"), "512m",
                     nodeArgs(broker.bootstrap(), shared, "all"))) {
            Http http = node.http();
            String script = String.join("\n",
                    "import sys, numpy as np",
                    "sys.path.insert(0, 'clients/python')",
                    "from alphawatch import Moments",
                    "from alphawatch.kafka import KafkaPublisher",
                    "x = np.random.default_rng(3).standard_normal((900, 24)) @ np.diag(np.arange(1, 25) ** -0.7) + 2",
                    "np.save(sys.argv[2], x)",
                    "pub = KafkaPublisher(sys.argv[1], run='direct', source='py0')",
                    "for i in range(3):",
                    "    m = Moments(24)",
                    "    m.add(x[300 * i:300 * (i + 1)], step=i)",
                    "    pub.send('h', m)",
                    "pub.close()");
            Process p = new ProcessBuilder(python, "-c", script, broker.bootstrap(), rows.toString())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor()).as(out).isZero();
            org.alphawatch.io.NpyArray x;
            try (org.alphawatch.io.NpyReader reader = org.alphawatch.io.NpyReader.open(rows)) {
                x = reader.readAll();
            }
            CovarianceAccumulator ref = CovarianceAccumulator.create(24);
            ref.update(x.toDoubles(), 900);
            double[] exact = SpectrumAnalyzer.analyze(ref.snapshot(), AnalysisOptions.defaults(new EjmlEigenSolver()))
                    .spectrum().normalized();
            JsonNode doc = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                Http.Response r = http.get("/v1/runs/direct/layers/h/spectrum");
                if (r.status() == 200 && r.json().get("samples").asLong() == 900) {
                    doc = r.json();
                    break;
                }
                Thread.sleep(200);
            }
            assertThat(doc).as(node.log()).isNotNull();
            double[] served = new double[doc.get("eigenvalues").size()];
            for (int i = 0; i < served.length; i++) {
                served[i] = doc.get("eigenvalues").get(i).asDouble();
            }
            assertThat(Dense.relativeError(served, exact)).isLessThan(1e-9);
            assertThat(doc.get("sources").get("py0").asLong()).isEqualTo(900);
        }
    }

    @Test
    void aSingleNodeServerNeverLoadsAKafkaClass(@TempDir Path tmp) throws Exception {
        Path log = tmp.resolve("single.log");
        try (ServerProcess single = ServerProcess.start(log, List.of("-verbose:class"), "256m", "--window", "cumulative")) {
            Http http = single.http();
            assertThat(http.post("/v1/runs/r/layers/a/batches?step=1", NpyWriter.toBytes(rows(1), ROWS, D)).status())
                    .isEqualTo(202);
            assertThat(http.get("/v1/runs").status()).isEqualTo(200);
            assertThat(http.get("/healthz").body()).doesNotContain("kafka");
            String loaded = Files.readString(log);
            assertThat(loaded).contains("org.alphawatch.server.AlphawatchServer"); // the log does list classes
            // Only the settings record is loaded (the configuration names it); no client, no worker.
            assertThat(loaded).doesNotContain("org.apache.kafka").doesNotContain("org.alphawatch.scale.Kafka")
                    .doesNotContain("org.alphawatch.scale.ScaleOut ");
        }
    }

    /** Waits until the two workers share the partitions (both own some, all are owned). */
    static void awaitOwned(ServerProcess a, ServerProcess b) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            Set<Integer> x = owned(a);
            Set<Integer> y = owned(b);
            Set<Integer> all = new HashSet<>(x);
            all.addAll(y);
            if (!x.isEmpty() && !y.isEmpty() && all.size() == PARTITIONS) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the workers did not share the partitions: " + owned(a) + " / " + owned(b));
    }

    static Set<Integer> owned(ServerProcess worker) throws Exception {
        Set<Integer> out = new HashSet<>();
        worker.http().get("/healthz").json().get("kafka").get("worker").get("owned_partitions")
                .forEach(n -> out.add(n.asInt()));
        return out;
    }
}
