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
    DIMS_MISMATCH(400),
    UNSUPPORTED_MEDIA_TYPE(415),
    BODY_TOO_LARGE(413),
    UNAUTHORIZED(401),
    QUEUE_FULL(429),
    /** The run is being deleted (a few milliseconds with a write-ahead log); retry. */
    RUN_BEING_DELETED(429),
    MEMORY_BUDGET(507),
    TOO_MANY_RUNS(507),
    TOO_MANY_LAYERS(507),
    TOO_MANY_DIMS(400),
    SHUTTING_DOWN(503);

    private final int httpStatus;

    RejectReason(int httpStatus) {
        this.httpStatus = httpStatus;
    }

    public int httpStatus() {
        return httpStatus;
    }

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
