package org.alphawatch.clients;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.server.MonitorService;
import org.alphawatch.testing.ExternalTools;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.ServerProcess;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Python package installed as the docs say (a virtual environment over Debian's python3 with
 * numpy, torch and scikit-learn; {@code pip install --no-build-isolation}, offline), then its
 * tests and the PyTorch example run against real servers started here.
 */
@Tag("slow")
class PythonClientTest {
    static final String PYTHON = System.getenv().getOrDefault("ALPHAWATCH_PYTHON", "/usr/bin/python3");

    @TempDir
    static Path work;
    static Path venvPython;

    record Run(int status, String output) {}

    static Run run(Map<String, String> env, String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(15, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish:\n" + out);
        }
        return new Run(p.exitValue(), out);
    }

    /** The documented install, from a copy of the package (a build writes next to its sources). */
    @BeforeAll
    static void install() throws Exception {
        ExternalTools.require("python3", PYTHON);
        ExternalTools.requireThat(ExternalTools.succeeds(PYTHON, "-c", "import numpy, torch, sklearn, venv, pip"),
                PYTHON + " lacks numpy, torch, scikit-learn, venv or pip (Debian: python3-numpy python3-torch"
                        + " python3-sklearn python3-venv python3-pip python3-setuptools)");
        Path source = work.resolve("package");
        copy(Path.of("clients/python"), source);
        Path venv = work.resolve("venv");
        Run created = run(Map.of(), PYTHON, "-m", "venv", "--system-site-packages", venv.toString());
        assertThat(created.status()).as(created.output()).isZero();
        venvPython = venv.resolve("bin/python");
        Run installed = run(Map.of("PIP_NO_INDEX", "1"), venvPython.toString(), "-m", "pip", "install",
                "--no-build-isolation", source.toString());
        assertThat(installed.status()).as(installed.output()).isZero();
    }

    private static void copy(Path from, Path to) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(from)) {
            files = new ArrayList<>(s.filter(p -> !p.toString().contains("__pycache__")).sorted(Comparator.naturalOrder())
                    .toList());
        }
        for (Path f : files) {
            Path target = to.resolve(from.relativize(f).toString());
            if (Files.isDirectory(f)) {
                Files.createDirectories(target);
            } else {
                Files.copy(f, target);
            }
        }
    }

    @Test
    void packageTestsPassAgainstRealServers() throws Exception {
        MonitorConfig normal = MonitorConfig.defaults().withWindow(WindowMode.CUMULATIVE, 0)
                .withRefresh(0, Duration.ofSeconds(1)).withMinSamples(2);
        MonitorConfig tight = TestServers.manualRefresh(WindowMode.CUMULATIVE, 0).withQueue(1, 64L << 20);
        MonitorConfig panes = MonitorConfig.defaults().withWindow(WindowMode.SLIDING, 640).withCiGroups(8)
                .withRefresh(0, Duration.ofSeconds(1)).withMinSamples(2);
        try (MonitorService service = TestServers.start(normal); MonitorService busy = TestServers.start(tight);
             MonitorService sliding = TestServers.start(panes)) {
            // The restart tests start and kill `serve` processes of this build themselves.
            Run r = run(Map.of("ALPHAWATCH_URL", service.server().baseUrl(),
                    "ALPHAWATCH_TIGHT_URL", busy.server().baseUrl(),
                    "ALPHAWATCH_SLIDING_URL", sliding.server().baseUrl(),
                    "ALPHAWATCH_JAVA", ServerProcess.java(),
                    "ALPHAWATCH_CLASSPATH", ServerProcess.classPath()),
                    venvPython.toString(), "-W", "error::ResourceWarning", "clients/python/tests/test_attach.py");
            System.out.println(r.output());
            assertThat(r.status()).as(r.output()).isZero();
            assertThat(r.output()).contains("OK").doesNotContain("skipped");
        }
    }

    @Test
    void digitsExampleTrainsAndIsWatched() throws Exception {
        MonitorConfig config = MonitorConfig.defaults().withRefresh(0, Duration.ofSeconds(1));
        try (MonitorService service = TestServers.start(config)) {
            Run r = run(Map.of("ALPHAWATCH_URL", service.server().baseUrl()), venvPython.toString(),
                    "clients/python/examples/train_digits.py", "--epochs", "3", "--run", "digits-ci");
            System.out.println(r.output());
            assertThat(r.status()).as(r.output()).isZero();
            // 1437 training digits in batches of 64, three epochs; the test passes are not recorded.
            assertThat(r.output()).contains("epoch   3", "test accuracy", "act1: 4311 rows recorded, 4311 merged",
                    "act2: 4311 rows recorded, 4311 merged", "0 dropped");
            TestServers.settle(service);
            Http http = new Http(service.server().baseUrl());
            for (String layer : List.of("act1", "act2")) {
                var s = http.get("/v1/runs/digits-ci/layers/" + layer + "/spectrum").json();
                assertThat(s.get("dims").asInt()).isEqualTo(128);
                assertThat(s.get("alpha").isNumber()).isTrue();
                assertThat(s.get("total_samples").asLong()).isEqualTo(4311);
            }
        }
    }
}
