package org.alphawatch.durability;

import java.nio.file.Path;
import java.time.Duration;

/** How the monitor's state survives restarts: mode, directory, checkpoint interval. */
public record DurabilitySettings(Durability.Mode mode, Path dir, Duration interval) {
    public DurabilitySettings {
        if (mode == null || dir == null) {
            throw new IllegalArgumentException("durability mode and state-dir must be set");
        }
        if (interval == null || interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("checkpoint-seconds must be > 0");
        }
    }

    public static DurabilitySettings none() {
        return new DurabilitySettings(Durability.Mode.NONE, Path.of("alphawatch-state"), Duration.ofSeconds(60));
    }
}
