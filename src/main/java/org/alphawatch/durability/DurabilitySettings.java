package org.alphawatch.durability;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How the monitor's state survives restarts: mode, directory, checkpoint interval, and whether
 * recovery may continue past damaged state ({@code --recover}: skip exactly the damaged log bytes
 * and unusable checkpoints, report the loss) instead of refusing to start.
 */
public record DurabilitySettings(Durability.Mode mode, Path dir, Duration interval, boolean recover) {
    public DurabilitySettings {
        if (mode == null || dir == null) {
            throw new IllegalArgumentException("durability mode and state-dir must be set");
        }
        if (interval == null || interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("checkpoint-seconds must be > 0");
        }
    }

    public DurabilitySettings(Durability.Mode mode, Path dir, Duration interval) {
        this(mode, dir, interval, false);
    }

    public static DurabilitySettings none() {
        return new DurabilitySettings(Durability.Mode.NONE, Path.of("alphawatch-state"), Duration.ofSeconds(60));
    }
}
