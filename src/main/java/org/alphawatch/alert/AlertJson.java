package org.alphawatch.alert;

import java.util.LinkedHashMap;
import java.util.Map;

/** The JSON form of an alert (API, SSE and webhook). */
public final class AlertJson {
    private AlertJson() {}

    public static Map<String, Object> toMap(Alert a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", a.kind().label());
        m.put("run", a.run());
        m.put("layer", a.layer());
        m.put("step", a.step() < 0 ? null : a.step());
        m.put("time_ms", a.timeMillis());
        m.put("value", Double.isFinite(a.value()) ? a.value() : null);
        m.put("baseline", Double.isFinite(a.baseline()) ? a.baseline() : null);
        m.put("message", a.message());
        return m;
    }
}
