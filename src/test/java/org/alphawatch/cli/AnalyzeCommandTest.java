package org.alphawatch.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.alphawatch.io.NpyArray;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.testing.Resources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code analyze} end to end through the real command line (in-process), files generated or shipped. */
class AnalyzeCommandTest {
    record Result(int status, String out, String err) {
        JsonNode json() throws IOException {
            return new ObjectMapper().readTree(out);
        }
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Result(status, out.toString(), err.toString());
    }

    private static String ref(String name) {
        return Resources.path("reference/" + name).toString();
    }

    @Test
    void humanReportShowsAlphaWindowMetricsAndAPlot() {
        Result r = run("analyze", ref("gauss_a1.2_6000x128.npy"));
        assertThat(r.status()).isZero();
        assertThat(r.out()).contains("samples n = 6000, units m = 128", "alpha = 1.2118", "95% CI", "r^2 = ",
                "fit window 11:126", "flags: none", "effective rank", "participation ratio", "stable rank",
                "explained variance", "redundancy", "spectrum (log-log");
        assertThat(r.out().lines().filter(l -> l.contains("|") && l.contains("*")).count()).isGreaterThan(5);
    }

    @Test
    void jsonHasTheContractFields() throws IOException {
        Result r = run("analyze", "--json", ref("gauss_a1.2_6000x128.npy"));
        assertThat(r.status()).isZero();
        JsonNode j = r.json();
        assertThat(j.get("samples").asLong()).isEqualTo(6000);
        assertThat(j.get("dims").asInt()).isEqualTo(128);
        assertThat(j.get("alpha").asDouble()).isCloseTo(1.2118489012713973, within(1e-9));
        assertThat(j.get("alpha_r2").asDouble()).isBetween(0.99, 1.0);
        assertThat(j.get("fit_range").get(0).asInt()).isEqualTo(11);
        assertThat(j.get("fit_range").get(1).asInt()).isEqualTo(126);
        for (String f : new String[] {"effective_rank", "participation_ratio", "stable_rank"}) {
            assertThat(j.get(f).asDouble()).isGreaterThan(1);
        }
        JsonNode ev = j.get("eigenvalues");
        assertThat(ev.size()).isEqualTo(128);
        double sum = 0;
        for (int i = 0; i < ev.size(); i++) {
            sum += ev.get(i).asDouble();
            if (i > 0) {
                assertThat(ev.get(i).asDouble()).isLessThanOrEqualTo(ev.get(i - 1).asDouble());
            }
        }
        assertThat(sum).isCloseTo(1, within(1e-12));
        assertThat(j.get("alpha_ci").get(0).asDouble()).isLessThan(j.get("alpha").asDouble());
    }

    @Test
    void severalFilesAreConcatenated(@TempDir Path dir) throws IOException {
        NpyArray a = Resources.npy("reference/gauss_a1.2_6000x128.npy");
        float[] f = a.floats();
        Path first = dir.resolve("first.npy");
        Path second = dir.resolve("second.npy");
        NpyWriter.write(first, Arrays.copyOfRange(f, 0, 2500 * 128), 2500, 128);
        NpyWriter.write(second, Arrays.copyOfRange(f, 2500 * 128, f.length), 3500, 128);
        JsonNode whole = run("analyze", "--json", "--jackknife", "0", ref("gauss_a1.2_6000x128.npy")).json();
        JsonNode parts = run("analyze", "--json", "--jackknife", "0", first.toString(), second.toString()).json();
        assertThat(parts.get("samples").asLong()).isEqualTo(6000);
        assertThat(parts.get("alpha").asDouble()).isCloseTo(whole.get("alpha").asDouble(), within(1e-11));
        assertThat(parts.get("alpha_ci").isNull()).isTrue();
    }

    @Test
    void plotRepeatsAndInputDim(@TempDir Path dir) throws IOException {
        Path svg = dir.resolve("spectrum.svg");
        Result r = run("analyze", "--json", "--input-dim", "1", "--plot", svg.toString(), "--fit-range", "5:100",
                "--repeats", ref("repeat1_a2_4000x256.npy"), ref("repeat2_a2_4000x256.npy"));
        assertThat(r.status()).isZero();
        JsonNode j = r.json();
        assertThat(j.get("fit_range").toString()).isEqualTo("[5,100]");
        assertThat(j.get("smoothness_threshold").asDouble()).isEqualTo(3.0);
        assertThat(j.get("smoothness_margin").asDouble()).isCloseTo(j.get("alpha").asDouble() - 3, within(1e-12));
        assertThat(j.get("cvpca").get("alpha").asDouble()).isGreaterThan(j.get("cvpca").get("plain_alpha").asDouble() + 0.5);
        String text = Files.readString(svg);
        assertThat(text).startsWith("<svg").contains("<circle", "polyline", "fit alpha = ").endsWith("</svg>\n");

        Result def = run("analyze", "--json", "--repeats", ref("repeat1_a2_4000x256.npy"), ref("repeat2_a2_4000x256.npy"));
        assertThat(def.json().get("cvpca").get("alpha").asDouble()).isCloseTo(1.8257236502074703, within(1e-6));
    }

    @Test
    void nanIsExitTwoNamingFileRowAndColumnWithNoReport() {
        String file = Resources.path("npy/nan_r3_c1.npy").toString();
        Result r = run("analyze", file);
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains(file, "row 3, column 1 is NaN");
    }

    @Test
    void badInputsAreExitTwoWithAPreciseMessage(@TempDir Path dir) throws IOException {
        Path narrow = dir.resolve("narrow.npy");
        NpyWriter.write(narrow, new double[] {1, 2, 3, 4}, 2, 2);
        String gauss = ref("gauss_a1.2_6000x128.npy");
        Object[][] cases = {
            {new String[] {"analyze", dir.resolve("missing.npy").toString()}, "missing.npy: no such file"},
            {new String[] {"analyze", Resources.path("npy/one_d.npy").toString()}, "expected 2-D"},
            {new String[] {"analyze", Resources.path("npy/object.npy").toString()}, "object arrays"},
            {new String[] {"analyze", gauss, narrow.toString()}, "2 columns, but"},
            {new String[] {"analyze", "--fit-range", "5-10", gauss}, "--fit-range: fit range '5-10' is not LO:HI"},
            {new String[] {"analyze", "--fit-range", "200:300", gauss}, "starts beyond the 128 available eigenvalues"},
            {new String[] {"analyze", "--repeats", gauss, ref("dead_units_4000x96.npy")}, "repeats must have the same shape"},
            {new String[] {"analyze", "--jackknife", "1", gauss}, "--jackknife 1"},
            {new String[] {"analyze", "--dropout", "1.2", gauss}, "dropout 1.2 outside [0, 1)"},
            {new String[] {"analyze", "--frobnicate", gauss}, "Unknown option: '--frobnicate'"},
            {new String[] {"analyze"}, "give at least one FILE.npy"},
            {new String[] {"analyze", dir.toString()}, "is a directory"},
        };
        for (Object[] c : cases) {
            Result r = run((String[]) c[0]);
            assertThat(r.status()).as(String.join(" ", (String[]) c[0])).isEqualTo(2);
            assertThat(r.err()).as(String.join(" ", (String[]) c[0])).contains((String) c[1]);
            assertThat(r.out()).isEmpty();
        }
    }

    @Test
    void tooFewSamples(@TempDir Path dir) throws IOException {
        Path one = dir.resolve("one.npy");
        NpyWriter.write(one, new double[] {1, 2, 3}, 1, 3);
        Result r = run("analyze", one.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("need at least 2 samples");
    }
}
