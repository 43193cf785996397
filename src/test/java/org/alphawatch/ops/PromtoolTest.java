package org.alphawatch.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.alphawatch.testing.ExternalTools;
import org.junit.jupiter.api.Test;

/** The Prometheus configuration and rules, checked and unit-tested by Debian's promtool. */
class PromtoolTest {
    record Run(int status, String output) {}

    static Run promtool(Path dir, String... args) throws Exception {
        Path promtool = ExternalTools.require("promtool", "/usr/bin/promtool");
        String[] cmd = new String[args.length + 1];
        cmd[0] = promtool.toString();
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(p.waitFor(), out);
    }

    @Test
    void rulesAreValid() throws Exception {
        Run r = promtool(Path.of("docker/prometheus"), "check", "rules", "rules" + File.separator + "alphawatch.yml");
        System.out.println(r.output());
        assertThat(r.status()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS: 17 rules found");
    }

    @Test
    void ruleUnitTestsPass() throws Exception {
        Run r = promtool(Path.of("docker/prometheus/tests"), "test", "rules", "alphawatch_test.yml");
        System.out.println(r.output());
        assertThat(r.status()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS");
    }

    @Test
    void prometheusConfigsAreValid() throws Exception {
        for (String config : new String[] {"prometheus.yml", "scale.yml"}) {
            Run r = promtool(Path.of("docker/prometheus"), "check", "config", config);
            assertThat(r.status()).as(config + ": " + r.output()).isZero();
        }
    }
}
