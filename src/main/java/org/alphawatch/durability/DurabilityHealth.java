package org.alphawatch.durability;

import java.util.concurrent.atomic.AtomicLong;

/**
 * How the durable state is doing, for {@code /healthz} and {@code alphawatch_durability_*}:
 * healthy while the last checkpoint attempt and the last log write succeeded. Thread-safe.
 */
public final class DurabilityHealth {
    private final Durability.Mode mode;
    private final AtomicLong checkpointFailures = new AtomicLong();
    private final AtomicLong walFailures = new AtomicLong();
    private final AtomicLong walBytesWritten = new AtomicLong();
    private volatile long lastCheckpointMillis = -1;
    private volatile boolean checkpointOk = true;
    private volatile boolean walOk = true;
    private volatile String lastError;
    private volatile long walBytesOnDisk;
    private volatile String recoveryLoss;

    /** A point-in-time view. */
    public record Status(String mode, boolean healthy, long lastCheckpointMillis, long checkpointFailures,
                         long walFailures, long walBytesOnDisk, long walBytesWritten, String lastError,
                         String recoveryLoss) {}

    private final java.nio.file.Path dir;

    public DurabilityHealth(Durability.Mode mode, java.nio.file.Path dir) {
        this.mode = mode;
        this.dir = dir;
    }

    /**
     * {@code /healthz} answers without a token: messages name files relative to the state
     * directory, never where it lives on the host.
     */
    String relative(String message) {
        if (message == null || dir == null) {
            return message;
        }
        String sep = dir.getFileSystem().getSeparator();
        return message.replace(dir.toAbsolutePath().normalize() + sep, "").replace(dir + sep, "")
                .replace(dir.toAbsolutePath().normalize().toString(), ".").replace(dir.toString(), ".");
    }

    void checkpointed(long millis) {
        lastCheckpointMillis = millis;
        checkpointOk = true;
    }

    void checkpointFailed(Throwable e) {
        checkpointFailures.incrementAndGet();
        checkpointOk = false;
        lastError = "checkpoint: " + e;
    }

    void walWritten(long bytes) {
        walBytesWritten.addAndGet(bytes);
        walOk = true;
    }

    void walFailed(Throwable e) {
        walFailures.incrementAndGet();
        walOk = false;
        lastError = "write-ahead log: " + e;
    }

    void walOnDisk(long bytes) {
        walBytesOnDisk = bytes;
    }

    /** Recovery lost something (damaged state skipped with {@code --recover}): what, added to the report, which stays. */
    synchronized void recoveredWithLoss(String what) {
        recoveryLoss = recoveryLoss == null ? what : recoveryLoss + "; " + what;
    }

    public boolean healthy() {
        return checkpointOk && walOk;
    }

    public Status status() {
        return new Status(mode.name().toLowerCase(java.util.Locale.ROOT), healthy(), lastCheckpointMillis,
                checkpointFailures.get(), walFailures.get(), walBytesOnDisk, walBytesWritten.get(), relative(lastError),
                relative(recoveryLoss));
    }
}
