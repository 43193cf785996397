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
 * drift run (license prose, then Python code) with {@code --port -1} (no server: the help's
 * promise), whose change the detector catches with no false alarm before it; the report says which
 * statistics and layers raised the alert and the drift plot marks it.
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
        run("demo", "transformer", "--drift", "--max-tokens", "24000", "--out", out.toString(), "--port", "-1");
        String report = Files.readString(out.resolve("transformer.md"));
        assertThat(report).contains("| layer6 |", "false alarms before the switch: **0**", "**caught** by",
                "what moved, per alert");
        // Every alert after the switch names the layers and statistics that moved, with their noise.
        assertThat(report).containsPattern("    - (embeddings|layer\\d): (alpha|curvature|participation|subspace) "
                + "-?\\d+\\.\\d+ -> -?\\d+\\.\\d+, noise \\d+\\.\\d+");
        for (String plot : new String[] {"transformer-spectra.svg", "transformer-alpha-depth.svg", "transformer-drift.svg"}) {
            assertThat(Files.readString(out.resolve(plot))).startsWith("<svg");
        }
        assertThat(Files.readString(out.resolve("transformer-drift.svg"))).contains("alert: ");
    }
}
