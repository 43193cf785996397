package org.alphawatch.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.pipeline.Names;
import org.alphawatch.report.JsonFields;
import org.alphawatch.scale.ClusterView;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * Scale-out queries answered for the whole cluster: a layer another node owns is forwarded there,
 * run lists and event streams merge every owner's. Without a cluster every query is local.
 */
final class ClusterQueries {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterQueries.class);

    private final ClusterView cluster;
    /** Writes an error answer (the server's, so that every error looks the same). */
    @FunctionalInterface
    interface ErrorWriter {
        Publisher<Void> error(HttpServerResponse res, QueryError error, String detail);
    }

    private final ErrorWriter errors;
    private final ObjectMapper json;
    private final HttpClient peers = HttpClient.create().responseTimeout(Duration.ofSeconds(30));

    /** {@code cluster} null: a single node. */
    ClusterQueries(ClusterView cluster, ErrorWriter errors, ObjectMapper json) {
        this.cluster = cluster;
        this.errors = errors;
        this.json = json;
    }

    /** Answered from this node's layers: no cluster, or another node asking. */
    boolean localOnly(HttpServerRequest req) {
        return cluster == null || req.requestHeaders().contains(ClusterView.LOCAL_HEADER);
    }

    private HttpClient peer(HttpServerRequest req) {
        String auth = req.requestHeaders().get(HttpHeaderNames.AUTHORIZATION);
        return peers.headers(h -> {
            h.set(ClusterView.LOCAL_HEADER, "1");
            if (auth != null) {
                h.set(HttpHeaderNames.AUTHORIZATION, auth);
            }
        });
    }

    /**
     * Runs merged from every owner, and what the answer lacks: partitions without a live owner (a
     * hand-over, a dead worker) and owners that did not answer. Empty {@code missing}: complete.
     */
    record Runs(List<Object> runs, List<String> missing) {}

    /** This node's runs merged with every other owner's (a layer listed twice during a hand-over: the fuller one). */
    @SuppressWarnings("unchecked")
    Mono<Runs> runs(HttpServerRequest req, List<Object> local) {
        List<String> missing = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.Set<Integer> unowned = cluster.partitionsWithoutLiveOwner();
        if (!unowned.isEmpty()) {
            missing.add("partitions " + unowned + " have no live owner");
        }
        return Flux.fromIterable(cluster.otherOwners())
                .filter(url -> {
                    if (cluster.unreachableOwners().contains(url)) {
                        missing.add(url + " does not answer");
                        return false;
                    }
                    return true;
                })
                .flatMap(url -> peer(req).get().uri(url + ApiPaths.RUNS).responseSingle((r, body) -> body.asString())
                        .map(text -> {
                            try {
                                return (List<Object>) json.readValue(text, Map.class).get(JsonFields.RUNS);
                            } catch (JsonProcessingException e) {
                                throw new IllegalStateException(url + " answered no run list", e);
                            }
                        })
                        .onErrorResume(e -> {
                            LOG.warn("runs of {} left out: {}", url, e.toString());
                            missing.add(url + " did not answer: " + e.getMessage());
                            return Mono.just(List.of());
                        }))
                .collectList()
                .map(remote -> {
                    Map<String, Map<String, Map<String, Object>>> byRun = new java.util.TreeMap<>();
                    List<List<Object>> all = new ArrayList<>(remote);
                    all.add(0, local);
                    for (List<Object> runs : all) {
                        for (Object o : runs) {
                            Map<String, Object> run = (Map<String, Object>) o;
                            Map<String, Map<String, Object>> layers = byRun.computeIfAbsent((String) run.get(JsonFields.RUN),
                                    k -> new java.util.TreeMap<>());
                            for (Object l : (List<Object>) run.get(JsonFields.LAYERS)) {
                                Map<String, Object> layer = (Map<String, Object>) l;
                                layers.merge((String) layer.get(JsonFields.LAYER), layer, (a, b) ->
                                        ((Number) a.get(JsonFields.TOTAL_SAMPLES)).longValue()
                                                >= ((Number) b.get(JsonFields.TOTAL_SAMPLES)).longValue() ? a : b);
                            }
                        }
                    }
                    List<Object> merged = new ArrayList<>();
                    byRun.forEach((run, layers) -> {
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put(JsonFields.RUN, run);
                        m.put(JsonFields.ENDED, !layers.isEmpty() && layers.values().stream()
                                .allMatch(l -> Boolean.TRUE.equals(l.get(JsonFields.ENDED))));
                        m.put(JsonFields.LAYERS, new ArrayList<>(layers.values()));
                        merged.add(m);
                    });
                    return new Runs(merged, List.copyOf(missing));
                });
    }

    /**
     * Answers a layer query another node must answer: forwarded to a live owner (its status and body
     * as they are), or 503 with a reason and Retry-After while the layer's partition is moving or its
     * owner does not answer. Never 404 for a layer that may exist: that is a deleted run's answer.
     */
    Publisher<Void> answerElsewhere(HttpServerRequest req, HttpServerResponse res, ClusterView.Ownership owner) {
        LayerKey key = new LayerKey(req.param("run"), req.param("layer"));
        if (owner.state() == ClusterView.State.MOVING) {
            return unavailable(res, QueryError.PARTITION_MOVING, "layer " + key + ": its partition is changing owners (or has no "
                    + "worker yet); retry");
        }
        if (owner.state() == ClusterView.State.UNREACHABLE) {
            return unavailable(res, QueryError.OWNER_UNREACHABLE, "layer " + key + ": its owner " + owner.url()
                    + " does not answer; its partition moves to another worker after the session timeout; retry");
        }
        String url = owner.url();
        return peer(req).get().uri(url + req.uri())
                .responseSingle((r, body) -> body.asByteArray().defaultIfEmpty(new byte[0])
                        .map(b -> reactor.util.function.Tuples.of(r.status().code(), b)))
                .publishOn(AlphawatchServer.eventLoopOf(res))
                .flatMap(t -> {
                    ClusterView.Ownership now = cluster.ownership(key);
                    if (t.getT1() == 404 && !(now.state() == ClusterView.State.REMOTE && url.equals(now.url()))) {
                        // The owner let go while we asked: the layer is moving, not gone.
                        return Mono.from(unavailable(res, QueryError.PARTITION_MOVING, "layer " + key + " is changing owners; retry"));
                    }
                    return Mono.from(res.status(t.getT1())
                            .header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                            .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(t.getT2().length))
                            .sendByteArray(Mono.just(t.getT2())));
                })
                .onErrorResume(e -> Mono.from(unavailable(res, QueryError.OWNER_UNREACHABLE, "the node owning layer " + key + " ("
                        + url + ") did not answer: " + e.getMessage() + "; retry")));
    }

    /**
     * The answer for a layer this node does not hold: 404 when no such layer exists (a single node,
     * or the partition is this node's), 503 while its partition is not this node's (this node just
     * handed it over, or was asked before the asker saw the hand-over): it may exist elsewhere.
     */
    Publisher<Void> notHere(HttpServerRequest req, HttpServerResponse res,
                            java.util.function.Supplier<Publisher<Void>> notFound) {
        String run = req.param("run");
        String layer = req.param("layer");
        if (cluster == null || !Names.valid(run) || !Names.valid(layer)) {
            return notFound.get();
        }
        LayerKey key = new LayerKey(run, layer);
        if (cluster.ownership(key).state() == ClusterView.State.LOCAL) {
            return notFound.get();
        }
        return unavailable(res, QueryError.PARTITION_MOVING, "layer " + key + " is not on this node: its partition is changing "
                + "owners; retry");
    }

    private Publisher<Void> unavailable(HttpServerResponse res, QueryError error, String detail) {
        res.header(HttpHeaderNames.RETRY_AFTER, "1");
        return errors.error(res, error, detail);
    }

    /**
     * Who must answer for the requested layer when it is not this node (scale-out): empty for a
     * single node, a local-only request, an invalid name, or a layer this node owns.
     */
    Optional<ClusterView.Ownership> elsewhere(HttpServerRequest req) {
        String run = req.param("run");
        String layer = req.param("layer");
        if (localOnly(req) || !Names.valid(run) || !Names.valid(layer)) {
            return Optional.empty();
        }
        ClusterView.Ownership o = cluster.ownership(new LayerKey(run, layer));
        return o.state() == ClusterView.State.LOCAL ? Optional.empty() : Optional.of(o);
    }

    /** Tells every other owner that a run ended (scale-out; nothing without a cluster or for a node asked by another). */
    Mono<Void> endEverywhere(HttpServerRequest req, String run) {
        if (localOnly(req)) {
            return Mono.empty();
        }
        return Flux.fromIterable(cluster.otherOwners())
                .flatMap(url -> peer(req).post().uri(url + "/v1/runs/" + run + "/end").response()
                        .onErrorResume(e -> {
                            LOG.warn("end of run {} not told to {}: {}", run, url, e.toString());
                            return Mono.empty();
                        }))
                .then();
    }

    /** Other owners' /v1/events, re-framed into whole events; re-subscribed when the owners change. */
    Flux<String> events(HttpServerRequest req) {
        String query = req.uri().contains("?") ? req.uri().substring(req.uri().indexOf('?')) : "";
        return Flux.interval(Duration.ZERO, Duration.ofSeconds(5))
                .map(i -> List.copyOf(cluster.otherOwners()))
                .distinctUntilChanged()
                .switchMap(owners -> Flux.merge(owners.stream().map(url -> sseEvents(peer(req).get()
                        .uri(url + ApiPaths.EVENTS + query).responseContent().asString(StandardCharsets.UTF_8))
                        .onErrorResume(e -> Flux.empty())).toList()));
    }

    /** Whole SSE events ("...\n\n") from arbitrary chunks; comments (heartbeats) dropped. */
    static Flux<String> sseEvents(Flux<String> chunks) {
        return Flux.defer(() -> {
            StringBuilder pending = new StringBuilder();
            return chunks.concatMapIterable(chunk -> {
                pending.append(chunk);
                List<String> out = new ArrayList<>();
                int end;
                while ((end = pending.indexOf("\n\n")) >= 0) {
                    String event = pending.substring(0, end + 2);
                    pending.delete(0, end + 2);
                    if (!event.startsWith(":")) {
                        out.add(event);
                    }
                }
                return out;
            });
        });
    }
}
