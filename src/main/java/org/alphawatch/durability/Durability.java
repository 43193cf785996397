package org.alphawatch.durability;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.Admission;
import org.alphawatch.pipeline.Monitor;
import org.alphawatch.pipeline.RecoveryPort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Durable monitor state (docs/durability.md). {@code none}: memory only. {@code checkpoint}: every
 * layer's state is checkpointed atomically every interval; a crash loses at most the batches of
 * one interval. {@code wal}: additionally every accepted batch and deletion is appended to a
 * write-ahead log and fsynced (group commit) before it is acknowledged; restart restores the
 * newest valid checkpoint and replays the log, so nothing acknowledged is lost.
 *
 * <p>Recovery never invents or silently drops data: damaged log records with intact ones after
 * them, or checkpoints that cannot be read when falling back to an older one would lose batches,
 * stop the start with a message naming the file, unless {@code --recover} says to go on (what was
 * lost is then logged and reported in {@code /healthz}). The state directory is locked: a second
 * server on it refuses to start.
 */
public final class Durability implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Durability.class);
    /** Longest wait, at a checkpoint or shutdown, for admitted batches to be applied. */
    static final Duration APPLY_WAIT = Duration.ofSeconds(30);
    /** Longest wait for the log to rotate or a layer to serialize itself. */
    static final Duration IO_WAIT = Duration.ofSeconds(60);
    /** The longest recovery waits for the replayed batches to be applied. */
    static final Duration RECOVERY_APPLY_WAIT = Duration.ofMinutes(10);
    static final String LOCK_FILE = "alphawatch.lock";

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

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What recovery found. */
    public record Recovery(Path checkpoint, int layers, long replayedRecords, int truncatedTails,
                           int unusableCheckpoints, int skippedRegions, long skippedBytes) {}

    private final DurabilitySettings settings;
    private final Mode mode;
    private final Path dir;
    private final Monitor monitor;
    private final DurabilityHealth health;
    private WriteAheadLog wal;
    private ScheduledExecutorService scheduler;
    private FileChannel lockChannel;
    private FileLock lock;
    /** Only a completed recovery may be checkpointed: a half-replayed state must never overwrite the files. */
    private volatile boolean recovered;

    public Durability(DurabilitySettings settings, Monitor monitor) {
        this.settings = settings;
        this.mode = settings.mode();
        this.dir = settings.dir();
        this.monitor = monitor;
        this.health = new DurabilityHealth(mode, dir);
    }

    public Mode mode() {
        return mode;
    }

    public DurabilityHealth health() {
        return health;
    }

    /**
     * Restores the newest usable checkpoint and replays the log; then opens a fresh log segment.
     * A layer whose saved state cannot be read costs only that layer: it is taken from an older
     * checkpoint when the log covers everything after it, and otherwise the start is refused naming
     * it (with {@code --recover}: that layer alone is skipped, with its logged batches, and reported).
     */
    public Recovery recover() throws Exception {
        if (mode == Mode.NONE) {
            return new Recovery(null, 0, 0, 0, 0, 0, 0);
        }
        Files.createDirectories(dir);
        lock();
        RecoveryPort port = monitor.recovery();
        List<Path> files = Checkpoints.list(dir);
        Checkpoints.Loaded loaded = null;
        List<String> unusable = new ArrayList<>();
        int loadedIndex = -1;
        for (int i = 0; i < files.size() && loaded == null; i++) {
            try {
                loaded = Checkpoints.read(files.get(i));
                loadedIndex = i;
            } catch (IOException | RuntimeException e) {
                unusable.add(e.getMessage());
                LOG.error("checkpoint {} is unusable: {}", files.get(i).getFileName(), e.getMessage());
            }
        }
        if (!unusable.isEmpty()) {
            boolean lossless = mode == Mode.WAL && loaded != null && logCovers(loaded.walStart());
            String what = unusable.size() + " unusable checkpoint(s) (" + String.join("; ", unusable) + ")";
            if (!lossless) {
                String outcome = loaded == null ? "no usable checkpoint is left"
                        : "falling back to " + loaded.file().getFileName() + " would lose the batches after it"
                                + (mode == Mode.CHECKPOINT ? " (durability = checkpoint keeps no log)" : "");
                if (!settings.recover()) {
                    throw new IllegalStateException(what + ": " + outcome + "; refusing to start. Restore the files, "
                            + "or start with --recover to continue from what is usable (the loss is reported)");
                }
                health.recoveredWithLoss(what + "; " + outcome);
                LOG.error("--recover: continuing although {}: {}", what, outcome);
            } else {
                LOG.warn("{}; fell back to {}, the write-ahead log covers everything after it", what,
                        loaded.file().getFileName());
            }
        }
        long walStart = loaded == null ? 0 : loaded.walStart();
        long replayFrom = walStart;
        Set<String> skipped = new HashSet<>();
        int layers = 0;
        if (loaded != null) {
            RecoveryPort.Restored restored = port.restoreLayers(loaded.layers());
            layers = restored.layers().size();
            List<String> lost = new ArrayList<>();
            for (RecoveryPort.Unreadable bad : restored.unreadable()) {
                String name = bad.layer() == null ? "layer #" + bad.index() : bad.layer();
                LOG.error("checkpoint {}: {} is unreadable: {}", loaded.file().getFileName(), name, bad.problem());
                Fallback older = bad.layer() == null ? null : olderCopy(port, files, loadedIndex, bad.layer());
                if (older != null && (mode == Mode.WAL && logCovers(older.walStart()) || settings.recover())) {
                    port.restoreLayers(List.of(older.state()));
                    layers++;
                    replayFrom = Math.min(replayFrom, older.walStart());
                    boolean lossless = mode == Mode.WAL && logCovers(older.walStart());
                    String note = name + " taken from " + older.file().getFileName() + (lossless
                            ? " (the log covers everything after it)" : " (its batches after that checkpoint are lost)");
                    if (!lossless) {
                        health.recoveredWithLoss(note);
                    }
                    LOG.warn("{}", note);
                    continue;
                }
                lost.add(name + ": " + bad.problem());
                if (bad.layer() != null) {
                    skipped.add(bad.layer());
                }
            }
            if (!lost.isEmpty()) {
                String what = "checkpoint " + loaded.file().getFileName() + " holds " + lost.size()
                        + " unreadable layer(s) with no older copy the log covers (" + String.join("; ", lost) + ")";
                if (!settings.recover()) {
                    throw new IllegalStateException(what + "; refusing to start. Restore the files, or start with "
                            + "--recover to skip exactly those layers (every other layer is restored; the loss is "
                            + "reported)");
                }
                health.recoveredWithLoss(what + "; skipped with --recover");
                LOG.error("--recover: {}; skipped", what);
            }
            // Sequence numbers continue after the checkpoint's, even when it holds no layer (a run
            // deleted before it): numbering never goes backwards.
            monitor.recovery().advanceSequence(walStart);
        }
        long from = replayFrom;
        AtomicLong replayed = new AtomicLong();
        List<String> refused = new ArrayList<>();
        WalReader.Result r = WalReader.replay(dir, new WalReader.Visitor() {
            @Override
            public void batch(long seq, ActivationBatch batch) throws Exception {
                if (seq < from || skipped.contains(batch.key().toString())) {
                    return;
                }
                Admission a = port.replay(seq, batch);
                if (!a.ok()) {
                    refused.add("batch " + seq + " for " + batch.key() + ": " + a.reason().label() + ": " + a.message());
                    if (!settings.recover()) {
                        throw new IllegalStateException("logged batch " + seq + " for " + batch.key() + " is refused by "
                                + "the checks every batch passes (" + a.reason().label() + ": " + a.message()
                                + "); refusing to start. Start with --recover to skip it (reported)");
                    }
                    LOG.error("--recover: logged batch {} for {} refused ({}); skipped", seq, batch.key(), a.message());
                    return;
                }
                replayed.incrementAndGet();
            }

            @Override
            public void delete(long seq, String run) {
                if (seq >= from) {
                    port.replayDelete(seq, run);
                    replayed.incrementAndGet();
                }
            }
        }, settings.recover());
        if (!refused.isEmpty()) {
            health.recoveredWithLoss(refused.size() + " logged batch(es) refused on replay, skipped with --recover ("
                    + refused.get(0) + (refused.size() > 1 ? "; ..." : "") + ")");
        }
        if (r.skippedRegions() > 0) {
            health.recoveredWithLoss(r.skippedRegions() + " damaged log region(s), " + r.skippedBytes()
                    + " bytes, skipped with --recover");
        }
        monitor.awaitIdle(RECOVERY_APPLY_WAIT);
        monitor.refreshAll();
        Recovery rec = new Recovery(loaded == null ? null : loaded.file(), layers, replayed.get(), r.truncatedTails(),
                unusable.size(), r.skippedRegions(), r.skippedBytes());
        LOG.info("recovered from {}: {} layers, {} logged records replayed{}", loaded == null ? "no checkpoint"
                : loaded.file().getFileName(), rec.layers(), rec.replayedRecords(),
                r.truncatedTails() > 0 ? ", a torn tail cut off" : "");
        if (mode == Mode.WAL) {
            // A new segment, after every existing one (the newest may hold no record yet: it was
            // rotated to just before the crash); the sequence numbers skip ahead to match.
            long next = port.lastSeq() + 1;
            List<Path> segments = WalReader.segments(dir);
            if (!segments.isEmpty()) {
                next = Math.max(next, WalReader.firstSeq(segments.get(segments.size() - 1)) + 1);
            }
            port.advanceSequence(next);
            wal = new WriteAheadLog(dir, next, r.lastSegmentValid(), health);
            port.attachLog(wal);
        }
        health.walOnDisk(walBytes());
        recovered = true;
        return rec;
    }

    /** A readable saved state of one layer in an older checkpoint. */
    private record Fallback(Path file, long walStart, byte[] state) {}

    /** The newest readable copy of {@code layer} in the checkpoints after {@code index} (older ones), or null. */
    private static Fallback olderCopy(RecoveryPort port, List<Path> files, int index, String layer) {
        for (int i = index + 1; i < files.size(); i++) {
            try {
                Checkpoints.Loaded older = Checkpoints.read(files.get(i));
                for (byte[] state : older.layers()) {
                    if (layer.equals(RecoveryPort.layerName(state)) && port.readable(state)) {
                        return new Fallback(older.file(), older.walStart(), state);
                    }
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("checkpoint {} has no usable copy of {}: {}", files.get(i).getFileName(), layer, e.getMessage());
            }
        }
        return null;
    }

    /** True when log segments hold every record from {@code seq} on (segments are kept for the oldest checkpoint). */
    private boolean logCovers(long seq) throws IOException {
        List<Path> segments = WalReader.segments(dir);
        return !segments.isEmpty() && WalReader.firstSeq(segments.get(0)) <= seq;
    }

    /** Takes the state directory for this process, or says who has it. */
    private void lock() throws IOException {
        Path file = dir.resolve(LOCK_FILE);
        lockChannel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            lock = lockChannel.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            lock = null; // held by this very process (another service in the same JVM)
        }
        if (lock == null) {
            String holder = Files.readString(file, StandardCharsets.UTF_8).trim();
            lockChannel.close();
            throw new IllegalStateException("state directory " + dir + " is in use by another alphawatch ("
                    + (holder.isEmpty() ? "unknown process" : holder) + "); two servers on one directory would lose data");
        }
        lockChannel.truncate(0);
        lockChannel.write(ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + ", started " + Instant.now()
                + " (" + ManagementFactory.getRuntimeMXBean().getName() + ")\n").getBytes(StandardCharsets.UTF_8)), 0);
        lockChannel.force(true);
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
        long ms = settings.interval().toMillis();
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                checkpoint();
            } catch (Exception e) {
                LOG.error("checkpoint failed: {}", e.toString());
            }
        }, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** Writes a checkpoint now and drops the log segments and checkpoints no longer needed. */
    public synchronized Path checkpoint() throws Exception {
        try {
            Path file = checkpointNow();
            health.checkpointed(System.currentTimeMillis());
            return file;
        } catch (Exception e) {
            health.checkpointFailed(e);
            throw e;
        } finally {
            health.walOnDisk(walBytes());
        }
    }

    private Path checkpointNow() throws Exception {
        long start = System.nanoTime();
        long walStart;
        if (wal != null) {
            AtomicReference<CompletableFuture<Void>> rotated = new AtomicReference<>();
            walStart = monitor.recovery().atomically(next -> rotated.set(wal.rotate(next)));
            rotated.get().get(IO_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } else {
            walStart = monitor.recovery().lastSeq() + 1;
        }
        if (!monitor.recovery().awaitAppliedBelow(walStart, APPLY_WAIT)) {
            throw new IllegalStateException("batches before " + walStart + " were not applied within " + APPLY_WAIT);
        }
        List<byte[]> layers = monitor.recovery().captureLayers(IO_WAIT);
        Path file = Checkpoints.write(dir, walStart, layers);
        List<Path> all = Checkpoints.list(dir);
        for (int i = Checkpoints.KEEP; i < all.size(); i++) {
            Files.deleteIfExists(all.get(i));
        }
        all = Checkpoints.list(dir);
        long oldestKept = Checkpoints.walStart(all.get(all.size() - 1));
        List<Path> segments = WalReader.segments(dir);
        for (int i = 0; i + 1 < segments.size(); i++) {
            if (WalReader.firstSeq(segments.get(i + 1)) <= oldestKept) {
                Files.deleteIfExists(segments.get(i));
            }
        }
        LOG.info(String.format(Locale.ROOT, "checkpoint %s: %d layers in %.0f ms", file.getFileName(), layers.size(),
                (System.nanoTime() - start) / 1e6));
        return file;
    }

    private long walBytes() {
        long total = 0;
        try {
            for (Path p : WalReader.segments(dir)) {
                total += Files.size(p);
            }
        } catch (IOException e) {
            // The directory is unreadable: the next checkpoint reports it.
        }
        return total;
    }

    /** Final checkpoint (bounded waits), then the log is closed and the directory released. */
    @Override
    public void close() {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
        if (mode != Mode.NONE && recovered) {
            try {
                checkpoint();
            } catch (Exception e) {
                LOG.error("final checkpoint failed ({}); {}", e.toString(), mode == Mode.WAL
                        ? "the write-ahead log still holds every acknowledged batch"
                        : "batches since the last checkpoint are lost");
            }
        }
        if (wal != null) {
            wal.close();
        }
        try {
            if (lock != null) {
                lock.release();
            }
            if (lockChannel != null) {
                lockChannel.close();
            }
        } catch (IOException e) {
            LOG.warn("releasing the state directory lock: {}", e.toString());
        }
    }
}
