package org.alphawatch.attach;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RetryAfterTest {
    static final Clock NOW = Clock.fixed(Instant.parse("2015-10-21T07:28:00Z"), ZoneOffset.UTC);

    @Test
    void secondsDatesAndEverythingElse() {
        assertThat(RetryAfter.parse(Optional.of("2"), NOW)).isEqualTo(Duration.ofSeconds(2));
        assertThat(RetryAfter.parse(Optional.of(" 0 "), NOW)).isEqualTo(Duration.ZERO);
        assertThat(RetryAfter.parse(Optional.of("Wed, 21 Oct 2015 07:28:30 GMT"), NOW)).isEqualTo(Duration.ofSeconds(30));
        assertThat(RetryAfter.parse(Optional.of("Wed, 21 Oct 2015 07:27:00 GMT"), NOW)).isEqualTo(Duration.ZERO);
        assertThat(RetryAfter.parse(Optional.of("99999"), NOW)).isEqualTo(RetryAfter.MAX);
        assertThat(RetryAfter.parse(Optional.of("-3"), NOW)).isEqualTo(RetryAfter.DEFAULT);
        assertThat(RetryAfter.parse(Optional.of("soon"), NOW)).isEqualTo(RetryAfter.DEFAULT);
        assertThat(RetryAfter.parse(Optional.empty(), NOW)).isEqualTo(RetryAfter.DEFAULT);
    }
}
