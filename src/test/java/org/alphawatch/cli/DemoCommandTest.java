package org.alphawatch.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demos end to end, exactly as a user runs them (in-process). */
@Tag("slow")
class DemoCommandTest {
    @Test
    void quickAutoencoderDemoWritesAFullReport(@TempDir Path dir) throws Exception {
        StringWriter out = new StringWriter();
        int status = Main.run(new String[] {"demo", "--quick", "--port", "0", "--out", dir.toString()},
                new PrintWriter(out), new PrintWriter(new StringWriter()));
        String text = out.toString();
        assertThat(status).as(text).isZero();
        assertThat(text).contains("training steps/s on", "1,500 steps per model; expected duration", "live: http://127.0.0.1:",
                "progress:", "ae-d0.8 ", "alpha [95% CI]", "Spearman(dropout, alpha)", "Unexplained alerts: ", "report: ");
        // One table row per dropout x hidden layer.
        assertThat(text.lines().filter(l -> l.matches("0\\.[02468]\\s+h[123]\\s+.*")).count()).isEqualTo(15);
        String report = Files.readString(dir.resolve("report.md"));
        assertThat(report).contains("## Summary", "## Spectra", "## alpha during training", "## alpha vs dropout",
                "## Probe trajectories", "## Trajectory energy", "Trends");
        for (String svg : new String[] {"spectrum-h1.svg", "spectrum-h2.svg", "spectrum-h3.svg", "alpha-vs-step-h1.svg",
            "alpha-vs-step-h3.svg", "alpha-vs-dropout.svg", "probe-h2.svg", "energy-h2.svg"}) {
            String content = Files.readString(dir.resolve(svg));
            assertThat(content).as(svg).startsWith("<svg").contains("polyline");
            assertThat(report).contains("](" + svg + ")");
        }
    }

    @Test
    void superpositionDemoReportsFeaturesPerDimension(@TempDir Path dir) throws Exception {
        StringWriter out = new StringWriter();
        int status = Main.run(new String[] {"demo", "superposition", "--quick", "--out", dir.toString()},
                new PrintWriter(out), new PrintWriter(new StringWriter()));
        assertThat(status).as(out.toString()).isZero();
        assertThat(out.toString()).contains("features/dim", "optimum n/m", "alpha(h)");
        String md = Files.readString(dir.resolve("superposition.md"));
        assertThat(md).contains("optimum", "](superposition.svg)");
        assertThat(Files.readString(dir.resolve("superposition.svg"))).startsWith("<svg");
    }

    @Test
    void badDemoArgumentsAreUsageErrors() {
        StringWriter err = new StringWriter();
        assertThat(Main.run(new String[] {"demo", "nonsense"}, new PrintWriter(new StringWriter()), new PrintWriter(err)))
                .isEqualTo(2);
        assertThat(err.toString()).contains("demo mode 'nonsense'");
        assertThat(Main.run(new String[] {"demo", "--activation", "sigmoid", "--quick"},
                new PrintWriter(new StringWriter()), new PrintWriter(err))).isEqualTo(2);
        assertThat(Main.run(new String[] {"demo", "--quick", "--full"}, new PrintWriter(new StringWriter()),
                new PrintWriter(err))).isEqualTo(2);
        assertThat(err.toString()).contains("--quick and --full exclude each other");
        assertThat(Main.run(new String[] {"demo", "--claims", "--full"}, new PrintWriter(new StringWriter()),
                new PrintWriter(err))).isEqualTo(2);
        assertThat(err.toString()).contains("--claims runs its own fixed design");
    }
}
