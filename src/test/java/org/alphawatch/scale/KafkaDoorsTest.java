package org.alphawatch.scale;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.alphawatch.core.analysis.AnalysisOptions;
import org.alphawatch.core.analysis.SpectrumAnalyzer;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.io.PartialMoments;
import org.alphawatch.testing.Dense;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.LocalBroker;
import org.alphawatch.testing.ServerProcess;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka worker is a door like any other (issue 20), with real processes (a broker, two ingest
 * nodes, a worker on a small heap): a client that retries through the other ingest node publishes
 * the same numbered request twice and the worker applies it once; an impossible partial is refused
 * by the ingest node before it reaches the topic (no poison pill); a layer beyond the worker's
 * memory budget (half its heap) is refused by the ingest node, which asks the owner, before any
 * 202; published straight to Kafka it is refused by the worker, counted in its metrics, shown in
 * its {@code /healthz} and kept in the refused-records topic, instead of exhausting its memory,
 * while the other layer keeps every row.
 */
@Tag("slow")
class KafkaDoorsTest {
    static final int D = 8;

    static String[] args(String bootstrap, Path shared, String role) {
        return new String[] {"--kafka", bootstrap, "--role", role, "--kafka-partitions", "4", "--state-dir",
            shared.toString(), "--checkpoint-seconds", "1", "--window", "cumulative", "--refresh-seconds", "1",
            "--min-samples", "2"};
    }

    @Test
    void retriesThroughAnotherIngestNodeCountOnceAndWorkerRefusalsAreVisible(@TempDir Path tmp) throws Exception {
        Path shared = tmp.resolve("shared");
        Files.createDirectories(shared);
        try (LocalBroker broker = LocalBroker.start(tmp.resolve("broker"));
             ServerProcess i1 = ServerProcess.start(tmp.resolve("i1.log"), "256m", args(broker.bootstrap(), shared,
                     "ingest"));
             ServerProcess i2 = ServerProcess.start(tmp.resolve("i2.log"), "256m", args(broker.bootstrap(), shared,
                     "ingest"));
             ServerProcess worker = ServerProcess.start(tmp.resolve("w.log"), "128m", args(broker.bootstrap(), shared,
                     "worker"))) {
            Http one = i1.http();
            Http two = i2.http();
            worker.url();
            Random random = new Random(42);
            CovarianceAccumulator ref = CovarianceAccumulator.create(D);
            long rows = 0;
            for (int seq = 1; seq <= 12; seq++) {
                int n = 10 + seq;
                double[] x = Dense.gaussian(random, n, D);
                ref.update(x, n);
                rows += n;
                String path = "/v1/runs/k/layers/h/batches?step=" + seq + "&sender=trainer-1&seq=" + seq;
                assertThat(one.post(path, NpyWriter.toBytes(x, n, D)).status()).isEqualTo(202);
                // The answer was lost: the client retries through the other node (both publish).
                assertThat(two.post(path, NpyWriter.toBytes(x, n, D)).status()).isEqualTo(202);
            }
            Http.Response poison = two.post("/v1/runs/k/layers/h/partials",
                    PartialMoments.of(D, 1L << 62, 1, 1, new double[D], new double[D * (D + 1) / 2]).encode());
            assertThat(poison.status()).as("refused before it reaches the topic").isEqualTo(400);

            // d = 1024: a sliding window of 8 panes costs about 100 MB, the worker's budget is 64 MB.
            // The ingest node asks the layer's owner before it acknowledges: refused, never 202'd.
            int wide = 1024;
            byte[] wideRows = NpyWriter.toBytes(Dense.gaussian(random, 16, wide), 16, wide);
            Http.Response big = one.post("/v1/runs/k/layers/wide/batches?step=1", wideRows);
            assertThat(big.status()).as(big.body()).isEqualTo(507);
            assertThat(big.json().get("error").asText()).isEqualTo("memory_budget");
            // A record that reaches the topic another way (a trainer publishing straight to Kafka): the
            // worker refuses it, counts it, shows it and keeps a copy in the refused-records topic.
            org.alphawatch.pipeline.LayerKey wideKey = new org.alphawatch.pipeline.LayerKey("k", "wide");
            try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(Map.of(
                    "bootstrap.servers", broker.bootstrap(), "max.request.size", "4000000"),
                    new org.apache.kafka.common.serialization.StringSerializer(),
                    new org.apache.kafka.common.serialization.ByteArraySerializer())) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("alphawatch.batches",
                        Partitioning.partition(wideKey, 4), "k/wide", org.alphawatch.durability.WriteAheadLog.encodeBatch(1,
                        org.alphawatch.pipeline.ActivationBatch.train(wideKey, 1,
                                org.alphawatch.io.NpyArray.ofDoubles(Dense.gaussian(random, 16, wide), 16, wide)))))
                        .get(30, TimeUnit.SECONDS);
            }

            JsonNode doc = spectrum(one, "h", rows);
            double[] exact = SpectrumAnalyzer.analyze(ref.snapshot(), AnalysisOptions.defaults(new EjmlEigenSolver()))
                    .spectrum().normalized();
            double[] served = new double[doc.get("eigenvalues").size()];
            for (int i = 0; i < served.length; i++) {
                served[i] = doc.get("eigenvalues").get(i).asDouble();
            }
            assertThat(Dense.relativeError(served, exact)).isLessThan(1e-9);
            assertThat(doc.get("total_samples").asLong()).as("every retry applied once").isEqualTo(rows);

            JsonNode health = awaitRefusal(worker);
            assertThat(health.get("status").asText()).isEqualTo("degraded");
            JsonNode w = health.get("kafka").get("worker");
            assertThat(w.get("records_refused").get("memory_budget").asLong()).isEqualTo(1);
            assertThat(w.get("last_refusal").asText()).contains("k/wide").contains("memory-budget");
            assertThat(worker.http().get("/metrics").body())
                    .contains("alphawatch_ingest_rejected_total{reason=\"memory_budget\"} 1.0")
                    .contains("alphawatch_kafka_records_refused_total{reason=\"memory_budget\"} 1.0")
                    .contains("alphawatch_ingest_duplicates_total 12.0");
            assertThat(refusedCopies(broker.bootstrap())).as("kept for an operator to replay").isEqualTo(1);
            // Every scale-out series a worker and an ingest node export is documented, and nothing more.
            java.util.Set<String> exported = new java.util.TreeSet<>();
            for (Http node : List.of(worker.http(), one)) {
                for (String line : node.get("/metrics").body().split("\n")) {
                    if (line.startsWith("# TYPE alphawatch_kafka_")) {
                        exported.add(line.split(" ")[2]);
                    }
                }
            }
            java.util.Set<String> documented = new java.util.TreeSet<>();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^\\| `(alphawatch_kafka_[a-z0-9_]+)`",
                    java.util.regex.Pattern.MULTILINE).matcher(Files.readString(Path.of("docs/metrics-reference.md")));
            while (m.find()) {
                documented.add(m.group(1));
            }
            assertThat(documented).isEqualTo(exported);
            assertThat(worker.process().isAlive()).isTrue();
        }
    }

    /** Records in the refused-records topic, each with its reason. */
    static int refusedCopies(String bootstrap) {
        try (var c = new org.apache.kafka.clients.consumer.KafkaConsumer<String, byte[]>(Map.of(
                "bootstrap.servers", bootstrap, "auto.offset.reset", "earliest", "group.id", "test-refused"),
                new org.apache.kafka.common.serialization.StringDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            c.subscribe(java.util.List.of("alphawatch.batches.refused"));
            int n = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (n == 0 && System.nanoTime() < deadline) {
                for (var r : c.poll(java.time.Duration.ofMillis(500))) {
                    assertThat(new String(r.headers().lastHeader("reason").value())).isEqualTo("memory_budget");
                    n++;
                }
            }
            return n;
        }
    }

    static JsonNode spectrum(Http http, String layer, long samples) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            Http.Response r = http.get("/v1/runs/k/layers/" + layer + "/spectrum");
            if (r.status() == 200) {
                last = r.json();
                if (last.get("samples").asLong() == samples) {
                    return last;
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("layer " + layer + " never showed " + samples + " samples: " + last);
    }

    static JsonNode awaitRefusal(ServerProcess worker) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        JsonNode health = null;
        while (System.nanoTime() < deadline) {
            health = worker.http().get("/healthz").json();
            if (health.get("kafka").get("worker").get("records_refused").size() > 0) {
                return health;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the worker never reported the refusal: " + health);
    }
}
