package org.alphawatch.durability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.Monitor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Durable monitor state (docs/durability.md). {@code none}: memory only. {@code checkpoint}: every
 * layer's accumulators, counters and history are checkpointed atomically every interval; a crash
 * loses at most the batches of one interval. {@code wal}: additionally every accepted batch is
 * appended to a write-ahead log and fsynced (group commit) before its 202; restart restores the
 * newest valid checkpoint and replays the log, so no acknowledged batch is lost.
 */
public final class Durability implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Durability.class);

    public enum Mode {
        NONE, CHECKPOINT, WAL;

        public static Mode parse(String s) {
            for (Mode m : values()) {
                if (m.name().equalsIgnoreCase(s)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("durability '" + s + "' is not one of none, checkpoint, wal");
        }
    }

    /** What recovery found. */
    public record Recovery(Path checkpoint, int layers, long replayedRecords, int truncatedSegments,
                           int unusableCheckpoints) {}

    private final Mode mode;
    private final Path dir;
    private final Duration interval;
    private final Monitor monitor;
    private WriteAheadLog wal;
    private ScheduledExecutorService scheduler;

    public Durability(Mode mode, Path dir, Duration interval, Monitor monitor) {
        this.mode = mode;
        this.dir = dir;
        this.interval = interval;
        this.monitor = monitor;
    }

    public Mode mode() {
        return mode;
    }

    /** Restores the newest usable checkpoint and replays the log; then opens a fresh log segment. */
    public Recovery recover() throws Exception {
        if (mode == Mode.NONE) {
            return new Recovery(null, 0, 0, 0, 0);
        }
        Files.createDirectories(dir);
        Checkpoints.Loaded loaded = null;
        int unusable = 0;
        for (Path file : Checkpoints.list(dir)) {
            try {
                Checkpoints.Loaded candidate = Checkpoints.read(file);
                monitor.restoreLayers(candidate.layers());
                loaded = candidate;
                break;
            } catch (IOException | RuntimeException e) {
                unusable++;
                LOG.error("checkpoint {} is unusable ({}); falling back to the previous one", file, e.getMessage());
            }
        }
        long walStart = loaded == null ? 0 : loaded.walStart();
        AtomicReference<Long> replayed = new AtomicReference<>(0L);
        WalReader.Result r = WalReader.replay(dir, new WalReader.Visitor() {
            @Override
            public void batch(long seq, ActivationBatch batch) throws Exception {
                if (seq >= walStart) {
                    monitor.replay(seq, batch);
                    replayed.set(replayed.get() + 1);
                }
            }

            @Override
            public void delete(long seq, String run) {
                if (seq >= walStart) {
                    monitor.replayDelete(seq, run);
                    replayed.set(replayed.get() + 1);
                }
            }
        });
        monitor.awaitIdle(Duration.ofMinutes(10));
        monitor.refreshAll();
        Recovery rec = new Recovery(loaded == null ? null : loaded.file(), loaded == null ? 0 : loaded.layers().size(),
                replayed.get(), r.truncatedSegments(), unusable);
        LOG.info("recovered from {}: {} layers, {} logged records replayed{}", loaded == null ? "no checkpoint"
                : loaded.file().getFileName(), rec.layers(), rec.replayedRecords(),
                r.truncatedSegments() > 0 ? ", " + r.truncatedSegments() + " log segment(s) truncated" : "");
        if (mode == Mode.WAL) {
            wal = new WriteAheadLog(dir, monitor.lastSeq() + 1);
            monitor.attachLog(wal);
        }
        return rec;
    }

    /** Starts the periodic checkpoints. */
    public void start() {
        if (mode == Mode.NONE) {
            return;
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "alphawatch-checkpoint");
            t.setDaemon(true);
            return t;
        });
        long ms = interval.toMillis();
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                checkpoint();
            } catch (Exception e) {
                LOG.error("checkpoint failed: {}", e.toString(), e);
            }
        }, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** Writes a checkpoint now and drops log segments no retained checkpoint needs. */
    public synchronized Path checkpoint() throws Exception {
        long start = System.nanoTime();
        long walStart;
        if (wal != null) {
            AtomicReference<java.util.concurrent.CompletableFuture<Void>> rotated = new AtomicReference<>();
            walStart = monitor.atomically(next -> rotated.set(wal.rotate(next)));
            rotated.get().get(60, TimeUnit.SECONDS);
            if (!monitor.awaitAppliedBelow(walStart, Duration.ofMinutes(5))) {
                throw new IllegalStateException("batches before " + walStart + " were not applied in time");
            }
        } else {
            walStart = monitor.lastSeq() + 1;
        }
        List<byte[]> layers = monitor.captureLayers(Duration.ofMinutes(5));
        Path file = Checkpoints.write(dir, walStart, layers);
        List<Path> all = Checkpoints.list(dir);
        for (int i = Checkpoints.KEEP; i < all.size(); i++) {
            Files.deleteIfExists(all.get(i));
        }
        all = Checkpoints.list(dir);
        long oldestKept = Checkpoints.read(all.get(all.size() - 1)).walStart();
        List<Path> segments = WalReader.segments(dir);
        List<Path> obsolete = new ArrayList<>();
        for (int i = 0; i + 1 < segments.size(); i++) {
            if (WalReader.firstSeq(segments.get(i + 1)) <= oldestKept) {
                obsolete.add(segments.get(i));
            }
        }
        for (Path p : obsolete) {
            Files.deleteIfExists(p);
        }
        LOG.info(String.format(Locale.ROOT, "checkpoint %s: %d layers in %.0f ms", file.getFileName(), layers.size(),
                (System.nanoTime() - start) / 1e6));
        return file;
    }

    @Override
    public void close() {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
        if (mode != Mode.NONE) {
            try {
                checkpoint();
            } catch (Exception e) {
                LOG.error("final checkpoint failed: {}", e.toString());
            }
        }
        if (wal != null) {
            wal.close();
        }
    }
}
