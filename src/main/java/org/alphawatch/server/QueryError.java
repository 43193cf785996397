package org.alphawatch.server;

import java.util.Locale;

/**
 * The errors of the query side, one place for each code and its status (the ingest side's are
 * {@link org.alphawatch.pipeline.RejectReason}): the {@code error} field of the JSON error body and
 * the {@code error} label of {@code alphawatch_http_errors_total}. Every 503 is temporary and says
 * when to retry.
 */
enum QueryError {
    /** No such run, layer or endpoint. */
    NOT_FOUND(404),
    /** The layer has samples but no refresh has run yet. */
    NO_SPECTRUM_YET(404),
    /** With a write-ahead log: the request could not be made durable; nothing of it was kept. */
    NOT_DURABLE(503),
    /** Scale-out: the layer's owner does not answer. */
    OWNER_UNREACHABLE(503),
    /** Scale-out: the layer's partition is changing owners or has none. */
    PARTITION_MOVING(503),
    /** The layer was just restored from saved state; its spectrum is being recomputed. */
    RESTORING(503);

    private final int httpStatus;

    QueryError(int httpStatus) {
        this.httpStatus = httpStatus;
    }

    int httpStatus() {
        return httpStatus;
    }

    String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
