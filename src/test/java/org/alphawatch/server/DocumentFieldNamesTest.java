package org.alphawatch.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.report.JsonFields;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Test;

/**
 * Every field name of every JSON document the server answers with is one of {@link JsonFields}:
 * a name written any other way (a literal in a conditional, a map built elsewhere) makes this red.
 */
class DocumentFieldNamesTest {
    /** Fields whose value is a map keyed by data (sender names, numbers of components), not by field names. */
    private static final Set<String> KEYED_BY_DATA = Set.of(JsonFields.SOURCES, JsonFields.EXPLAINED_VARIANCE);

    @Test
    void everyDocumentUsesOnlyJsonFieldsNames() throws Exception {
        Set<String> known = new TreeSet<>();
        for (Field f : JsonFields.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
                known.add((String) f.get(null));
            }
        }
        MonitorConfig sliding = TestServers.manualRefresh(WindowMode.SLIDING, 400);
        MonitorConfig decay = TestServers.manualRefresh(WindowMode.DECAY, 400);
        Set<String> seen = new TreeSet<>();
        for (MonitorConfig config : new MonitorConfig[] {sliding, decay}) {
            try (MonitorService service = TestServers.start(config)) {
                Http http = new Http(service.server().baseUrl());
                for (int b = 0; b < 6; b++) {
                    Http.Response ack = http.post("/v1/runs/names/layers/fc/batches?step=" + b + "&source=rank0",
                            NpyWriter.toBytes(TestServers.layerData(1, 0, b, 200, 12), 200, 12));
                    assertThat(ack.status()).isEqualTo(202);
                    collect(ack.json(), seen);
                }
                for (int r = 0; r < 2; r++) {
                    collect(http.post("/v1/runs/names/layers/fc/batches?step=9&repeat=" + r,
                            NpyWriter.toBytes(TestServers.layerData(1, 0, 9, 200, 12), 200, 12)).json(), seen);
                }
                collect(http.post("/v1/runs/names/layers/fc/batches?step=9&kind=probe",
                        TestServers.probeBody(64, 12, 7)).json(), seen);
                TestServers.settle(service);
                // docs/http-api.md promises each listed layer says whether it has a mature spectrum.
                assertThat(http.get("/v1/runs").json().at("/runs/0/layers/0/mature").isBoolean()).isTrue();
                for (String path : new String[] {"/v1/runs", "/v1/runs/names/layers/fc/spectrum",
                        "/v1/runs/names/layers/fc/history", "/healthz", "/v1/alerts", "/v1/runs/names/alert-config",
                        "/v1/runs/none/layers/fc/spectrum"}) {
                    Http.Response r = http.get(path);
                    assertThat(r.body()).as(path).startsWith("{");
                    collect(r.json(), seen);
                }
                collect(http.delete("/v1/runs/names").json(), seen);
            }
        }
        assertThat(seen).contains(JsonFields.PANES, JsonFields.GROUPS, JsonFields.ALPHA, JsonFields.ERROR,
                JsonFields.PROJECTION, JsonFields.READOUT_R2, JsonFields.CVPCA, JsonFields.PLAIN_ALPHA,
                JsonFields.DELETED, JsonFields.WARMUP, JsonFields.DURABILITY, JsonFields.HISTORY);
        assertThat(known).as("field names outside JsonFields").containsAll(seen);
    }

    private static void collect(JsonNode node, Set<String> names) {
        if (node.isArray()) {
            node.forEach(n -> collect(n, names));
        } else if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                names.add(e.getKey());
                if (!KEYED_BY_DATA.contains(e.getKey())) {
                    collect(e.getValue(), names);
                }
            }
        }
    }
}
