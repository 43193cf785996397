package org.alphawatch.clients;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.server.MonitorService;
import org.alphawatch.testing.ExternalTools;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The Python attach client's own tests and the PyTorch example, run by Debian's python3 (numpy,
 * torch, scikit-learn) against real servers started here.
 */
@Tag("slow")
class PythonClientTest {
    static final String PYTHON = System.getenv().getOrDefault("ALPHAWATCH_PYTHON", "/usr/bin/python3");

    static void requirePython() {
        ExternalTools.require("python3", PYTHON);
        ExternalTools.requireThat(ExternalTools.succeeds(PYTHON, "-c", "import numpy, torch, sklearn"),
                PYTHON + " lacks numpy, torch or scikit-learn (Debian: python3-numpy python3-torch python3-sklearn)");
    }

    record Run(int status, String output) {}

    static Run python(Map<String, String> env, String... args) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(concat(PYTHON, args)).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("python did not finish:\n" + out);
        }
        return new Run(p.exitValue(), out);
    }

    private static String[] concat(String first, String[] rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    @Test
    void clientTestsPassAgainstTheRealServer() throws Exception {
        requirePython();
        MonitorConfig tight = TestServers.manualRefresh(WindowMode.CUMULATIVE, 0).withQueue(1, 64L << 20);
        try (MonitorService normal = TestServers.start(TestServers.manualRefresh(WindowMode.CUMULATIVE, 0));
             MonitorService busy = TestServers.start(tight)) {
            Run r = python(Map.of("ALPHAWATCH_URL", normal.server().baseUrl(),
                    "ALPHAWATCH_TIGHT_URL", busy.server().baseUrl()),
                    Path.of("clients/python/tests/test_client.py").toString());
            System.out.println(r.output());
            assertThat(r.status()).as(r.output()).isZero();
            assertThat(r.output()).contains("OK").doesNotContain("skipped");
        }
    }

    @Test
    void digitsExampleTrainsAndIsWatched() throws Exception {
        requirePython();
        MonitorConfig config = MonitorConfig.defaults().withRefresh(0, Duration.ofSeconds(1));
        try (MonitorService service = TestServers.start(config)) {
            Run r = python(Map.of("ALPHAWATCH_URL", service.server().baseUrl()),
                    "clients/python/examples/train_digits.py", "--epochs", "3", "--run", "digits-ci");
            System.out.println(r.output());
            assertThat(r.status()).as(r.output()).isZero();
            assertThat(r.output()).contains("epoch   3", "test accuracy", "failed 0");
            TestServers.settle(service);
            Http http = new Http(service.server().baseUrl());
            for (String layer : List.of("act1", "act2")) {
                var s = http.get("/v1/runs/digits-ci/layers/" + layer + "/spectrum").json();
                assertThat(s.get("dims").asInt()).isEqualTo(128);
                assertThat(s.get("alpha").isNumber()).isTrue();
                assertThat(s.get("total_samples").asLong()).isGreaterThan(2000);
            }
        }
    }
}
