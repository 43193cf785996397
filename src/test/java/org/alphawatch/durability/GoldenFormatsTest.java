package org.alphawatch.durability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.alphawatch.core.analysis.AnalysisOptions;
import org.alphawatch.core.analysis.SpectrumAnalyzer;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.core.stat.CrossCovarianceAccumulator;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.io.PartialMoments;
import org.alphawatch.server.MonitorService;
import org.alphawatch.server.ServerConfig;
import org.alphawatch.testing.Dense;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.Resources;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The golden files of every format version (src/test/resources/golden: v1, written before version
 * 2 of the layer state; v2; partials, the partial accumulator and log records of senders) decode
 * with today's code into exactly the state their rows define.
 */
class GoldenFormatsTest {
    /** The rows the golden files were written from (README.md there). */
    static double[] rows(int from, int n, int dims, int salt) {
        double[] x = new double[n * dims];
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < dims; c++) {
                x[r * dims + c] = Math.sin(0.37 * (from + r) + 1.3 * c + salt) * (1 + c) + 0.01 * (from + r);
            }
        }
        return x;
    }

    static byte[] golden(String name) throws IOException {
        return Files.readAllBytes(Resources.path("golden/v1/" + name));
    }

    static byte[] goldenV2(String name) throws IOException {
        return Files.readAllBytes(Resources.path("golden/v2/" + name));
    }

    static double[] slice(double[] x, int dims, int from, int to) {
        return java.util.Arrays.copyOfRange(x, from * dims, to * dims);
    }

    @Test
    void windowStatesOfVersion1DecodeToTheirRowsAndReencodeByteForByte() throws IOException {
        byte[] sliding = goldenV2("window-state-sliding-v1.bin");
        org.alphawatch.core.window.WindowedCovariance s = org.alphawatch.core.window.WindowedCovariance
                .fromByteArray(sliding);
        assertThat(s.toByteArray()).isEqualTo(sliding);
        try (org.alphawatch.core.window.WindowView v = s.view()) {
            assertThat(v.firstSample()).isEqualTo(40);
            assertThat(v.endSample()).isEqualTo(100);
            assertThat(v.stepMin()).isEqualTo(2);
            assertThat(v.stepMax()).isEqualTo(4);
            CovarianceAccumulator total = CovarianceAccumulator.create(5);
            v.groups().forEach(total::merge);
            assertThat(Dense.relativeError(total.snapshot().covariance(),
                    Dense.twoPassCovariance(slice(rows(0, 100, 5, 0), 5, 40, 100), 60, 5))).isLessThan(1e-12);
        }
        byte[] cumulative = goldenV2("window-state-cumulative-v1.bin");
        org.alphawatch.core.window.WindowedCovariance c = org.alphawatch.core.window.WindowedCovariance
                .fromByteArray(cumulative);
        assertThat(c.toByteArray()).isEqualTo(cumulative);
        double[] all = rows(0, 600, 6, 1);
        List<CovarianceAccumulator> groups = c.liveGroups();
        assertThat(groups).hasSize(3);
        for (int g = 0; g < 3; g++) {
            java.util.List<Integer> mine = new java.util.ArrayList<>();
            for (int i = 0; i < 600; i++) {
                if ((i / 256) % 3 == g) {
                    mine.add(i);
                }
            }
            double[] gx = new double[mine.size() * 6];
            for (int r = 0; r < mine.size(); r++) {
                System.arraycopy(all, mine.get(r) * 6, gx, r * 6, 6);
            }
            assertThat(Dense.relativeError(groups.get(g).snapshot().covariance(),
                    Dense.twoPassCovariance(gx, mine.size(), 6))).isLessThan(1e-12);
        }
    }

    @Test
    void decayWindowStateOfVersion1DecodesToItsWeightedRowsAndReencodesByteForByte() throws IOException {
        byte[] decay = goldenV2("window-state-decay-v1.bin");
        org.alphawatch.core.window.WindowedCovariance w = org.alphawatch.core.window.WindowedCovariance
                .fromByteArray(decay);
        assertThat(w.spec().mode()).isEqualTo(WindowMode.DECAY);
        assertThat(w.spec().samples()).isEqualTo(25);
        assertThat(w.totalSamples()).isEqualTo(60);
        assertThat(w.toByteArray()).isEqualTo(decay);
        // Batch b (10 rows) was decayed by 0.5 per 25 rows added after it: weight 0.5^((50 - 10 b) / 25).
        double[] x = rows(0, 60, 5, 2);
        double[] weights = new double[60];
        double total = 0;
        double[] mean = new double[5];
        for (int i = 0; i < 60; i++) {
            weights[i] = Math.pow(0.5, (50 - 10 * (i / 10)) / 25.0);
            total += weights[i];
            for (int c = 0; c < 5; c++) {
                mean[c] += weights[i] * x[i * 5 + c];
            }
        }
        for (int c = 0; c < 5; c++) {
            mean[c] /= total;
        }
        double[] cov = new double[25];
        for (int i = 0; i < 60; i++) {
            for (int a = 0; a < 5; a++) {
                for (int b = 0; b < 5; b++) {
                    cov[a * 5 + b] += weights[i] * (x[i * 5 + a] - mean[a]) * (x[i * 5 + b] - mean[b]) / (total - 1);
                }
            }
        }
        try (org.alphawatch.core.window.WindowView v = w.view()) {
            CovarianceAccumulator all = CovarianceAccumulator.create(5);
            v.groups().forEach(all::merge);
            assertThat(all.weight()).isCloseTo(total, org.assertj.core.data.Offset.offset(1e-12 * total));
            assertThat(Dense.relativeError(all.snapshot().covariance(), cov)).isLessThan(1e-12);
        }
    }

    @Test
    void layerStateOfVersion4KeepsHistoryValuesByMetricId(@TempDir Path tmp) throws IOException {
        Path dir = copy("golden/v4/checkpoint", tmp.resolve("c"));
        try (MonitorService service = start(Durability.Mode.CHECKPOINT, dir)) {
            assertLayer(service, "h", rows(0, 60, 5, 13), 60, 5);
            JsonNode history = new Http(service.server().baseUrl()).get("/v1/runs/golden/layers/h/history").json()
                    .get("history");
            assertThat(history).hasSize(2);
            for (int i = 0; i < 2; i++) {
                int n = 30 * (i + 1);
                JsonNode p = history.get(i);
                assertThat(p.get("step").asLong()).isEqualTo(i + 1);
                assertThat(p.get("window_samples").asLong()).isEqualTo(n);
                CovarianceAccumulator ref = CovarianceAccumulator.create(5);
                ref.update(rows(0, n, 5, 13), n);
                var report = SpectrumAnalyzer.analyze(ref.snapshot(), AnalysisOptions.defaults(new EjmlEigenSolver()));
                assertThat(p.get("effective_rank").asDouble())
                        .isCloseTo(report.metrics().effectiveRank(), org.assertj.core.data.Offset.offset(1e-10));
                assertThat(p.get("participation_ratio").asDouble())
                        .isCloseTo(report.metrics().participationRatio(), org.assertj.core.data.Offset.offset(1e-10));
                assertThat(p.get("alpha").isNull()).as("too few units for a fit: stored as NaN").isTrue();
            }
        }
    }

    @Test
    void checkpointWithLayerStatesOfVersion2Restores(@TempDir Path tmp) throws IOException {
        Path dir = copy("golden/v2/checkpoint", tmp.resolve("c"));
        try (MonitorService service = start(Durability.Mode.CHECKPOINT, dir)) {
            assertLayer(service, "a", slice(rows(0, 100, 6, 0), 6, 32, 96), 64, 6);
            JsonNode doc = new Http(service.server().baseUrl()).get("/v1/runs/golden/layers/a/spectrum").json();
            assertThat(doc.get("total_samples").asLong()).isEqualTo(100);
            assertThat(doc.get("window").get("mode").asText()).isEqualTo("sliding");
            assertThat(doc.get("window").get("first_sample").asLong()).isEqualTo(32);
            assertThat(doc.get("cvpca").isObject()).as("the repeat pairs came back").isTrue();
        }
    }

    @Test
    void writeAheadLogOfVersion2ReplaysOnItsCheckpoint(@TempDir Path tmp) throws IOException {
        Path dir = copy("golden/v2/wal", tmp.resolve("w"));
        try (MonitorService service = start(Durability.Mode.WAL, dir)) {
            assertThat(service.monitor().runs()).containsOnlyKeys("golden");
            assertThat(service.recovery().replayedRecords()).isEqualTo(3);
            assertLayer(service, "a", slice(rows(0, 80, 6, 0), 6, 16, 80), 64, 6);
            // b is new in the log: it gets the configured (here cumulative) window; a restored layer
            // keeps the window it was saved with.
            assertLayer(service, "b", rows(0, 20, 4, 2), 20, 4);
        }
    }

    @Test
    void accumulatorStatesOfVersion1DecodeAndReencodeByteForByte() throws IOException {
        byte[] cov = golden("covariance-state-v1.bin");
        CovarianceAccumulator a = CovarianceAccumulator.fromByteArray(cov);
        assertThat(a.count()).isEqualTo(53);
        assertThat(Dense.relativeError(a.snapshot().covariance(), Dense.twoPassCovariance(rows(0, 53, 5, 0), 53, 5)))
                .isLessThan(1e-12);
        assertThat(a.toByteArray()).isEqualTo(cov);

        byte[] cross = golden("cross-covariance-state-v1.bin");
        CrossCovarianceAccumulator x = CrossCovarianceAccumulator.fromByteArray(cross);
        assertThat(x.count()).isEqualTo(30);
        assertThat(Dense.relativeError(x.snapshot().crossCovariance(),
                Dense.twoPassCross(rows(0, 30, 4, 0), rows(0, 30, 4, 1), 30, 4))).isLessThan(1e-12);
        assertThat(x.toByteArray()).isEqualTo(cross);
    }

    @Test
    void partialAccumulatorsOfVersion1DecodeToTheirRowsAndReencodeByteForByte() throws Exception {
        byte[] plain = Files.readAllBytes(Resources.path("golden/partials/partial-v1.awpa"));
        PartialMoments p = PartialMoments.decode(plain, "golden", 16);
        assertThat(p.samples()).isEqualTo(12);
        assertThat(p.hasPairs()).isFalse();
        assertThat(new long[] {p.firstStep(), p.lastStep()}).containsExactly(5, 5);
        assertMoments(p.mean(), p.comomentUpper(), rows(0, 12, 3, 9), 12, 3);
        assertThat(p.encode()).isEqualTo(plain);

        byte[] paired = Files.readAllBytes(Resources.path("golden/partials/partial-v1-pairs.awpa"));
        PartialMoments q = PartialMoments.decode(paired, "golden", 16);
        assertThat(q.samples()).isEqualTo(40);
        assertThat(new long[] {q.firstStep(), q.lastStep()}).containsExactly(1, 3);
        assertMoments(q.mean(), q.comomentUpper(), rows(0, 40, 4, 6), 40, 4);
        assertThat(q.pairs()).isEqualTo(10);
        CrossCovarianceAccumulator cross = CrossCovarianceAccumulator.fromMoments(4, q.pairs(), q.meanA(), q.meanB(),
                q.comomentAUpper(), q.crossComoment());
        assertThat(Dense.relativeError(cross.snapshot().crossCovariance(),
                Dense.twoPassCross(rows(0, 10, 4, 7), rows(0, 10, 4, 8), 10, 4))).isLessThan(1e-12);
        assertThat(q.encode()).isEqualTo(paired);
    }

    @Test
    void partialAccumulatorOfVersion2WithPass1sComomentDecodesAndReencodesByteForByte() throws Exception {
        byte[] paired = Files.readAllBytes(Resources.path("golden/partials/partial-v2-pairs.awpa"));
        PartialMoments p = PartialMoments.decode(paired, "golden", 16);
        assertThat(p.samples()).isEqualTo(30);
        assertThat(new long[] {p.firstStep(), p.lastStep()}).containsExactly(2, 4);
        assertMoments(p.mean(), p.comomentUpper(), rows(0, 30, 4, 10), 30, 4);
        assertThat(p.pairs()).isEqualTo(12);
        assertThat(p.hasComomentB()).isTrue();
        CrossCovarianceAccumulator cross = CrossCovarianceAccumulator.fromMoments(4, p.pairs(), p.meanA(), p.meanB(),
                p.comomentAUpper(), p.crossComoment());
        assertThat(Dense.relativeError(cross.snapshot().crossCovariance(),
                Dense.twoPassCross(rows(0, 12, 4, 11), rows(0, 12, 4, 12), 12, 4))).isLessThan(1e-12);
        assertThat(p.encode()).isEqualTo(paired);
    }

    @Test
    void layerStateOfVersion3AndNumberedLogRecordsKeepExactlyOnceAcrossTheCrash(@TempDir Path tmp) throws Exception {
        Path dir = copy("golden/v3/wal", tmp.resolve("w"));
        try (MonitorService service = start(Durability.Mode.WAL, dir)) {
            assertThat(service.recovery().replayedRecords()).isEqualTo(2);
            double[] all = new double[75 * 4];
            System.arraycopy(rows(100, 20, 4, 10), 0, all, 0, 80);
            System.arraycopy(rows(0, 30, 4, 10), 0, all, 80, 120);
            System.arraycopy(rows(120, 25, 4, 10), 0, all, 200, 100);
            assertLayer(service, "n", all, 75, 4);
            Http http = new Http(service.server().baseUrl());
            byte[] anyRows = org.alphawatch.io.NpyWriter.toBytes(rows(0, 3, 4, 1), 3, 4);
            for (String retry : List.of("sender=s1&seq=1", "sender=s1&seq=2", "sender=s1&seq=3", "sender=s2&seq=1")) {
                Http.Response r = http.post("/v1/runs/golden/layers/n/batches?step=9&" + retry, anyRows);
                assertThat(r.json().get("duplicate").asBoolean()).as(retry).isTrue();
            }
            assertThat(http.post("/v1/runs/golden/layers/n/batches?step=9&sender=s2&seq=2", anyRows).json()
                    .get("duplicate").asBoolean()).isFalse();
            TestServers.settle(service);
            JsonNode doc = http.get("/v1/runs/golden/layers/n/spectrum").json();
            assertThat(doc.get("total_samples").asLong()).isEqualTo(78);
            assertThat(doc.get("cvpca").isObject()).as("the repeat pairs of the version-2 partial").isTrue();
        }
    }

    @Test
    void theKafkaPartialRecordBothLanguagesWriteDecodesAndReencodesByteForByte() throws Exception {
        // Written by the Python client's kafka.partial_record (its test checks it writes these bytes).
        byte[] golden = Files.readAllBytes(Resources.path("golden/partials/kafka-partial-record.bin"));
        org.alphawatch.pipeline.ActivationBatch[] got = new org.alphawatch.pipeline.ActivationBatch[1];
        WalReader.decode(golden, new WalReader.Visitor() {
            @Override
            public void batch(long seq, org.alphawatch.pipeline.ActivationBatch batch) {
                assertThat(seq).isZero();
                got[0] = batch;
            }

            @Override
            public void delete(long seq, String run) {
                throw new AssertionError("not a deletion");
            }
        });
        var b = got[0];
        assertThat(b.key().toString()).isEqualTo("golden/p");
        assertThat(b.source()).isEqualTo("rank0");
        assertThat(b.delivery()).isEqualTo(new org.alphawatch.pipeline.Delivery("a1b2c3d4e5f60718293a4b", 42));
        assertThat(b.partials()).hasSize(1);
        assertMoments(b.partials().get(0).mean(), b.partials().get(0).comomentUpper(), rows(0, 12, 3, 9), 12, 3);
        assertThat(WriteAheadLog.encodeBatch(0, b)).isEqualTo(golden);
    }

    static void assertMoments(double[] mean, double[] upper, double[] x, int n, int dims) {
        CovarianceAccumulator acc = CovarianceAccumulator.fromMoments(dims, n, mean, upper);
        assertThat(Dense.relativeError(acc.snapshot().covariance(), Dense.twoPassCovariance(x, n, dims)))
                .isLessThan(1e-12);
        assertThat(Dense.relativeError(mean, Dense.exactMean(x, n, dims))).isLessThan(1e-14);
    }

    @Test
    void writeAheadLogRecordsOfSendersAndPartialsReplay(@TempDir Path tmp) throws IOException {
        Path dir = copy("golden/partials/wal", tmp.resolve("w"));
        try (MonitorService service = start(Durability.Mode.WAL, dir)) {
            assertThat(service.recovery().replayedRecords()).isEqualTo(3);
            assertLayer(service, "p", rows(0, 65, 4, 6), 65, 4);
            JsonNode doc = new Http(service.server().baseUrl()).get("/v1/runs/golden/layers/p/spectrum").json();
            assertThat(doc.get("sources").toString()).isEqualTo("{\"rank0\":40,\"rank1\":20}");
            assertThat(doc.get("step_range").toString()).isEqualTo("[1,6]");
            assertThat(doc.get("cvpca").isObject()).as("the repeat pairs of the partial").isTrue();
        }
    }

    /** A golden state directory (a resource path), copied to {@code to}: the server writes into it. */
    static Path copy(String dir, Path to) throws IOException {
        Path from = Resources.path(dir);
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) {
                Files.copy(p, to.resolve(p.getFileName()));
            }
        }
        return to;
    }

    static MonitorService start(Durability.Mode mode, Path dir) {
        ServerConfig config = ServerConfig.local(0, TestServers.manualRefresh(WindowMode.CUMULATIVE, 0))
                .withDurability(new DurabilitySettings(mode, dir, Duration.ofHours(1)));
        return MonitorService.create(config, new EjmlEigenSolver()).start();
    }

    static void assertLayer(MonitorService service, String layer, double[] x, int n, int dims) {
        TestServers.settle(service);
        JsonNode s = new Http(service.server().baseUrl()).get("/v1/runs/golden/layers/" + layer + "/spectrum").json();
        assertThat(s.get("samples").asLong()).isEqualTo(n);
        CovarianceAccumulator ref = CovarianceAccumulator.create(dims);
        ref.update(x, n);
        double[] expected = SpectrumAnalyzer.analyze(ref.snapshot(), AnalysisOptions.defaults(new EjmlEigenSolver()))
                .spectrum().normalized();
        double[] got = new double[s.get("eigenvalues").size()];
        for (int i = 0; i < got.length; i++) {
            got[i] = s.get("eigenvalues").get(i).asDouble();
        }
        assertThat(Dense.relativeError(got, expected)).isLessThan(1e-10);
    }

    @Test
    void checkpointOfVersion1WithLayerStatesOfVersion1Restores(@TempDir Path tmp) throws IOException {
        Path dir = copy("golden/v1/checkpoint", tmp.resolve("c"));
        try (MonitorService service = start(Durability.Mode.CHECKPOINT, dir)) {
            assertThat(service.monitor().runs()).containsOnlyKeys("golden");
            assertLayer(service, "a", rows(0, 68, 6, 0), 68, 6);
            assertLayer(service, "b", rows(0, 25, 4, 2), 25, 4);
            JsonNode history = new Http(service.server().baseUrl()).get("/v1/runs/golden/layers/a/history").json();
            assertThat(history.get("history").size()).isGreaterThanOrEqualTo(1);
            assertThat(history.get("history").get(0).get("step").asLong()).isEqualTo(3);
        }
    }

    @Test
    void writeAheadLogOfVersion1ReplaysOnItsCheckpoint(@TempDir Path tmp) throws IOException {
        try (MonitorService service = start(Durability.Mode.WAL, copy("golden/v1/wal", tmp.resolve("w")))) {
            // checkpoint at 6 (a: rows 0..67, b: rows 0..24, gone/x), then the log: a += rows 68..76,
            // b += rows 25..35, delete run gone
            assertThat(service.monitor().runs()).containsOnlyKeys("golden");
            assertLayer(service, "a", rows(0, 77, 6, 0), 77, 6);
            assertLayer(service, "b", rows(0, 36, 4, 2), 36, 4);
            assertThat(service.monitor().recovery().lastSeq()).isGreaterThanOrEqualTo(8);
        }
    }
}
