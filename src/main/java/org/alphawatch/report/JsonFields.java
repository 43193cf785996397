package org.alphawatch.report;

/**
 * Every JSON field name of the public contract (DESIGN.md section 5), in one place. The
 * {@code analyze --json} object and the HTTP spectrum document share these names.
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

    private JsonFields() {}
}
