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

/** {@code GET /v1/alerts} and the per-run detector thresholds {@code GET|PUT /v1/runs/{run}/alert-config}. */
final class AlertRoutes implements AlphawatchServer.ExtraRoute {
    private static final Set<String> FIELDS = Set.of("warmup", "baseline_weight", "cusum_slack", "cusum_threshold",
            "min_scale", "collapse_fraction", "stale_after_seconds", "surge_per_minute");
    private static final long MAX_CONFIG_BYTES = 16 * 1024;

    private final AlertService alerts;

    AlertRoutes(AlertService alerts) {
        this.alerts = alerts;
    }

    @Override
    public void register(HttpServerRoutes routes, AlphawatchServer server) {
        routes.get(ApiPaths.ALERTS, (req, res) -> list(server, req, res))
                .get(ApiPaths.ALERT_CONFIG, (req, res) -> getConfig(server, req, res))
                .put(ApiPaths.ALERT_CONFIG, (req, res) -> putConfig(server, req, res));
    }

    private Publisher<Void> list(AlphawatchServer server, HttpServerRequest req, HttpServerResponse res) {
        if (!server.authorized(req, false)) {
            return server.error(res, 401, RejectReason.UNAUTHORIZED.label(), "missing or wrong bearer token");
        }
        List<String> runFilter = new QueryStringDecoder(req.uri()).parameters().get("run");
        List<Object> out = new ArrayList<>();
        for (Alert a : alerts.recent()) {
            if (runFilter == null || runFilter.contains(a.run())) {
                out.add(AlertJson.toMap(a));
            }
        }
        return server.send(res, 200, Map.of("alerts", out));
    }

    static Map<String, Object> toMap(AlertConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("warmup", c.warmup());
        m.put("baseline_weight", c.baselineWeight());
        m.put("cusum_slack", c.cusumSlack());
        m.put("cusum_threshold", c.cusumThreshold());
        m.put("min_scale", c.minScale());
        m.put("collapse_fraction", c.collapseFraction());
        m.put("stale_after_seconds", c.staleAfter().toSeconds());
        m.put("surge_per_minute", c.surgePerMinute());
        return m;
    }

    private Publisher<Void> getConfig(AlphawatchServer server, HttpServerRequest req, HttpServerResponse res) {
        if (!server.authorized(req, false)) {
            return server.error(res, 401, RejectReason.UNAUTHORIZED.label(), "missing or wrong bearer token");
        }
        String run = req.param("run");
        if (!Names.valid(run)) {
            return server.error(res, 400, RejectReason.INVALID_NAME.label(), "run name is invalid");
        }
        return server.send(res, 200, toMap(alerts.engine().config(run)));
    }

    private Publisher<Void> putConfig(AlphawatchServer server, HttpServerRequest req, HttpServerResponse res) {
        if (!server.authorized(req, true)) {
            return server.error(res, 401, RejectReason.UNAUTHORIZED.label(), "missing or wrong bearer token");
        }
        String run = req.param("run");
        if (!Names.valid(run)) {
            return server.error(res, 400, RejectReason.INVALID_NAME.label(), "run name is invalid");
        }
        return req.receive().aggregate().asByteArray().defaultIfEmpty(new byte[0]).flatMap(body -> {
            if (body.length > MAX_CONFIG_BYTES) {
                return Mono.from(server.error(res, 413, RejectReason.BODY_TOO_LARGE.label(), "config body over 16 KiB"));
            }
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
                AlertConfig updated = new AlertConfig(n.path("warmup").asInt(c.warmup()),
                        n.path("baseline_weight").asDouble(c.baselineWeight()),
                        n.path("cusum_slack").asDouble(c.cusumSlack()),
                        n.path("cusum_threshold").asDouble(c.cusumThreshold()),
                        n.path("min_scale").asDouble(c.minScale()),
                        n.path("collapse_fraction").asDouble(c.collapseFraction()),
                        Duration.ofSeconds(n.path("stale_after_seconds").asLong(c.staleAfter().toSeconds())),
                        n.path("surge_per_minute").asInt(c.surgePerMinute()));
                alerts.engine().configure(run, updated);
                return Mono.from(server.send(res, 200, toMap(updated)));
            } catch (IllegalArgumentException e) {
                return Mono.from(server.error(res, 400, RejectReason.BAD_PARAMETER.label(), e.getMessage()));
            } catch (java.io.IOException e) {
                return Mono.from(server.error(res, 400, RejectReason.BAD_PARAMETER.label(), "body is not JSON: "
                        + e.getMessage()));
            }
        });
    }
}
