package org.alphawatch.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.Resources;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Test;

/**
 * The public documents pinned whole: a spectrum document and the /metrics exposition of one known
 * layer. Structure, names, order, types, strings and integers must match exactly; floating-point
 * values to {@link #RELATIVE_TOLERANCE}, because they go through OpenBLAS, whose kernels (chosen by
 * CPU, {@code OPENBLAS_CORETYPE} and thread count) round differently in the last bits. Only what
 * depends on the clock is masked. A renamed field, a new series or a changed value makes this red;
 * an intended change updates the golden files.
 */
class GoldenDocumentsTest {
    /** Set to rewrite the golden files after an intended change (then review the diff). */
    static final String UPDATE = "ALPHAWATCH_UPDATE_GOLDEN";

    /**
     * Kernel choice moves these values by a few ulps (2e-16 relative seen between Intel and AMD
     * kernels). Their correctness is checked against numpy elsewhere, to 1e-9 (AnalyzeCommandTest,
     * ServerIntegrationTest), so here they are pinned to the same 1e-9: far above rounding, far below
     * any change of formula, window or convention.
     */
    static final double RELATIVE_TOLERANCE = 1e-9;

    @Test
    void theSpectrumDocumentAndTheMetricsExpositionAreTheGoldenOnes() throws Exception {
        try (MonitorService service = TestServers.start(TestServers.manualRefresh(WindowMode.CUMULATIVE, 0))) {
            Http http = new Http(service.server().baseUrl());
            assertThat(http.post("/v1/runs/golden/layers/fc/batches?step=7",
                    NpyWriter.toBytes(TestServers.layerData(3, 0, 0, 400, 12), 400, 12)).status()).isEqualTo(202);
            TestServers.settle(service);
            ObjectMapper json = new ObjectMapper();
            ObjectNode doc = (ObjectNode) json.readTree(http.get("/v1/runs/golden/layers/fc/spectrum").body());
            doc.put("refreshed_at_ms", 0).put("refresh_seconds", 0);
            String spectrum = json.writerWithDefaultPrettyPrinter().writeValueAsString(doc) + "\n";
            update(spectrum, "spectrum.json");
            assertSameJson(json.readTree(Files.readString(golden("spectrum.json"))), doc, "$");
            List<String> lines = new ArrayList<>();
            for (String line : http.get("/metrics").body().split("\n")) {
                if (line.startsWith("#") && !line.startsWith("# TYPE") && !line.startsWith("# HELP")) {
                    continue;
                }
                // Durations and times depend on the machine: their values are masked, their series kept.
                boolean timed = line.matches("^[a-z_]*(seconds|_ms|timestamp)[a-z_]*(\\{.*})? .*");
                lines.add(timed && !line.startsWith("#") ? line.replaceAll(" [^ ]+$", " <masked>") : line);
            }
            update(String.join("\n", lines) + "\n", "metrics.txt");
            assertSameExposition(Files.readAllLines(golden("metrics.txt")), lines);
        }
    }

    /** The comparison itself: rounding passes; a changed value, name, order or type does not. */
    @Test
    void theComparisonForgivesRoundingAndNothingElse() throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode golden = json.readTree("{\"alpha\": 1.2628560044531072, \"n\": 400, \"flags\": [\"x\"], \"ci\": null}");
        assertSameJson(golden, json.readTree("{\"alpha\": 1.2628560044531074, \"n\": 400, \"flags\": [\"x\"], \"ci\": null}"), "$");
        for (String wrong : new String[] {
            "{\"alpha\": 1.2628570044531072, \"n\": 400, \"flags\": [\"x\"], \"ci\": null}", // a value, 1e-6 off
            "{\"alpha\": 1.2628560044531072, \"n\": 401, \"flags\": [\"x\"], \"ci\": null}", // a count
            "{\"alpha\": 1.2628560044531072, \"n\": 400.0, \"flags\": [\"x\"], \"ci\": null}", // a type
            "{\"alpha\": 1.2628560044531072, \"n\": 400, \"flags\": [\"y\"], \"ci\": null}", // a string
            "{\"alpha\": 1.2628560044531072, \"n\": 400, \"flags\": [], \"ci\": null}", // a length
            "{\"n\": 400, \"alpha\": 1.2628560044531072, \"flags\": [\"x\"], \"ci\": null}", // the order
            "{\"alpha\": 1.2628560044531072, \"n\": 400, \"flags\": [\"x\"], \"ci\": 0.5}", // null became a value
            "{\"alpha\": 1.2628560044531072, \"n\": 400, \"flag\": [\"x\"], \"ci\": null}"}) { // a name
            assertThatThrownBy(() -> assertSameJson(golden, json.readTree(wrong), "$")).as(wrong)
                    .isInstanceOf(AssertionError.class);
        }
        List<String> metrics = List.of("# TYPE a gauge", "a{run=\"r\"} 1.2628560044531072", "b NaN", "c <masked>");
        assertSameExposition(metrics, List.of("# TYPE a gauge", "a{run=\"r\"} 1.2628560044531074", "b NaN", "c <masked>"));
        for (List<String> wrong : List.of(
                List.of("# TYPE a gauge", "a{run=\"r\"} 1.26286", "b NaN", "c <masked>"),
                List.of("# TYPE a gauge", "a{run=\"s\"} 1.2628560044531072", "b NaN", "c <masked>"),
                List.of("# TYPE a gauge", "a{run=\"r\"} 1.2628560044531072", "b 0.0", "c <masked>"),
                List.of("# TYPE a counter", "a{run=\"r\"} 1.2628560044531072", "b NaN", "c <masked>"),
                List.of("# TYPE a gauge", "a{run=\"r\"} 1.2628560044531072", "b NaN"))) {
            assertThatThrownBy(() -> assertSameExposition(metrics, wrong)).as(wrong.toString())
                    .isInstanceOf(AssertionError.class);
        }
    }

    static void assertSameJson(JsonNode golden, JsonNode actual, String path) {
        assertThat(actual.getNodeType()).as(path + " type").isEqualTo(golden.getNodeType());
        if (golden.isObject()) {
            List<String> names = new ArrayList<>();
            golden.fieldNames().forEachRemaining(names::add);
            List<String> actualNames = new ArrayList<>();
            actual.fieldNames().forEachRemaining(actualNames::add);
            assertThat(actualNames).as(path + " field names, in order").isEqualTo(names);
            for (String name : names) {
                assertSameJson(golden.get(name), actual.get(name), path + "." + name);
            }
        } else if (golden.isArray()) {
            assertThat(actual.size()).as(path + " length").isEqualTo(golden.size());
            Iterator<JsonNode> a = actual.elements();
            int i = 0;
            for (JsonNode g : golden) {
                assertSameJson(g, a.next(), path + "[" + i++ + "]");
            }
        } else if (golden.isFloatingPointNumber()) {
            assertThat(actual.isFloatingPointNumber()).as(path + " is a floating-point number").isTrue();
            assertClose(golden.doubleValue(), actual.doubleValue(), path);
        } else {
            // Strings, booleans, null and integers (counts, steps, ranks, windows) are exact.
            assertThat(actual.isIntegralNumber()).as(path + " is an integer").isEqualTo(golden.isIntegralNumber());
            assertThat(actual).as(path).isEqualTo(golden);
        }
    }

    /** Comment lines, series and non-numeric values (masked) exactly; numeric values to the tolerance. */
    static void assertSameExposition(List<String> golden, List<String> actual) {
        assertThat(actual.size()).as("/metrics lines").isEqualTo(golden.size());
        for (int i = 0; i < golden.size(); i++) {
            String g = golden.get(i);
            String a = actual.get(i);
            int cut = g.lastIndexOf(' ');
            if (g.startsWith("#") || cut < 0 || !isNumber(g.substring(cut + 1))) {
                assertThat(a).as("/metrics line %d", i + 1).isEqualTo(g);
                continue;
            }
            assertThat(a.lastIndexOf(' ')).as("/metrics line %d: %s", i + 1, a).isEqualTo(cut);
            assertThat(a.substring(0, cut)).as("/metrics line %d series", i + 1).isEqualTo(g.substring(0, cut));
            assertClose(Double.parseDouble(g.substring(cut + 1)), Double.parseDouble(a.substring(cut + 1)), g);
        }
    }

    private static boolean isNumber(String s) {
        try {
            Double.parseDouble(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static void assertClose(double golden, double actual, String what) {
        if (Double.isNaN(golden) || Double.isInfinite(golden)) {
            assertThat(Double.valueOf(actual)).as(what).isEqualTo(Double.valueOf(golden));
        } else {
            assertThat(Math.abs(actual - golden)).as("%s: %s, golden %s", what, actual, golden)
                    .isLessThanOrEqualTo(RELATIVE_TOLERANCE * Math.abs(golden));
        }
    }

    private static Path golden(String name) {
        return Resources.path("golden/documents/" + name);
    }

    private static void update(String actual, String name) throws Exception {
        if (System.getenv(UPDATE) != null) {
            Files.writeString(Path.of("src/test/resources/golden/documents", name), actual);
        }
    }
}
