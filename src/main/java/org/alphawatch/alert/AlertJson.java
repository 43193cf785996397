package org.alphawatch.alert;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.alphawatch.report.JsonFields;

/** The JSON form of an alert (API, SSE and webhook). */
public final class AlertJson {
    private AlertJson() {}

    public static Map<String, Object> toMap(Alert a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(JsonFields.KIND, a.kind().label());
        m.put(JsonFields.RUN, a.run());
        m.put(JsonFields.LAYER, a.layer());
        m.put(JsonFields.STEP, a.step() < 0 ? null : a.step());
        m.put(JsonFields.TIME_MS, a.timeMillis());
        m.put(JsonFields.VALUE, Double.isFinite(a.value()) ? a.value() : null);
        m.put(JsonFields.BASELINE, Double.isFinite(a.baseline()) ? a.baseline() : null);
        m.put(JsonFields.MESSAGE, a.message());
        List<Map<String, Object>> evidence = new ArrayList<>();
        for (Alert.Evidence e : a.evidence()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put(JsonFields.LAYER, e.layer());
            x.put(JsonFields.STATISTIC, e.statistic());
            x.put(JsonFields.VALUE, finite(e.value()));
            x.put(JsonFields.BASELINE, finite(e.baseline()));
            x.put(JsonFields.NOISE, finite(e.noise()));
            x.put(JsonFields.SIGMAS, finite(e.sigmas()));
            x.put(JsonFields.EVIDENCE, finite(e.evidence()));
            evidence.add(x);
        }
        m.put(JsonFields.EVIDENCE, evidence);
        return m;
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
