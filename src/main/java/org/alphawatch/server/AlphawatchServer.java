package org.alphawatch.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.alphawatch.io.NpyBody;
import org.alphawatch.io.NpyFormatException;
import org.alphawatch.io.PartialMoments;
import org.alphawatch.metrics.MonitorMetrics;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.Admission;
import org.alphawatch.pipeline.BatchSink;
import org.alphawatch.pipeline.BatchKind;
import org.alphawatch.pipeline.Delivery;
import org.alphawatch.pipeline.LayerOptions;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.pipeline.LayerSnapshot;
import org.alphawatch.pipeline.Monitor;
import org.alphawatch.pipeline.Names;
import org.alphawatch.pipeline.RejectReason;
import org.alphawatch.report.JsonFields;
import org.alphawatch.scale.ClusterView;
import org.alphawatch.report.SnapshotJson;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.DisposableServer;
import reactor.netty.http.Http11SslContextSpec;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;

/**
 * The HTTP face of the monitor (reactor-netty): ingest of {@code .npy} batches, the query API,
 * Server-Sent Events, {@code /metrics} and the health check. Event-loop threads only read,
 * decode and validate bodies and enqueue batches; spectra are computed elsewhere. Every refusal
 * is a JSON {@code {"error", "detail"}} with a 4xx status, counted by reason, and changes nothing.
 */
public final class AlphawatchServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AlphawatchServer.class);
    static final String JSON = "application/json";
    private static final Duration SSE_HEARTBEAT = Duration.ofSeconds(15);
    /**
     * After refusing a body that is still arriving, read and discard at most this much of it, for
     * at most this long, before answering and closing (measured without it: 71 of 300 413s to a
     * declared-too-large body and 8 of 200 to a chunked one never reached the client).
     */
    private static final long LINGER_BYTES = 64L << 20;
    private static final Duration LINGER_TIME = Duration.ofSeconds(2);

    private final ServerConfig config;
    private final Monitor monitor;
    private final MonitorMetrics metrics;
    private final String solverName;
    private static final ObjectMapper JSON_MAPPER = new ObjectMapper();
    private final ObjectMapper json = JSON_MAPPER;
    private final BodyBudget bodies;
    private final List<ExtraRoute> extraRoutes;
    private final List<Flux<String>> eventSources;
    private final org.alphawatch.durability.DurabilityHealth durability;
    /** Where accepted batches go: the monitor, or (scale-out) Kafka. */
    private final BatchSink sink;
    /** Scale-out: the other nodes, their status for /healthz, and whether this node is healthy. */
    private final ClusterQueries cluster;
    private final java.util.function.Supplier<Map<String, Object>> clusterStatus;
    private final java.util.function.BooleanSupplier clusterHealthy;
    private DisposableServer server;

    /** A route contributed by another component (alerts, live page). */
    interface ExtraRoute {
        void register(HttpServerRoutes routes, AlphawatchServer server);
    }

    /** This process's id, on every ingest answer: a changed id tells a client the server restarted. */
    private final String instance;

    /** A server of the monitor with nothing else (tests); {@link #builder} adds routes, durability and scale-out. */
    public AlphawatchServer(ServerConfig config, Monitor monitor, MonitorMetrics metrics, String solverName) {
        this(builder(config, monitor, metrics, solverName));
    }

    private AlphawatchServer(Builder b) {
        this.config = b.config;
        this.monitor = b.monitor;
        this.metrics = b.metrics;
        this.solverName = b.solverName;
        this.bodies = new BodyBudget(config.bodyMemoryBytes());
        this.instance = Long.toHexString(new java.security.SecureRandom().nextLong() | Long.MIN_VALUE);
        this.extraRoutes = List.copyOf(b.routes);
        this.eventSources = List.copyOf(b.events);
        this.durability = b.durability;
        this.sink = b.sink != null ? b.sink : monitor.ingest();
        this.cluster = new ClusterQueries(b.view, this::error, json);
        java.util.List<String> labels = new java.util.ArrayList<>();
        for (QueryError e : QueryError.values()) {
            labels.add(e.label());
        }
        metrics.registerHttpErrors(labels);
        this.clusterStatus = b.clusterStatus;
        this.clusterHealthy = b.clusterHealthy;
    }

    public static Builder builder(ServerConfig config, Monitor monitor, MonitorMetrics metrics, String solverName) {
        return new Builder(config, monitor, metrics, solverName);
    }

    /** Everything a server is made of, set once, in any order; {@link #build} makes the immutable server. */
    public static final class Builder {
        private final ServerConfig config;
        private final Monitor monitor;
        private final MonitorMetrics metrics;
        private final String solverName;
        private final List<ExtraRoute> routes = new ArrayList<>();
        private final List<Flux<String>> events = new ArrayList<>();
        private org.alphawatch.durability.DurabilityHealth durability;
        private BatchSink sink;
        private ClusterView view;
        private java.util.function.Supplier<Map<String, Object>> clusterStatus;
        private java.util.function.BooleanSupplier clusterHealthy;

        private Builder(ServerConfig config, Monitor monitor, MonitorMetrics metrics, String solverName) {
            this.config = config;
            this.monitor = monitor;
            this.metrics = metrics;
            this.solverName = solverName;
        }

        Builder route(ExtraRoute route) {
            routes.add(route);
            return this;
        }

        /** Pre-formatted SSE events ({@link #sseEvent}) merged into {@code /v1/events}. */
        Builder events(Flux<String> source) {
            events.add(source);
            return this;
        }

        /** Reports the durable state's health in {@code /healthz} (degraded: 503). */
        public Builder durability(org.alphawatch.durability.DurabilityHealth health) {
            this.durability = health;
            return this;
        }

        /**
         * Scale-out: batches and deletions go to {@code sink} instead of the local monitor; queries
         * for layers other nodes own go there; run lists and events merge all nodes.
         */
        public Builder cluster(BatchSink sink, ClusterView view, java.util.function.Supplier<Map<String, Object>> status,
                               java.util.function.BooleanSupplier healthy) {
            this.sink = sink;
            this.view = view;
            this.clusterStatus = status;
            this.clusterHealthy = healthy;
            return this;
        }

        public AlphawatchServer build() {
            return new AlphawatchServer(this);
        }
    }

    /**
     * A stalled body is answered (408) and its connection closed; its read timeout then reaches
     * Reactor after nobody listens. One line per connection, not an ERROR each: stalls are a
     * client's problem, counted as {@code read_timeout}. Every other dropped error stays an ERROR.
     */
    private static void quietStalls() {
        reactor.core.publisher.Hooks.onErrorDropped(e -> {
            if (e instanceof ReadTimeoutException) {
                LOG.info("a stalled connection was closed (read timeout)");
            } else {
                LOG.error("error after its request was answered: {}", e.toString(), e);
            }
        });
    }

    public AlphawatchServer start() {
        quietStalls();
        HttpServer http = HttpServer.create().host(config.bind()).port(config.port())
                .readTimeout(config.readTimeout()).requestTimeout(config.readTimeout().multipliedBy(10))
                // Also bounds a connection that sends no (or only part of a) request line and headers.
                .idleTimeout(config.readTimeout());
        if (config.tls()) {
            reactor.netty.tcp.SslProvider.GenericSslContextSpec<?> spec = Http11SslContextSpec.forServer(
                    config.tlsCert().get().toFile(), config.tlsKey().get().toFile());
            http = http.secure(ssl -> ssl.sslContext(spec));
        }
        server = http.route(this::routes).bindNow();
        LOG.info("alphawatch listening on {}", baseUrl());
        return this;
    }

    public int port() {
        return server.port();
    }

    public String baseUrl() {
        String host = config.bind().contains(":") ? "[" + config.bind() + "]" : config.bind();
        return (config.tls() ? "https://" : "http://") + ("0.0.0.0".equals(host) ? "127.0.0.1" : host) + ":" + port();
    }

    /** The memory all request bodies being received share ({@code body-memory}). */
    BodyBudget bodies() {
        return bodies;
    }

    public Monitor monitor() {
        return monitor;
    }

    ObjectMapper json() {
        return json;
    }

    private void routes(HttpServerRoutes r) {
        r.post(ApiPaths.BATCHES, secured(true, (req, res) -> ingest(req, res, false)))
                .post(ApiPaths.PARTIALS, secured(true, (req, res) -> ingest(req, res, true)))
                .get(ApiPaths.RUNS, secured(false, this::listRuns))
                .get(ApiPaths.RUN, secured(false, this::getRun))
                .delete(ApiPaths.RUN, secured(true, this::deleteRun))
                .post(ApiPaths.RUN_END, secured(true, this::endRun))
                .get(ApiPaths.SPECTRUM, secured(false, this::spectrum))
                .get(ApiPaths.HISTORY, secured(false, this::history))
                .get(ApiPaths.EVENTS, secured(false, this::events))
                .get(ApiPaths.METRICS, secured(false, this::scrape))
                .get(ApiPaths.ADMISSION, secured(true, this::admission))
                .get(ApiPaths.HEALTH, this::health);
        for (ExtraRoute extra : extraRoutes) {
            extra.register(r, this);
        }
        r.route(req -> true, (req, res) -> error(res, QueryError.NOT_FOUND,
                req.method() + " " + new QueryStringDecoder(req.uri()).path() + " is not an alphawatch endpoint"));
    }

    // ---- ingest ---------------------------------------------------------------------------------

    /** A batch of rows ({@code .npy}), or a trainer's partial accumulator ({@code AWPA}) with {@code partial}. */
    private Publisher<Void> ingest(HttpServerRequest req, HttpServerResponse res, boolean partial) {
        String run = req.param("run");
        String layer = req.param("layer");
        LayerKey key;
        try {
            key = new LayerKey(run, layer);
        } catch (IllegalArgumentException e) {
            return reject(res, RejectReason.INVALID_NAME, e.getMessage());
        }
        Map<String, List<String>> q = new QueryStringDecoder(req.uri()).parameters();
        long step;
        BatchKind kind;
        int repeat;
        String source;
        Delivery delivery;
        LayerOptions options;
        try {
            if (partial) {
                for (String p : List.of(ApiPaths.PARAM_STEP, ApiPaths.PARAM_KIND, ApiPaths.PARAM_REPEAT)) {
                    if (q.containsKey(p)) {
                        throw new IllegalArgumentException(p + " is not a parameter of partials (steps and repeat "
                                + "pairs travel in the body)");
                    }
                }
                step = 0;
                kind = BatchKind.TRAIN;
                repeat = ActivationBatch.NO_REPEAT;
            } else {
                step = parseStep(q);
                kind = q.containsKey(ApiPaths.PARAM_KIND) ? BatchKind.parse(single(q, ApiPaths.PARAM_KIND))
                        : BatchKind.TRAIN;
                repeat = q.containsKey(ApiPaths.PARAM_REPEAT) ? parseRepeat(single(q, ApiPaths.PARAM_REPEAT))
                        : ActivationBatch.NO_REPEAT;
                if (repeat != ActivationBatch.NO_REPEAT && kind != BatchKind.TRAIN) {
                    throw new IllegalArgumentException("repeat applies to kind=train only");
                }
            }
            source = q.containsKey(ApiPaths.PARAM_SOURCE) ? single(q, ApiPaths.PARAM_SOURCE) : null;
            if (source != null && !Names.valid(source)) {
                throw new IllegalArgumentException("source '" + abbreviate(source) + "' is not a valid name (1-64 of "
                        + "A-Z a-z 0-9 . _ -, starting with a letter or digit)");
            }
            delivery = parseDelivery(q);
            options = new LayerOptions(longParam(q, ApiPaths.PARAM_WINDOW), longParam(q, ApiPaths.PARAM_MIN_SAMPLES));
        } catch (IllegalArgumentException e) {
            return reject(res, RejectReason.BAD_PARAMETER, e.getMessage());
        }
        String type = req.requestHeaders().get(HttpHeaderNames.CONTENT_TYPE);
        if (type != null && !acceptedType(type)) {
            return reject(res, RejectReason.UNSUPPORTED_MEDIA_TYPE, "Content-Type '" + type
                    + "' is not a .npy body; send application/octet-stream or application/x-npy");
        }
        long declared = contentLength(req);
        if (declared > config.monitor().maxBodyBytes()) {
            res.header(HttpHeaderNames.CONNECTION, "close");
            return lingering(req, reject(res, RejectReason.BODY_TOO_LARGE, "body of " + declared
                    + " bytes exceeds max-body-bytes " + config.monitor().maxBodyBytes()));
        }
        BodyBudget.Body body = bodies.body(config.monitor().maxBodyBytes());
        return readBody(req, chunk -> {
                    try {
                        body.add(chunk);
                    } catch (RuntimeException e) {
                        body.release(); // the budget is free again while the rest is discarded
                        throw e;
                    }
                })
                // Decoding (about 1.5 ms per MB, up to 64 MB) and admission run on a worker, so the
                // connection's event loop keeps serving its other connections; the answer is written
                // from the loop.
                .then(Mono.fromSupplier(() -> partial ? acceptPartial(res, key, source, delivery, options, body)
                        : accept(res, key, step, kind, repeat, source, delivery, options, body))
                        // The Kafka sink blocks (an owner's answer, Kafka's buffer): off the CPU workers.
                        .subscribeOn(sink == monitor.ingest() ? Schedulers.parallel() : Schedulers.boundedElastic())
                        .publishOn(eventLoopOf(res))
                        .flatMap(Mono::from))
                .onErrorResume(ReadTimeoutException.class, e -> {
                    res.header(HttpHeaderNames.CONNECTION, "close");
                    return Mono.from(reject(res, RejectReason.READ_TIMEOUT, "no body bytes for "
                            + config.readTimeout().toSeconds() + " s (read-timeout-seconds)"));
                })
                .onErrorResume(BodyBudget.TooLarge.class, e -> {
                    res.header(HttpHeaderNames.CONNECTION, "close");
                    return Mono.from(reject(res, RejectReason.BODY_TOO_LARGE, e.getMessage()));
                })
                .onErrorResume(BodyBudget.Exhausted.class, e -> {
                    res.header(HttpHeaderNames.CONNECTION, "close").header(HttpHeaderNames.RETRY_AFTER, "1");
                    return Mono.from(reject(res, RejectReason.BODY_MEMORY, e.getMessage()));
                })
                .doFinally(signal -> body.release());
    }

    private Publisher<Void> acceptPartial(HttpServerResponse res, LayerKey key, String source, Delivery delivery,
                                          LayerOptions options, BodyBudget.Body received) {
        if (received.size() == 0) {
            return reject(res, RejectReason.BAD_NPY, "empty body: expected a partial accumulator (AWPA)");
        }
        List<PartialMoments> partials;
        long decodeStart = System.nanoTime();
        try {
            byte[] bytes = received.bytes();
            // The decoded doubles take about as much as the body, the semi-definiteness test's copy as much again.
            received.reserve(2L * bytes.length);
            partials = PartialMoments.decodeAll(bytes, "partial accumulator", config.monitor().maxDims());
            monitor.ingest().decoded(System.nanoTime() - decodeStart);
        } catch (NpyFormatException e) {
            return reject(res, RejectReason.of(e.kind()), e.getMessage());
        }
        return admitted(res, ActivationBatch.partials(key, partials, source).withDelivery(delivery)
                .withOptions(options));
    }

    private Publisher<Void> accept(HttpServerResponse res, LayerKey key, long step, BatchKind kind, int repeat,
                                   String source, Delivery delivery, LayerOptions options, BodyBudget.Body received) {
        if (received.size() == 0) {
            return reject(res, RejectReason.BAD_NPY, "empty body: expected a 2-D .npy array");
        }
        NpyBody decoded;
        long decodeStart = System.nanoTime();
        try {
            byte[] bytes = received.bytes();
            // The decoded arrays are reserved before they exist (a uint8 body decodes to 4x its size).
            received.reserve(NpyBody.decodedBytes(bytes, kind == BatchKind.PROBE));
            decoded = NpyBody.decode(bytes, kind == BatchKind.PROBE);
            monitor.ingest().decoded(System.nanoTime() - decodeStart);
        } catch (NpyFormatException e) {
            return reject(res, RejectReason.of(e.kind()), e.getMessage());
        }
        if (decoded.values().rows() == 0) {
            return reject(res, RejectReason.BAD_SHAPE, "request body: the array has 0 rows");
        }
        return admitted(res, new ActivationBatch(key, step, kind, repeat, decoded.values(), decoded.latent(), null,
                source, delivery, null).withOptions(options));
    }

    /** Offers a decoded batch; 202 once it is durable, or the refusal. */
    private Publisher<Void> admitted(HttpServerResponse res, ActivationBatch batch) {
        Admission a = sink.offer(batch);
        if (!a.ok()) {
            if (a.reason().httpStatus() == 429 || a.reason().httpStatus() == 503) {
                res.header(HttpHeaderNames.RETRY_AFTER, "1");
            }
            return send(res, a.reason().httpStatus(), errorBody(a.reason().label(), a.message()));
        }
        Map<String, Object> ok = new LinkedHashMap<>();
        ok.put(JsonFields.RUN, batch.key().run());
        ok.put(JsonFields.LAYER, batch.key().layer());
        ok.put(JsonFields.STEP, batch.step());
        ok.put(JsonFields.KIND, batch.partials() != null ? "partial" : batch.kind().label());
        ok.put(JsonFields.ROWS, batch.partials() != null ? batch.partialSamples() : batch.rows());
        if (batch.partials() != null) {
            ok.put(JsonFields.PARTIALS, batch.partials().size());
        }
        ok.put(JsonFields.DIMS, batch.dims());
        ok.put(JsonFields.SEQUENCE, a.seq());
        ok.put(JsonFields.DUPLICATE, a.duplicate());
        ok.put(JsonFields.INSTANCE, instance);
        long layerSamples = monitor.admittedSamples(batch.key());
        if (layerSamples >= 0) {
            ok.put(JsonFields.TOTAL_SAMPLES, layerSamples);
        }
        ok.put(JsonFields.QUEUED_BATCHES, monitor.queuedBatches());
        // Senders that aggregate keep each partial within this (0: no limit): see WindowSpec.
        ok.put(JsonFields.MAX_PARTIAL_SAMPLES, monitor.maxPartialSamples(batch.key(), batch.dims()));
        // The layer's window and maturity as it has them (a sender's choice applies only when it creates the layer).
        monitor.layerWindow(batch.key()).ifPresent(w -> {
            ok.put(JsonFields.WINDOW_SAMPLES, w.windowSamples());
            ok.put(JsonFields.MIN_SAMPLES, w.minSamples());
        });
        // With a write-ahead log the 202 waits until the batch is on disk.
        if (a.durable().isDone() && !a.durable().isCompletedExceptionally()) {
            return send(res, 202, ok);
        }
        return Mono.fromFuture(a.durable()).publishOn(eventLoopOf(res)).then(Mono.defer(() -> Mono.from(send(res, 202, ok))))
                .onErrorResume(e -> Mono.from(error(res, QueryError.NOT_DURABLE,
                        "the batch could not be made durable (" + (sink == monitor.ingest() ? "write-ahead log" : "Kafka")
                                + "; nothing was kept): " + e.getMessage())));
    }

    /** A non-negative integer parameter, 0 when absent. */
    private static long longParam(Map<String, List<String>> q, String name) {
        if (!q.containsKey(name)) {
            return 0;
        }
        String v = single(q, name);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " '" + abbreviate(v) + "' is not an integer");
        }
    }

    /** {@code sender} and {@code seq}, both or neither. */
    private static Delivery parseDelivery(Map<String, List<String>> q) {
        boolean hasSender = q.containsKey(ApiPaths.PARAM_SENDER);
        boolean hasSeq = q.containsKey(ApiPaths.PARAM_SEQ);
        if (hasSender != hasSeq) {
            throw new IllegalArgumentException("sender and seq come together (exactly-once delivery): "
                    + (hasSender ? "seq" : "sender") + " is missing");
        }
        if (!hasSender) {
            return null;
        }
        String sender = single(q, ApiPaths.PARAM_SENDER);
        String seq = single(q, ApiPaths.PARAM_SEQ);
        long n;
        try {
            n = Long.parseLong(seq);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("seq '" + abbreviate(seq) + "' is not an integer");
        }
        if (!Names.valid(sender)) {
            throw new IllegalArgumentException("sender '" + abbreviate(sender) + "' is not a valid name (1-64 of "
                    + "A-Z a-z 0-9 . _ -, starting with a letter or digit)");
        }
        if (n < 1) {
            throw new IllegalArgumentException("seq " + n + " must be >= 1");
        }
        return new Delivery(sender, n);
    }

    private static long parseStep(Map<String, List<String>> q) {
        if (!q.containsKey(ApiPaths.PARAM_STEP)) {
            throw new IllegalArgumentException("query parameter step (the training step, an integer >= 0) is required");
        }
        String s = single(q, ApiPaths.PARAM_STEP);
        // ASCII digits only: Long.parseLong also accepts other scripts' digits (e.g. full-width).
        if (!s.matches("[0-9]{1,18}")) {
            throw new IllegalArgumentException("step '" + s + "' is not an integer >= 0 (ASCII digits, at most 18)");
        }
        return Long.parseLong(s);
    }

    private static int parseRepeat(String s) {
        if (s.equals("0") || s.equals("1")) {
            return Integer.parseInt(s);
        }
        throw new IllegalArgumentException("repeat '" + s + "' must be 0 or 1");
    }

    private static String single(Map<String, List<String>> q, String name) {
        List<String> v = q.get(name);
        if (v.size() != 1) {
            throw new IllegalArgumentException("query parameter " + name + " given " + v.size() + " times");
        }
        return v.get(0);
    }

    private static boolean acceptedType(String type) {
        String t = type.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
        return t.equals("application/octet-stream") || t.equals("application/x-npy") || t.equals("application/npy");
    }

    private static long contentLength(HttpServerRequest req) {
        String v = req.requestHeaders().get(HttpHeaderNames.CONTENT_LENGTH);
        if (v == null) {
            return -1;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Scale-out: an ingest node asks this owner whether it would admit a new layer's batch (200, or the refusal). */
    private Publisher<Void> admission(HttpServerRequest req, HttpServerResponse res) {
        Map<String, List<String>> q = new QueryStringDecoder(req.uri()).parameters();
        Admission a;
        try {
            LayerKey key = new LayerKey(single(q, ApiPaths.PARAM_RUN), single(q, ApiPaths.PARAM_LAYER));
            int dims = Integer.parseInt(single(q, ApiPaths.PARAM_DIMS));
            boolean pairs = q.containsKey(ApiPaths.PARAM_PAIRS) && "1".equals(single(q, ApiPaths.PARAM_PAIRS));
            a = monitor.ingest().check(key, dims, pairs);
        } catch (RuntimeException e) {
            return reject(res, RejectReason.BAD_PARAMETER, String.valueOf(e.getMessage()));
        }
        if (!a.ok()) {
            // The owner's answer to another node: not a refusal of this node's (the asker counts its own).
            return send(res, a.reason().httpStatus(), errorBody(a.reason().label(), a.message()));
        }
        return send(res, 200, Map.of(JsonFields.STATUS, "ok"));
    }

    // ---- queries --------------------------------------------------------------------------------

    private Publisher<Void> listRuns(HttpServerRequest req, HttpServerResponse res) {
        List<Object> runs = new ArrayList<>();
        monitor.runs().forEach((run, layers) -> runs.add(runDoc(run, layers)));
        if (cluster.localOnly(req)) {
            return send(res, 200, Map.of(JsonFields.RUNS, runs));
        }
        return cluster.runs(req, runs).flatMap(all -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put(JsonFields.RUNS, all.runs());
            if (!all.missing().isEmpty()) {
                // Part of the cluster did not answer: say so instead of listing fewer runs silently.
                m.put(JsonFields.PARTIAL, true);
                m.put(JsonFields.MISSING, all.missing());
            }
            return Mono.from(send(res, 200, m));
        });
    }

    private Map<String, Object> runDoc(String run, List<Monitor.LayerInfo> layers) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(JsonFields.RUN, run);
        List<Object> ls = new ArrayList<>();
        for (Monitor.LayerInfo l : layers) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put(JsonFields.LAYER, l.layer());
            x.put(JsonFields.DIMS, l.dims());
            x.put(JsonFields.TOTAL_SAMPLES, l.totalSamples());
            x.put(JsonFields.LAST_STEP, l.lastStep());
            x.put(JsonFields.REFRESHES, l.refreshes());
            x.put(JsonFields.MATURE, l.mature());
            x.put(JsonFields.ENDED, l.ended());
            ls.add(x);
        }
        m.put(JsonFields.ENDED, !layers.isEmpty() && layers.stream().allMatch(Monitor.LayerInfo::ended));
        m.put(JsonFields.LAYERS, ls);
        return m;
    }

    private Publisher<Void> getRun(HttpServerRequest req, HttpServerResponse res) {
        String run = req.param("run");
        List<Monitor.LayerInfo> layers = Names.valid(run) ? monitor.runs().get(run) : null;
        if (!cluster.localOnly(req) && Names.valid(run)) {
            List<Object> local = layers == null ? List.of() : List.of(runDoc(run, layers));
            return cluster.runs(req, local).flatMap(all -> Mono.from(all.runs().stream()
                    .filter(o -> run.equals(((Map<?, ?>) o).get(JsonFields.RUN))).findFirst()
                    .map(doc -> send(res, 200, doc))
                    .orElseGet(() -> error(res, QueryError.NOT_FOUND, "no run '" + abbreviate(run) + "'"))));
        }
        if (layers == null) {
            return error(res, QueryError.NOT_FOUND, "no run '" + abbreviate(run) + "'");
        }
        return send(res, 200, runDoc(run, layers));
    }

    /** {@code POST /v1/runs/{run}/end}: the sender finished the run (no staleness; a later batch reopens it). */
    private Publisher<Void> endRun(HttpServerRequest req, HttpServerResponse res) {
        String run = req.param("run");
        if (!Names.valid(run)) {
            return error(res, QueryError.NOT_FOUND, "no run '" + abbreviate(run) + "'");
        }
        int layers = monitor.ingest().endRun(run);
        if (layers == 0 && cluster.localOnly(req)) {
            return error(res, QueryError.NOT_FOUND, "no run '" + abbreviate(run) + "'");
        }
        // In scale-out the run's layers live on their owners: each is told (best effort, it is a hint).
        return Mono.from(cluster.endEverywhere(req, run)).then(Mono.defer(() -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put(JsonFields.RUN, run);
            m.put(JsonFields.ENDED, true);
            return Mono.from(send(res, 200, m));
        }));
    }

    private Publisher<Void> deleteRun(HttpServerRequest req, HttpServerResponse res) {
        String run = req.param("run");
        if (!Names.valid(run)) {
            return error(res, QueryError.NOT_FOUND, "no run '" + abbreviate(run) + "'");
        }
        // With a write-ahead log the answer waits (off the event loop) until the deletion is durable.
        return Mono.fromFuture(sink.deleteRun(run)).publishOn(eventLoopOf(res)).flatMap(seq -> Mono.from(seq >= 0
                ? send(res, 200, Map.of(JsonFields.RUN, run, JsonFields.DELETED, true, JsonFields.SEQUENCE, seq))
                : error(res, QueryError.NOT_FOUND, "no run '" + abbreviate(run) + "'")))
                .onErrorResume(e -> Mono.from(error(res, QueryError.NOT_DURABLE,
                        "the deletion could not be written to the write-ahead log (nothing was deleted): "
                                + e.getMessage())));
    }

    private Optional<LayerKey> layerKey(HttpServerRequest req) {
        String run = req.param("run");
        String layer = req.param("layer");
        if (!Names.valid(run) || !Names.valid(layer)) {
            return Optional.empty();
        }
        LayerKey key = new LayerKey(run, layer);
        return monitor.hasLayer(key) ? Optional.of(key) : Optional.empty();
    }

    private Publisher<Void> noSuchLayer(HttpServerRequest req, HttpServerResponse res) {
        return error(res, QueryError.NOT_FOUND, "no layer '" + abbreviate(req.param("layer")) + "' in run '"
                + abbreviate(req.param("run")) + "'");
    }

    private Publisher<Void> spectrum(HttpServerRequest req, HttpServerResponse res) {
        Optional<ClusterView.Ownership> owner = cluster.elsewhere(req);
        if (owner.isPresent()) {
            return cluster.answerElsewhere(req, res, owner.get());
        }
        Optional<LayerKey> key = layerKey(req);
        Optional<Monitor.LayerStatus> status = key.flatMap(monitor::status);
        if (status.isEmpty()) {
            return cluster.notHere(req, res, () -> noSuchLayer(req, res));
        }
        Monitor.LayerStatus s = status.get();
        if (s.current() == null && s.restoring()) {
            // Taken over or restarted with its data: not a layer without a spectrum, one being recomputed.
            res.header(HttpHeaderNames.RETRY_AFTER, "1");
            return error(res, QueryError.RESTORING, "layer " + key.get() + " was restored from saved state with "
                    + s.totalSamples() + " samples; its spectrum is being recomputed; retry");
        }
        if (s.current() == null) {
            return error(res, QueryError.NO_SPECTRUM_YET, "layer " + key.get() + " has " + s.totalSamples()
                    + " samples but no spectrum yet (it appears after the first refresh; mature from "
                    + s.minSamples() + " window samples)");
        }
        return send(res, 200, SnapshotJson.spectrum(s, solverName));
    }

    private Publisher<Void> history(HttpServerRequest req, HttpServerResponse res) {
        Optional<ClusterView.Ownership> owner = cluster.elsewhere(req);
        if (owner.isPresent()) {
            return cluster.answerElsewhere(req, res, owner.get());
        }
        Optional<LayerKey> key = layerKey(req);
        if (key.isEmpty()) {
            return cluster.notHere(req, res, () -> noSuchLayer(req, res));
        }
        List<Object> points = new ArrayList<>();
        monitor.history(key.get()).orElse(List.of()).forEach(h -> points.add(SnapshotJson.historyPoint(h)));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(JsonFields.RUN, key.get().run());
        m.put(JsonFields.LAYER, key.get().layer());
        m.put(JsonFields.HISTORY, points);
        return send(res, 200, m);
    }

    private Publisher<Void> events(HttpServerRequest req, HttpServerResponse res) {
        List<String> runFilter = new QueryStringDecoder(req.uri()).parameters().get(JsonFields.RUN);
        String run = runFilter == null ? null : runFilter.get(0);
        Flux<LayerSnapshot> current = Flux.fromIterable(monitor.runs().entrySet())
                .flatMapIterable(e -> e.getValue().stream()
                        .map(l -> monitor.snapshot(new LayerKey(e.getKey(), l.layer())))
                        .flatMap(Optional::stream).filter(LayerSnapshot::mature).toList());
        Flux<String> snapshots = Flux.concat(current, monitor.snapshots())
                .filter(s -> run == null || s.key().run().equals(run))
                .onBackpressureLatest()
                .map(s -> sseEvent("snapshot", SnapshotJson.spectrum(s, solverName)));
        Flux<String> heartbeat = Flux.interval(SSE_HEARTBEAT).map(i -> ": keep-alive\n\n");
        Flux<String> others = cluster.localOnly(req) ? Flux.empty() : cluster.events(req);
        return res.sse().sendString(Flux.merge(Flux.just(": alphawatch events\n\n"), snapshots, heartbeat, extraEvents(),
                others), StandardCharsets.UTF_8);
    }


    /** Adds a stream of already formatted SSE events (alerts) to {@code /v1/events}. */
    private Flux<String> extraEvents() {
        return Flux.merge(eventSources);
    }

    static String sseEvent(String event, Object data) {
        try {
            return "event: " + event + "\ndata: " + JSON_MAPPER.writeValueAsString(data) + "\n\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private Publisher<Void> scrape(HttpServerRequest req, HttpServerResponse res) {
        // Rendering thousands of series takes time: never on an event loop (it would stall /healthz and
        // ingest). The text is built on a worker; the response is written back on the connection's own
        // event loop (writing it from the worker lost responses now and then).
        return Mono.fromCallable(() -> metrics.scrape().getBytes(StandardCharsets.UTF_8))
                .subscribeOn(Schedulers.boundedElastic())
                .publishOn(eventLoopOf(res))
                .flatMap(bytes -> Mono.from(res.status(200)
                        .header(HttpHeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                        .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(bytes.length))
                        .sendByteArray(Mono.just(bytes))));
    }

    private Publisher<Void> health(HttpServerRequest req, HttpServerResponse res) {
        Map<String, Object> m = new LinkedHashMap<>();
        boolean healthy = (durability == null || durability.healthy())
                && (clusterHealthy == null || clusterHealthy.getAsBoolean());
        // Recovery that lost something stays reported (200: a restart would not bring it back).
        boolean lost = durability != null && durability.status().recoveryLoss() != null;
        m.put(JsonFields.STATUS, !healthy ? "degraded" : lost ? "recovered_with_loss" : "ok");
        m.put(JsonFields.LAYERS, monitor.runs().values().stream().mapToInt(List::size).sum());
        m.put(JsonFields.QUEUED_BATCHES, monitor.queuedBatches());
        if (durability != null) {
            var d = durability.status();
            Map<String, Object> dm = new LinkedHashMap<>();
            dm.put(JsonFields.MODE, d.mode());
            dm.put(JsonFields.HEALTHY, d.healthy());
            dm.put(JsonFields.LAST_CHECKPOINT_MS, d.lastCheckpointMillis());
            dm.put(JsonFields.CHECKPOINT_FAILURES, d.checkpointFailures());
            dm.put(JsonFields.WAL_FAILURES, d.walFailures());
            dm.put(JsonFields.WAL_BYTES, d.walBytesOnDisk());
            dm.put(JsonFields.LAST_ERROR, d.lastError());
            dm.put(JsonFields.RECOVERY_LOSS, d.recoveryLoss());
            m.put(JsonFields.DURABILITY, dm);
        }
        if (clusterStatus != null) {
            m.put(JsonFields.KAFKA, clusterStatus.get());
        }
        return send(res, healthy ? 200 : 503, m);
    }

    // ---- helpers --------------------------------------------------------------------------------

    /**
     * The connection's own event loop: answers that complete on another thread (a worker, the
     * write-ahead log, a deletion) are written from there.
     */
    static reactor.core.scheduler.Scheduler eventLoopOf(HttpServerResponse res) {
        java.util.concurrent.Executor[] loop = new java.util.concurrent.Executor[1];
        res.withConnection(c -> loop[0] = c.channel().eventLoop());
        return Schedulers.fromExecutor(loop[0]);
    }

    /** Bearer-token check in constant time; reads need a token only when configured so. */
    /**
     * The one authorization check: {@code handler} behind the bearer token (writes whenever a
     * token is configured, reads with auth-reads). A refusal is a counted 401 with
     * {@code WWW-Authenticate}, and the handler never runs.
     */
    BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> secured(boolean write,
            BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> handler) {
        return (req, res) -> authorized(req, write) ? handler.apply(req, res)
                : reject(res, RejectReason.UNAUTHORIZED, "missing or wrong bearer token (Authorization: Bearer ...)");
    }

    private boolean authorized(HttpServerRequest req, boolean write) {
        Optional<byte[]> token = config.token();
        if (token.isEmpty() || (!write && !config.authReads())) {
            return true;
        }
        String h = req.requestHeaders().get(HttpHeaderNames.AUTHORIZATION);
        if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        byte[] given = h.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, token.get());
    }

    /**
     * Discards what the client still sends of a refused body (bounded by {@link #LINGER_BYTES} and
     * {@link #LINGER_TIME}), then answers. Answering and closing with unread bytes makes the kernel
     * reset the connection, and the reset can destroy the answer before the client reads it.
     */
    private static Mono<Void> lingering(HttpServerRequest req, Publisher<Void> answer) {
        long[] seen = {0};
        return req.receive()
                .takeWhile(b -> (seen[0] += b.readableBytes()) < LINGER_BYTES)
                .take(LINGER_TIME)
                .then()
                .onErrorResume(e -> Mono.empty())
                .then(Mono.defer(() -> Mono.from(answer)));
    }

    /**
     * Feeds the request body to {@code sink} chunk by chunk. When the sink refuses a chunk (throws),
     * the rest of the body is read and discarded, bounded as in {@link #lingering}, and only then
     * does the refusal signal, so that its answer reaches the client.
     */
    static Mono<Void> readBody(HttpServerRequest req, Consumer<byte[]> sink) {
        RuntimeException[] refused = {null};
        long[] discarded = {0};
        long[] refusedAt = {0};
        return req.receive().asByteArray()
                .takeWhile(chunk -> refused[0] == null || ((discarded[0] += chunk.length) < LINGER_BYTES
                        && System.nanoTime() - refusedAt[0] < LINGER_TIME.toNanos()))
                .doOnNext(chunk -> {
                    if (refused[0] == null) {
                        try {
                            sink.accept(chunk);
                        } catch (RuntimeException e) {
                            refused[0] = e;
                            refusedAt[0] = System.nanoTime();
                        }
                    }
                })
                .then(Mono.defer(() -> refused[0] != null ? Mono.<Void>error(refused[0]) : Mono.<Void>empty()))
                .onErrorResume(ReadTimeoutException.class, e -> Mono.error(refused[0] != null ? refused[0] : e));
    }

    /** A refused request: counted by reason in alphawatch_ingest_rejected_total (also for non-ingest bodies). */
    Publisher<Void> reject(HttpServerResponse res, RejectReason reason, String detail) {
        monitor.ingest().reject(reason, detail);
        if (reason == RejectReason.UNAUTHORIZED) {
            res.header(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"alphawatch\"");
        }
        return send(res, reason.httpStatus(), errorBody(reason.label(), detail));
    }

    /** A query-side error: counted by code in alphawatch_http_errors_total. */
    Publisher<Void> error(HttpServerResponse res, QueryError error, String detail) {
        metrics.httpError(error.label());
        return send(res, error.httpStatus(), errorBody(error.label(), detail));
    }

    static Map<String, Object> errorBody(String error, String detail) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(JsonFields.ERROR, error);
        m.put(JsonFields.DETAIL, detail);
        return m;
    }

    Publisher<Void> send(HttpServerResponse res, int status, Object body) {
        byte[] bytes;
        try {
            bytes = json.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            LOG.error("cannot serialize a response: {}", e.toString());
            status = 500;
            bytes = "{\"error\":\"internal\",\"detail\":\"response serialization failed\"}".getBytes(StandardCharsets.UTF_8);
        }
        if (status == 503 && !res.responseHeaders().contains(HttpHeaderNames.RETRY_AFTER)) {
            res.header(HttpHeaderNames.RETRY_AFTER, "1"); // every 503 is temporary: say when to come back
        }
        return res.status(status).header(HttpHeaderNames.CONTENT_TYPE, JSON)
                .header(ApiPaths.HEADER_INSTANCE, instance)
                .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(bytes.length))
                .sendByteArray(Mono.just(bytes));
    }

    private static String abbreviate(String s) {
        return s == null ? "" : s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }

    @Override
    public void close() {
        if (server != null) {
            server.disposeNow(Duration.ofSeconds(5));
        }
    }
}
