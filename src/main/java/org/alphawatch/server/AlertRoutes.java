package org.alphawatch.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.alphawatch.alert.Alert;
import org.alphawatch.alert.AlertConfig;
import org.alphawatch.alert.AlertJson;
import org.alphawatch.alert.AlertService;
import org.alphawatch.pipeline.Names;
import org.alphawatch.pipeline.RejectReason;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;
import org.alphawatch.report.JsonFields;

/** {@code GET /v1/alerts} and the per-run detector thresholds {@code GET|PUT /v1/runs/{run}/alert-config}. */
final class AlertRoutes implements AlphawatchServer.ExtraRoute {
    private static final Set<String> FIELDS = Set.of(JsonFields.WARMUP, JsonFields.SHIFT_SIGMAS, JsonFields.MIN_SHIFT, JsonFields.CONFIRM,
            JsonFields.COLLAPSE_FRACTION, JsonFields.RANK_DROP_FRACTION, JsonFields.STALE_AFTER_SECONDS, JsonFields.SURGE_PER_MINUTE);
    private static final int MAX_CONFIG_BYTES = 16 * 1024;

    private final AlertService alerts;

    AlertRoutes(AlertService alerts) {
        this.alerts = alerts;
    }

    @Override
    public void register(HttpServerRoutes routes, AlphawatchServer server) {
        routes.get(ApiPaths.ALERTS, server.secured(false, (req, res) -> list(server, req, res)))
                .get(ApiPaths.ALERT_CONFIG, server.secured(false, (req, res) -> getConfig(server, req, res)))
                .put(ApiPaths.ALERT_CONFIG, server.secured(true, (req, res) -> putConfig(server, req, res)));
    }

    private Publisher<Void> list(AlphawatchServer server, HttpServerRequest req, HttpServerResponse res) {
        List<String> runFilter = new QueryStringDecoder(req.uri()).parameters().get(JsonFields.RUN);
        List<Object> out = new ArrayList<>();
        for (Alert a : alerts.recent()) {
            if (runFilter == null || runFilter.contains(a.run())) {
                out.add(AlertJson.toMap(a));
            }
        }
        return server.send(res, 200, Map.of(JsonFields.ALERTS, out));
    }

    static Map<String, Object> toMap(AlertConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(JsonFields.WARMUP, c.warmup());
        m.put(JsonFields.SHIFT_SIGMAS, c.shiftSigmas());
        m.put(JsonFields.MIN_SHIFT, c.minShift());
        m.put(JsonFields.CONFIRM, c.confirm());
        m.put(JsonFields.COLLAPSE_FRACTION, c.collapseFraction());
        m.put(JsonFields.RANK_DROP_FRACTION, c.rankDropFraction());
        m.put(JsonFields.STALE_AFTER_SECONDS, c.staleAfter().toSeconds());
        m.put(JsonFields.SURGE_PER_MINUTE, c.surgePerMinute());
        return m;
    }

    private Publisher<Void> getConfig(AlphawatchServer server, HttpServerRequest req, HttpServerResponse res) {
        String run = req.param("run");
        if (!Names.valid(run)) {
            return server.reject(res, RejectReason.INVALID_NAME, "run name is invalid");
        }
        return server.send(res, 200, toMap(alerts.engine().config(run)));
    }

    private Publisher<Void> putConfig(AlphawatchServer server, HttpServerRequest req, HttpServerResponse res) {
        String run = req.param("run");
        if (!Names.valid(run)) {
            return server.reject(res, RejectReason.INVALID_NAME, "run name is invalid");
        }
        if (!server.monitor().runs().containsKey(run)) {
            return server.error(res, QueryError.NOT_FOUND, "no run '" + run + "' (thresholds are set for existing runs)");
        }
        // Read at most 16 KiB, from the bodies' memory budget: a larger body is refused as it arrives.
        BodyBudget.Body body = server.bodies().body(MAX_CONFIG_BYTES);
        return AlphawatchServer.readBody(req, body::add)
                .then(Mono.defer(() -> Mono.from(apply(server, res, run, body.bytes()))))
                .onErrorResume(BodyBudget.TooLarge.class, e -> {
                    res.header("Connection", "close");
                    return Mono.from(server.reject(res, RejectReason.BODY_TOO_LARGE,
                            "config body over 16 KiB"));
                })
                .onErrorResume(BodyBudget.Exhausted.class, e -> {
                    res.header("Connection", "close").header("Retry-After", "1");
                    return Mono.from(server.reject(res, RejectReason.BODY_MEMORY, e.getMessage()));
                })
                .doFinally(signal -> body.release());
    }

    private Publisher<Void> apply(AlphawatchServer server, HttpServerResponse res, String run, byte[] body) {
        try {
            JsonNode n = server.json().readTree(body);
            if (n == null || !n.isObject()) {
                throw new IllegalArgumentException("body must be a JSON object");
            }
            for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!FIELDS.contains(f)) {
                    throw new IllegalArgumentException("unknown field '" + f + "' (known: " + FIELDS + ")");
                }
            }
            AlertConfig c = alerts.engine().config(run);
            AlertConfig updated = new AlertConfig(integer(n, JsonFields.WARMUP, c.warmup()),
                    number(n, JsonFields.SHIFT_SIGMAS, c.shiftSigmas()), number(n, JsonFields.MIN_SHIFT, c.minShift()),
                    integer(n, JsonFields.CONFIRM, c.confirm()), number(n, JsonFields.COLLAPSE_FRACTION, c.collapseFraction()),
                    number(n, JsonFields.RANK_DROP_FRACTION, c.rankDropFraction()),
                    Duration.ofSeconds(integer(n, JsonFields.STALE_AFTER_SECONDS, c.staleAfter().toSeconds())),
                    integer(n, JsonFields.SURGE_PER_MINUTE, c.surgePerMinute()));
            alerts.engine().configure(run, updated);
            return server.send(res, 200, toMap(updated));
        } catch (IllegalArgumentException e) {
            return server.reject(res, RejectReason.BAD_PARAMETER, e.getMessage());
        } catch (java.io.IOException e) {
            return server.reject(res, RejectReason.BAD_PARAMETER, "body is not JSON: " + e.getMessage());
        }
    }

    /** A JSON number (not a string, object or boolean), or the fallback when the field is absent. */
    private static double number(JsonNode n, String field, double fallback) {
        JsonNode v = n.get(field);
        if (v == null) {
            return fallback;
        }
        if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
            throw new IllegalArgumentException(field + " must be a finite number, got " + v);
        }
        return v.asDouble();
    }

    /** A JSON integer (3, not 3.9, "3" or 3.0e0 with a fraction), or the fallback when absent. */
    private static int integer(JsonNode n, String field, long fallback) {
        JsonNode v = n.get(field);
        if (v == null) {
            return (int) fallback;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new IllegalArgumentException(field + " must be an integer, got " + v);
        }
        return v.asInt();
    }
}
