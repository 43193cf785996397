package org.alphawatch.server;

/** Every HTTP path of the public contract (DESIGN.md 5), in one place. */
public final class ApiPaths {
    public static final String BATCHES = "/v1/runs/{run}/layers/{layer}/batches";
    public static final String PARTIALS = "/v1/runs/{run}/layers/{layer}/partials";
    public static final String RUNS = "/v1/runs";
    public static final String RUN = "/v1/runs/{run}";
    /** The sender says the run is over: no staleness alerts; a later batch reopens it. */
    public static final String RUN_END = "/v1/runs/{run}/end";
    public static final String SPECTRUM = "/v1/runs/{run}/layers/{layer}/spectrum";
    public static final String HISTORY = "/v1/runs/{run}/layers/{layer}/history";
    public static final String EVENTS = "/v1/events";
    public static final String ALERTS = "/v1/alerts";
    public static final String ALERT_CONFIG = "/v1/runs/{run}/alert-config";
    public static final String METRICS = "/metrics";
    public static final String HEALTH = "/healthz";
    /** Scale-out, node to node: would this owner admit a batch of {@code dims} units for the layer? */
    public static final String ADMISSION = "/v1/cluster/admission";
    public static final String PAGE = "/";

    /** Query parameters of the ingest endpoint. */
    public static final String PARAM_STEP = "step";
    public static final String PARAM_KIND = "kind";
    public static final String PARAM_REPEAT = "repeat";
    /** Who sends (a rank or process name): repeat passes pair only within one sender; counted per sender. */
    public static final String PARAM_SOURCE = "source";
    /** Exactly-once delivery: the sending instance's name and its request number for the layer (both or neither). */
    public static final String PARAM_SENDER = "sender";
    public static final String PARAM_SEQ = "seq";
    /** The sender's window (samples) and maturity for a layer it creates. */
    public static final String PARAM_WINDOW = "window";
    public static final String PARAM_MIN_SAMPLES = "min_samples";
    /** Parameters of the admission question. */
    public static final String PARAM_RUN = "run";
    public static final String PARAM_LAYER = "layer";
    public static final String PARAM_DIMS = "dims";
    public static final String PARAM_PAIRS = "pairs";
    /** The server process's instance id on every ingest answer: a client sees a restart. */
    public static final String HEADER_INSTANCE = "X-Alphawatch-Instance";

    private ApiPaths() {}
}
