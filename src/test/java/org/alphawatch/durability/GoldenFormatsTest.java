package org.alphawatch.durability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.alphawatch.core.analysis.AnalysisOptions;
import org.alphawatch.core.analysis.SpectrumAnalyzer;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.core.stat.CrossCovarianceAccumulator;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.server.MonitorService;
import org.alphawatch.server.ServerConfig;
import org.alphawatch.testing.Dense;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.Resources;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The version-1 golden files (src/test/resources/golden/v1, written by the code before version 2
 * of the layer state) decode with today's code into exactly the state their rows define.
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

    static Path copy(String dir, Path to) throws IOException {
        Path from = Resources.path("golden/v1/" + dir);
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
        try (MonitorService service = start(Durability.Mode.CHECKPOINT, copy("checkpoint", tmp.resolve("c")))) {
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
        try (MonitorService service = start(Durability.Mode.WAL, copy("wal", tmp.resolve("w")))) {
            // checkpoint at 6 (a: rows 0..67, b: rows 0..24, gone/x), then the log: a += rows 68..76,
            // b += rows 25..35, delete run gone
            assertThat(service.monitor().runs()).containsOnlyKeys("golden");
            assertLayer(service, "a", rows(0, 77, 6, 0), 77, 6);
            assertLayer(service, "b", rows(0, 36, 4, 2), 36, 4);
            assertThat(service.monitor().lastSeq()).isGreaterThanOrEqualTo(8);
        }
    }
}
