package org.alphawatch.report;

/**
 * Every JSON field name alphawatch writes or reads (DESIGN.md section 5, docs/http-api.md), in one
 * place. The {@code analyze --json} object and the HTTP spectrum document share these names;
 * {@code JsonFieldsTest} fails when a field name is written as a literal anywhere else.
 */
public final class JsonFields {
    public static final String SAMPLES = "samples";
    public static final String DIMS = "dims";
    public static final String ALPHA = "alpha";
    public static final String ALPHA_R2 = "alpha_r2";
    public static final String ALPHA_CI = "alpha_ci";
    public static final String ALPHA_SE = "alpha_se";
    public static final String INTERCEPT = "intercept";
    public static final String FIT_RANGE = "fit_range";
    public static final String FIT_RANGE_REQUESTED = "fit_range_requested";
    public static final String FLAGS = "flags";
    public static final String SAMPLES_PER_DIM = "samples_per_dim";
    public static final String EFFECTIVE_RANK = "effective_rank";
    public static final String PARTICIPATION_RATIO = "participation_ratio";
    public static final String STABLE_RANK = "stable_rank";
    public static final String EXPLAINED_VARIANCE = "explained_variance";
    public static final String NUMERICAL_RANK = "numerical_rank";
    public static final String CLAMPED_NEGATIVE = "clamped_negative_eigenvalues";
    public static final String TRACE = "trace";
    public static final String EIGENVALUES = "eigenvalues";
    public static final String INPUT_DIM = "input_dim";
    public static final String SMOOTHNESS_THRESHOLD = "smoothness_threshold";
    public static final String SMOOTHNESS_MARGIN = "smoothness_margin";
    public static final String CAPACITY = "capacity";
    public static final String BITS = "bits_per_unit";
    public static final String CONVENTION = "convention";
    public static final String ENTROPY_BOUND_BITS = "entropy_bound_bits";
    public static final String REDUNDANCY = "redundancy";
    public static final String DROPOUT = "dropout";
    public static final String DROPOUT_CAPACITY_BITS = "dropout_capacity_bits";
    public static final String CVPCA = "cvpca";
    public static final String PLAIN_ALPHA = "plain_alpha";
    public static final String SHARED_VARIANCE = "shared_variance";
    public static final String SOLVER = "solver";
    public static final String FILES = "files";

    // HTTP additions
    public static final String RUN = "run";
    public static final String LAYER = "layer";
    public static final String STEP = "step";
    public static final String STEP_RANGE = "step_range";
    public static final String WINDOW = "window";
    public static final String MATURE = "mature";
    public static final String MIN_SAMPLES = "min_samples";
    public static final String TOTAL_SAMPLES = "total_samples";
    public static final String REFRESH_ERROR = "refresh_error";
    public static final String REFRESH_FAILURES = "refresh_failures";
    public static final String SOURCES = "sources";
    public static final String FIT_LINE = "fit_line";
    public static final String ERROR = "error";
    public static final String DETAIL = "detail";

    // Spectrum document: refresh, window, fit line, projection
    public static final String SEQUENCE = "sequence";
    public static final String DUPLICATE = "duplicate";
    public static final String ENDED = "ended";
    public static final String INSTANCE = "instance";
    public static final String REFRESHED_AT_MS = "refreshed_at_ms";
    public static final String REFRESH_SECONDS = "refresh_seconds";
    public static final String PARTIAL_SPECTRUM = "partial_spectrum";
    public static final String EIGENVALUES_TOTAL = "eigenvalues_total";
    public static final String MODE = "mode";
    public static final String SIZE = "size";
    public static final String PANES = "panes";
    public static final String GROUPS = "groups";
    public static final String PANE_SAMPLES = "pane_samples";
    public static final String INCLUDE_OPEN = "include_open";
    public static final String FIRST_SAMPLE = "first_sample";
    public static final String END_SAMPLE = "end_sample";
    public static final String RANKS = "ranks";
    public static final String VALUES = "values";
    public static final String PROJECTION = "projection";
    public static final String DENSITIES = "densities";
    public static final String ENERGIES = "energies";
    public static final String ENERGY_SLOPE = "energy_slope";
    public static final String ENERGY_SLOPE_R2 = "energy_slope_r2";
    public static final String READOUT_R2 = "readout_r2";
    public static final String SMOOTH = "smooth";
    public static final String K = "k";
    public static final String TRAJECTORY = "trajectory";

    // History points, the run listing and the ingest acknowledgement
    public static final String HISTORY = "history";
    public static final String TIME_MS = "time_ms";
    public static final String WINDOW_SAMPLES = "window_samples";
    public static final String CVPCA_ALPHA = "cvpca_alpha";
    public static final String RUNS = "runs";
    public static final String LAYERS = "layers";
    public static final String LAST_STEP = "last_step";
    public static final String REFRESHES = "refreshes";
    public static final String KIND = "kind";
    public static final String ROWS = "rows";
    public static final String PARTIALS = "partials";
    public static final String QUEUED_BATCHES = "queued_batches";
    public static final String MAX_PARTIAL_SAMPLES = "max_partial_samples";
    public static final String DELETED = "deleted";

    // /healthz
    public static final String STATUS = "status";
    public static final String DURABILITY = "durability";
    public static final String HEALTHY = "healthy";
    public static final String LAST_CHECKPOINT_MS = "last_checkpoint_ms";
    public static final String CHECKPOINT_FAILURES = "checkpoint_failures";
    public static final String WAL_FAILURES = "wal_failures";
    public static final String WAL_BYTES = "wal_bytes";
    public static final String LAST_ERROR = "last_error";
    public static final String RECOVERY_LOSS = "recovery_loss";
    public static final String KAFKA = "kafka";

    // Alerts and alert thresholds
    public static final String VALUE = "value";
    public static final String BASELINE = "baseline";
    public static final String MESSAGE = "message";
    public static final String ALERTS = "alerts";
    public static final String EVIDENCE = "evidence";
    public static final String STATISTIC = "statistic";
    public static final String NOISE = "noise";
    public static final String SIGMAS = "sigmas";
    public static final String WARMUP = "warmup";
    public static final String SHIFT_SIGMAS = "shift_sigmas";
    public static final String MIN_SHIFT = "min_shift";
    public static final String CONFIRM = "confirm";
    public static final String COLLAPSE_FRACTION = "collapse_fraction";
    public static final String RANK_DROP_FRACTION = "rank_drop_fraction";
    public static final String STALE_AFTER_SECONDS = "stale_after_seconds";
    public static final String SURGE_PER_MINUTE = "surge_per_minute";

    // Cluster status (scale-out)
    public static final String ROLE = "role";
    public static final String TOPIC = "topic";
    public static final String PARTITIONS = "partitions";
    public static final String OWNERS = "owners";
    public static final String WORKER = "worker";
    public static final String OWNED_PARTITIONS = "owned_partitions";
    public static final String REFUSED_PARTITIONS = "refused_partitions";
    public static final String RECORDS_APPLIED = "records_applied";
    public static final String RECORDS_UNREADABLE = "records_unreadable";
    public static final String RECORDS_REFUSED = "records_refused";
    public static final String LAST_REFUSAL = "last_refusal";
    public static final String REFUSED_LAYERS = "refused_layers";
    public static final String LAG_RECORDS = "lag_records";
    public static final String PARTIAL = "partial";
    public static final String MISSING = "missing";
    public static final String UNREACHABLE = "unreachable";
    public static final String UNOWNED_PARTITIONS = "unowned_partitions";
    public static final String CHECKPOINTS = "checkpoints";
    public static final String RUNNING = "running";

    private JsonFields() {}
}
