package org.alphawatch.alert;

import java.util.LinkedHashMap;
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
        return m;
    }
}
