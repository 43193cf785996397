package org.alphawatch.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.server.MonitorService;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Test;

/**
 * Every Grafana dashboard and Prometheus rule file parses, and every metric they use is one a
 * running server really exports (or a recording rule defined in the rules file).
 */
class DashboardsAndRulesTest {
    private static final Pattern METRIC = Pattern.compile("\\b(alphawatch[_:][a-zA-Z0-9_:]*)");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** Sample names in a scrape of a server holding a layer with every kind of data. */
    static Set<String> exportedNames() throws Exception {
        try (MonitorService service = TestServers.start(TestServers.manualRefresh(WindowMode.CUMULATIVE, 0).withCiGroups(4))) {
            Http http = new Http(service.server().baseUrl());
            for (int b = 0; b < 4; b++) {
                double[] x = TestServers.layerData(2, 0, b, 300, 40);
                http.post("/v1/runs/ops/layers/h1/batches?step=" + b, NpyWriter.toBytes(x, 300, 40));
            }
            http.post("/v1/runs/ops/layers/h1/batches?step=9", new byte[] {1, 2, 3}); // a refusal
            TestServers.settle(service);
            service.metrics().alert(new LayerKey("ops", "h1"), "alpha_shift");
            Set<String> names = new TreeSet<>();
            for (String line : http.get("/metrics").body().split("\n")) {
                if (!line.startsWith("#") && !line.isBlank()) {
                    names.add(line.split("[{ ]", 2)[0]);
                }
            }
            return names;
        }
    }

    static List<String> dashboardExprs(JsonNode node, List<String> out) {
        if (node.isObject()) {
            node.properties().forEach(e -> {
                if ((e.getKey().equals("expr") || e.getKey().equals("query") || e.getKey().equals("definition"))
                        && e.getValue().isTextual()) {
                    out.add(e.getValue().asText());
                } else {
                    dashboardExprs(e.getValue(), out);
                }
            });
        } else if (node.isArray()) {
            node.forEach(n -> dashboardExprs(n, out));
        }
        return out;
    }

    @Test
    void everyMetricUsedIsExported() throws Exception {
        Set<String> exported = exportedNames();
        JsonNode rules = YAML.readTree(Path.of("docker/prometheus/rules/alphawatch.yml").toFile());
        Map<String, String> recorded = new TreeMap<>();
        List<String> exprs = new ArrayList<>();
        for (JsonNode group : rules.get("groups")) {
            for (JsonNode rule : group.get("rules")) {
                if (rule.has("record")) {
                    recorded.put(rule.get("record").asText(), rule.get("expr").asText());
                }
                exprs.add(rule.get("expr").asText());
            }
        }
        assertThat(recorded).hasSize(7);
        List<Path> dashboards;
        try (Stream<Path> s = Files.list(Path.of("grafana/dashboards"))) {
            dashboards = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        assertThat(dashboards).hasSize(3);
        for (Path d : dashboards) {
            JsonNode dash = JSON.readTree(d.toFile());
            assertThat(dash.get("uid").asText()).startsWith("alphawatch-");
            assertThat(dash.get("panels").size()).as(d.toString()).isGreaterThan(2);
            for (JsonNode panel : dash.get("panels")) {
                assertThat(panel.get("datasource").get("uid").asText()).isEqualTo("alphawatch-prometheus");
            }
            exprs.addAll(dashboardExprs(dash, new ArrayList<>()));
        }
        Set<String> used = new TreeSet<>();
        for (String e : exprs) {
            Matcher m = METRIC.matcher(e);
            while (m.find()) {
                used.add(m.group(1));
            }
        }
        assertThat(used).hasSizeGreaterThan(15);
        // Scale-out's series exist only with Kafka: they must be the documented ones, which
        // KafkaDoorsTest checks against a live cluster's scrape.
        Set<String> kafka = new TreeSet<>();
        Matcher documented = Pattern.compile("^\\| `(alphawatch_kafka_[a-z0-9_]+)`", Pattern.MULTILINE)
                .matcher(Files.readString(Path.of("docs/metrics-reference.md")));
        while (documented.find()) {
            kafka.add(documented.group(1));
        }
        for (String name : used) {
            if (name.contains(":")) {
                assertThat(recorded).as("recording rule " + name).containsKey(name);
            } else if (name.startsWith("alphawatch_kafka_")) {
                assertThat(kafka).as("scale-out metric " + name + " used by a dashboard or rule").contains(name);
            } else {
                assertThat(exported).as("metric " + name + " used by a dashboard or rule").contains(name);
            }
        }
    }

    @Test
    void provisioningPointsAtTheDashboardsAndTheDataSource() throws IOException {
        JsonNode ds = YAML.readTree(Path.of("grafana/provisioning/datasources/prometheus.yml").toFile());
        assertThat(ds.get("datasources").get(0).get("uid").asText()).isEqualTo("alphawatch-prometheus");
        assertThat(ds.get("datasources").get(0).get("url").asText()).isEqualTo("http://prometheus:9090");
        JsonNode dash = YAML.readTree(Path.of("grafana/provisioning/dashboards/alphawatch.yml").toFile());
        assertThat(dash.get("providers").get(0).get("options").get("path").asText()).isEqualTo("/var/lib/grafana/dashboards");
        String compose = Files.readString(Path.of("docker/docker-compose.yml"));
        assertThat(compose).contains("../grafana/dashboards:/var/lib/grafana/dashboards",
                "../grafana/provisioning:/etc/grafana/provisioning", "./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml",
                "./prometheus/rules:/etc/prometheus/rules");
    }
}
