package org.alphawatch.transformer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.alphawatch.cli.Main;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code alphawatch demo transformer} as a user runs it (the child JVM with the model's jars): a
 * short report, and a drift run (license prose, then Python code) whose change the detector
 * catches with no false alarm before it.
 */
@Tag("slow")
class TransformerDemoTest {
    static void run(String... args) {
        // The demo's child JVM writes to this process's stdout (the test log).
        int status = Main.run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        assertThat(status).isZero();
    }

    @Test
    void theDriftRunCatchesTheSwitchFromProseToCodeWithoutFalseAlarms(@TempDir Path out) throws Exception {
        run("demo", "transformer", "--drift", "--max-tokens", "30000", "--out", out.toString(), "--port", "0");
        String report = Files.readString(out.resolve("transformer.md"));
        assertThat(report).contains("| layer6 |", "false alarms before the switch: **0**", "**caught** by");
        for (String plot : new String[] {"transformer-spectra.svg", "transformer-alpha-depth.svg", "transformer-drift.svg"}) {
            assertThat(Files.readString(out.resolve(plot))).startsWith("<svg");
        }
    }
}
