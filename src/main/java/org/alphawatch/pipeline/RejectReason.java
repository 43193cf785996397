package org.alphawatch.pipeline;

/**
 * Why a batch or request was refused: the {@code reason} label of
 * {@code alphawatch_ingest_rejected_total} and the {@code error} field of the JSON error body.
 */
public enum RejectReason {
    INVALID_NAME(400),
    BAD_PARAMETER(400),
    BAD_NPY(400),
    BAD_SHAPE(400),
    NON_FINITE(400),
    /** A value whose square would overflow float64 arithmetic (beyond 1e100 in magnitude). */
    VALUE_OUT_OF_RANGE(400),
    DIMS_MISMATCH(400),
    /** The layer would hold more than 2^53 samples (counts stay exact in float64 up to there). */
    TOO_MANY_SAMPLES(400),
    UNSUPPORTED_MEDIA_TYPE(415),
    BODY_TOO_LARGE(413),
    /** Bodies being received and decoded already hold the whole body-memory budget; retry. */
    BODY_MEMORY(429),
    /** The body stalled longer than read-timeout-seconds. */
    READ_TIMEOUT(408),
    UNAUTHORIZED(401),
    QUEUE_FULL(429),
    /** The run is being deleted (a few milliseconds with a write-ahead log); retry. */
    RUN_BEING_DELETED(429),
    MEMORY_BUDGET(507),
    TOO_MANY_RUNS(507),
    TOO_MANY_LAYERS(507),
    TOO_MANY_DIMS(400),
    SHUTTING_DOWN(503),
    /** Scale-out: the layer's partition has no live owner now (a hand-over, a dead worker); retry. */
    NO_LIVE_OWNER(503),
    /** Scale-out: the workers are too far behind the acknowledged records of this layer's partition; retry. */
    CLUSTER_BEHIND(429),
    /** A batch admitted earlier could not be applied (a bug): counted so that no loss is silent. */
    APPLY_FAILED(500);

    private final int httpStatus;

    RejectReason(int httpStatus) {
        this.httpStatus = httpStatus;
    }

    public int httpStatus() {
        return httpStatus;
    }

    /** The refusal for an input that did not decode. */
    public static RejectReason of(org.alphawatch.io.NpyFormatException.Kind kind) {
        return switch (kind) {
            case NOT_NPY -> UNSUPPORTED_MEDIA_TYPE;
            case SHAPE -> BAD_SHAPE;
            case NON_FINITE -> NON_FINITE;
            case OUT_OF_RANGE -> VALUE_OUT_OF_RANGE;
            case MALFORMED -> BAD_NPY;
        };
    }

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
