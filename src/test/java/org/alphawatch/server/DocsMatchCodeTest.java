package org.alphawatch.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.alphawatch.cli.ServeSettings;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.pipeline.RejectReason;
import org.alphawatch.report.JsonFields;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Test;

/** The reference pages are checked against the code and a running server, so they cannot drift. */
class DocsMatchCodeTest {
    private static String doc(String name) throws IOException {
        return Files.readString(Path.of("docs", name));
    }

    @Test
    void configurationPageListsEveryKeyWithItsDefault() throws IOException {
        String page = doc("configuration.md");
        for (ServeSettings.Setting k : ServeSettings.SETTINGS) {
            assertThat(page).contains("| `" + k.key() + "` | " + (k.defaultValue().isEmpty() ? "(see text)"
                    : "`" + k.defaultValue() + "`"));
        }
        Matcher m = Pattern.compile("\\| `([a-z-]+)` \\|").matcher(page);
        Set<String> documented = new TreeSet<>();
        while (m.find()) {
            documented.add(m.group(1));
        }
        Set<String> known = new TreeSet<>();
        for (ServeSettings.Setting k : ServeSettings.SETTINGS) {
            known.add(k.key());
        }
        assertThat(documented).isEqualTo(known);
    }

    @Test
    void httpPageListsEveryPathAndRejectReason() throws IOException, IllegalAccessException {
        String page = doc("http-api.md");
        for (Field f : ApiPaths.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class && !f.getName().startsWith("PARAM")) {
                String path = (String) f.get(null);
                if (!path.equals("/")) {
                    assertThat(page).as(f.getName()).contains(path);
                }
            }
        }
        for (QueryError e : QueryError.values()) {
            assertThat(page).as(e.name()).contains("`" + e.label() + "`").contains(Integer.toString(e.httpStatus()));
        }
        for (RejectReason r : RejectReason.values()) {
            assertThat(page).as(r.name()).contains("`" + r.label() + "`").contains(Integer.toString(r.httpStatus()));
        }
    }

    @Test
    void httpPageNamesEveryJsonField() throws IOException, IllegalAccessException {
        String page = doc("http-api.md");
        Set<String> missing = new TreeSet<>();
        for (Field f : JsonFields.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
                String name = (String) f.get(null);
                if (!page.contains("`" + name + "`") && !page.contains("\"" + name + "\"")) {
                    missing.add(name);
                }
            }
        }
        assertThat(missing).as("JSON fields not in docs/http-api.md").isEmpty();
    }

    @Test
    void metricsPageMatchesWhatTheServerExports() throws IOException {
        try (MonitorService service = TestServers.start(TestServers.manualRefresh(WindowMode.CUMULATIVE, 0))) {
            Http http = new Http(service.server().baseUrl());
            double[] x = TestServers.layerData(1, 0, 0, 100, 8);
            http.post("/v1/runs/doc/layers/fc/batches?step=1", NpyWriter.toBytes(x, 100, 8));
            TestServers.settle(service);
            service.metrics().alert(new org.alphawatch.pipeline.LayerKey("doc", "fc"), "alpha_shift");
            Set<String> exported = new TreeSet<>();
            for (String line : http.get("/metrics").body().split("\n")) {
                if (line.startsWith("# TYPE alphawatch_")) {
                    exported.add(line.split(" ")[2]);
                }
            }
            Set<String> documented = new TreeSet<>();
            Matcher m = Pattern.compile("^\\| `(alphawatch_[a-z0-9_]+)`", Pattern.MULTILINE).matcher(doc("metrics-reference.md"));
            while (m.find()) {
                documented.add(m.group(1));
            }
            // Scale-out's series exist only with Kafka: KafkaDoorsTest checks them against a cluster.
            documented.removeIf(name -> name.startsWith("alphawatch_kafka_"));
            assertThat(documented).isEqualTo(exported);
        }
    }
}
