package org.alphawatch.attach;

import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/** How long a client waits after a 429 or 503: the Retry-After header (RFC 9110, section 10.2.3). */
public final class RetryAfter {
    /** When the header is missing or unreadable. */
    public static final Duration DEFAULT = Duration.ofSeconds(1);
    /** The longest wait honoured: a server asking for more is treated as asking for this. */
    public static final Duration MAX = Duration.ofMinutes(5);

    private RetryAfter() {}

    /** Delta-seconds or an HTTP date, from now; {@link #DEFAULT} when absent or unreadable, never negative. */
    public static Duration parse(Optional<String> header, Clock clock) {
        if (header.isEmpty()) {
            return DEFAULT;
        }
        String v = header.get().trim();
        Duration wait;
        if (v.matches("[0-9]{1,9}")) {
            wait = Duration.ofSeconds(Long.parseLong(v));
        } else {
            try {
                wait = Duration.between(clock.instant(), ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME)
                        .toInstant());
            } catch (DateTimeParseException e) {
                return DEFAULT;
            }
        }
        return wait.isNegative() ? Duration.ZERO : wait.compareTo(MAX) > 0 ? MAX : wait;
    }
}
