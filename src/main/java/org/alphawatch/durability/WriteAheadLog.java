package org.alphawatch.durability;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.zip.CRC32C;
import org.alphawatch.core.format.BinaryWriter;
import org.alphawatch.io.NpyArray;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.BatchLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write-ahead log of accepted batches and deletions (docs/durability.md, "write-ahead log").
 * Segment files {@code wal-<first seq>.log}, version 2, little-endian:
 *
 * <pre>
 * header: u32 magic "AWWL"  u16 version 2  u16 0  u64 first sequence number
 *         i64 valid bytes of the previous segment (-1: none)  u32 CRC32C of the 24 bytes before
 * record: u32 length of (type .. payload)  u32 CRC32C of (type .. payload)  u8 type  u64 sequence number  payload
 * batch (type 1):  string run, string layer, u64 step, u8 kind, i8 repeat, block .npy values, block .npy latent (empty: none)
 * delete (type 2): string run
 * batch from a named sender (type 3): as type 1, then string source
 * partial accumulators (type 4): string run, string layer, string source (empty: none), block partials (AWPA, back to back)
 * numbered batch (type 5): as type 1, then string source (empty: none), string sender, u64 request number
 * numbered partial accumulators (type 6): as type 4, then string sender, u64 request number
 *   (types 5 and 6: sender empty and number 0 when not numbered; then, optionally, the sender's
 *   layer settings: u8 1, u64 window samples, u64 min samples, each 0 for the server's)
 * </pre>
 *
 * (strings: u16 length + UTF-8; blocks: u32 length + bytes). One writer thread appends whatever is
 * queued, fsyncs once and completes every waiting future (group commit): an acknowledged batch is
 * on disk. A failed write or fsync fails the whole group (nothing of it is acknowledged) and the
 * segment is truncated back to its last durable byte, so a full disk leaves no torn record in
 * front of later ones; when even that fails, the next group starts a new segment whose header
 * records how much of the old one is valid. Rotation opens the next segment before it closes the
 * current one, so a failed rotation changes nothing. Version-1 segments (no header, big-endian
 * payloads) are still read.
 */
public final class WriteAheadLog implements BatchLog, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WriteAheadLog.class);
    static final int MAGIC = 0x4c575741; // "AWWL" little-endian
    static final short VERSION = 2;
    static final int HEADER_BYTES = 28;
    static final byte BATCH = 1;
    static final byte DELETE = 2;
    static final byte SOURCED_BATCH = 3;
    static final byte PARTIAL = 4;
    static final byte NUMBERED_BATCH = 5;
    static final byte NUMBERED_PARTIAL = 6;

    /** Whether a record type is one this version writes or reads (the reader's one test of a type). */
    static boolean knownType(int type) {
        return type >= BATCH && type <= NUMBERED_PARTIAL;
    }
    static final int MAX_RECORD = 1 << 30;

    private record Entry(long seq, byte[] record, CompletableFuture<Void> done, long rotateTo) {}

    /** Queued by {@link #close}: everything queued before it is written, nothing after. */
    private static final Entry END = new Entry(-1, null, null, -1);

    private final Path dir;
    private final DurabilityHealth health;
    private final BlockingQueue<Entry> queue = new LinkedBlockingQueue<>();
    private final Thread writer;
    private FileChannel segment;
    private long segmentFirst;
    private long segmentValid;
    /** The current segment ends in bytes that could not be removed: the next write opens a new one. */
    private boolean broken;
    private volatile boolean closed;

    /**
     * Opens a new segment starting at {@code firstSeq} (recovery never appends to an old one);
     * {@code previousValid} is the valid length of the segment before it (-1: none).
     */
    public WriteAheadLog(Path dir, long firstSeq, long previousValid, DurabilityHealth health) throws IOException {
        this.dir = dir;
        this.health = health;
        Files.createDirectories(dir);
        this.segment = open(dir, firstSeq, previousValid);
        this.segmentFirst = firstSeq;
        this.segmentValid = HEADER_BYTES;
        this.writer = new Thread(this::loop, "alphawatch-wal");
        writer.setDaemon(true);
        writer.start();
    }

    static String segmentName(long firstSeq) {
        return String.format("wal-%019d.log", firstSeq);
    }

    /** Creates a segment with its header, durable (file and directory fsynced) before anything is appended. */
    static FileChannel open(Path dir, long firstSeq, long previousValid) throws IOException {
        Path file = dir.resolve(segmentName(firstSeq));
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            ByteBuffer h = header(firstSeq, previousValid);
            while (h.hasRemaining()) {
                ch.write(h);
            }
            ch.force(true);
            Checkpoints.fsyncDirectory(dir);
            return ch;
        } catch (IOException e) {
            ch.close();
            Files.deleteIfExists(file);
            throw e;
        }
    }

    static ByteBuffer header(long firstSeq, long previousValid) {
        ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(MAGIC).putShort(VERSION).putShort((short) 0).putLong(firstSeq).putLong(previousValid);
        CRC32C crc = new CRC32C();
        crc.update(h.array(), 0, 24);
        h.putInt((int) crc.getValue());
        h.flip();
        return h;
    }

    @Override
    public CompletableFuture<Void> appendBatch(long seq, ActivationBatch batch) {
        return enqueue(seq, encodeBatch(seq, batch));
    }

    @Override
    public CompletableFuture<Void> appendDelete(long seq, String run) {
        return enqueue(seq, encodeDelete(seq, run));
    }

    /**
     * Starts {@code wal-<nextSeq>.log} after everything queued so far; completes exceptionally (and
     * the current segment stays in use) when the new segment cannot be created.
     */
    public CompletableFuture<Void> rotate(long nextSeq) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (closed) {
            done.completeExceptionally(new IOException("write-ahead log is closed"));
            return done;
        }
        queue.add(new Entry(-1, null, done, nextSeq));
        return done;
    }

    private CompletableFuture<Void> enqueue(long seq, byte[] record) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (closed) {
            done.completeExceptionally(new IOException("write-ahead log is closed"));
            return done;
        }
        queue.add(new Entry(seq, record, done, -1));
        return done;
    }

    /** A run's deletion, framed (for Kafka records too). */
    public static byte[] encodeDelete(long seq, String run) {
        return frame(DELETE, seq, new BinaryWriter(64).string(run).toByteArray());
    }

    /** A batch as one framed record (the log's and Kafka's record format). */
    public static byte[] encodeBatch(long seq, ActivationBatch batch) {
        if (batch.partials() != null) {
            java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
            batch.partials().forEach(p -> all.writeBytes(p.encode()));
            byte[] partial = all.toByteArray();
            BinaryWriter w = new BinaryWriter(partial.length + 300);
            w.string(batch.key().run()).string(batch.key().layer())
                    .string(batch.source() == null ? "" : batch.source()).block(partial);
            if (batch.delivery() == null && batch.options() == null) {
                return frame(PARTIAL, seq, w.toByteArray());
            }
            numbered(w, batch);
            return frame(NUMBERED_PARTIAL, seq, w.toByteArray());
        }
        byte[] values = npy(batch.values());
        byte[] latent = batch.latent() == null ? new byte[0] : npy(batch.latent());
        BinaryWriter w = new BinaryWriter(values.length + latent.length + 300);
        w.string(batch.key().run()).string(batch.key().layer()).i64(batch.step()).u8(batch.kind().id())
                .u8(batch.repeat()).block(values).block(latent);
        if (batch.delivery() != null || batch.options() != null) {
            w.string(batch.source() == null ? "" : batch.source());
            numbered(w, batch);
            return frame(NUMBERED_BATCH, seq, w.toByteArray());
        }
        if (batch.source() != null) {
            w.string(batch.source());
        }
        return frame(batch.source() == null ? BATCH : SOURCED_BATCH, seq, w.toByteArray());
    }

    /** The tail of types 5 and 6: who sent it and its number (empty, 0: none), the sender's layer settings if any. */
    private static void numbered(BinaryWriter w, ActivationBatch batch) {
        w.string(batch.delivery() == null ? "" : batch.delivery().sender())
                .i64(batch.delivery() == null ? 0 : batch.delivery().seq());
        if (batch.options() != null) {
            w.u8(1).i64(batch.options().windowSamples()).i64(batch.options().minSamples());
        }
    }

    private static byte[] npy(NpyArray a) {
        return a.floats() != null ? NpyWriter.toBytes(a.floats(), a.rows(), a.cols())
                : NpyWriter.toBytes(a.doubles(), a.rows(), a.cols());
    }

    static byte[] frame(byte type, long seq, byte[] payload) {
        int body = 1 + 8 + payload.length;
        ByteBuffer buf = ByteBuffer.allocate(8 + body).order(ByteOrder.LITTLE_ENDIAN);
        buf.putInt(body).putInt(0).put(type).putLong(seq).put(payload);
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), 8, body);
        buf.putInt(4, (int) crc.getValue());
        return buf.array();
    }

    private void loop() {
        List<Entry> batch = new ArrayList<>();
        boolean end = false;
        while (!end) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                continue; // FileChannel I/O must not be interrupted (it would close the channel): wait for END
            }
            queue.drainTo(batch);
            List<Entry> group = new ArrayList<>();
            for (Entry e : batch) {
                if (end) {
                    e.done().completeExceptionally(new IOException("write-ahead log is closed"));
                } else if (e == END) {
                    end = true;
                } else if (e.rotateTo() >= 0) {
                    commit(group);
                    rotateNow(e);
                } else {
                    group.add(e);
                }
            }
            commit(group);
            batch.clear();
        }
    }

    /** Writes a group of records and fsyncs once; all or none of the group is acknowledged. */
    private void commit(List<Entry> group) {
        if (group.isEmpty()) {
            return;
        }
        try {
            if (broken) {
                replaceSegment(group.get(0).seq());
            }
            long bytes = 0;
            for (Entry e : group) {
                ByteBuffer b = ByteBuffer.wrap(e.record());
                while (b.hasRemaining()) {
                    segment.write(b);
                }
                bytes += e.record().length;
            }
            segment.force(false);
            segmentValid += bytes;
            health.walWritten(bytes);
            for (Entry e : group) {
                e.done().complete(null);
            }
        } catch (IOException | RuntimeException ex) {
            LOG.error("write-ahead log: {} records not written ({}); they are refused", group.size(), ex.toString());
            health.walFailed(ex);
            undoPartialWrite();
            for (Entry e : group) {
                e.done().completeExceptionally(ex);
            }
        } finally {
            group.clear();
        }
    }

    /** Removes whatever a failed write left after the last durable byte (ftruncate needs no free space). */
    private void undoPartialWrite() {
        if (broken) {
            return;
        }
        try {
            segment.truncate(segmentValid);
            segment.position(segmentValid);
            segment.force(true);
        } catch (IOException t) {
            LOG.error("write-ahead log: cannot cut the failed write off the segment ({}); the next write starts a "
                    + "new segment, which records the valid length of this one", t.toString());
            broken = true;
        }
    }

    private void replaceSegment(long firstSeq) throws IOException {
        FileChannel next = open(dir, firstSeq, segmentValid);
        closeQuietly(segment);
        segment = next;
        segmentFirst = firstSeq;
        segmentValid = HEADER_BYTES;
        broken = false;
    }

    private void rotateNow(Entry e) {
        if (e.rotateTo() == segmentFirst && segmentValid == HEADER_BYTES && !broken) {
            e.done().complete(null); // nothing logged since the last rotation: this segment already starts there
            return;
        }
        try {
            FileChannel next = open(dir, e.rotateTo(), segmentValid);
            closeQuietly(segment);
            segment = next;
            segmentFirst = e.rotateTo();
            segmentValid = HEADER_BYTES;
            broken = false;
            e.done().complete(null);
        } catch (IOException ex) {
            LOG.error("write-ahead log: cannot start segment {} ({}); staying on the current one",
                    segmentName(e.rotateTo()), ex.toString());
            health.walFailed(ex);
            e.done().completeExceptionally(ex);
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.force(true);
        } catch (IOException e) {
            LOG.warn("write-ahead log: fsync on close: {}", e.toString());
        }
        try {
            ch.close();
        } catch (IOException e) {
            LOG.warn("write-ahead log: close: {}", e.toString());
        }
    }

    /** Writes everything queued so far, then stops; later appends fail. */
    @Override
    public void close() {
        closed = true;
        queue.add(END);
        try {
            writer.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!writer.isAlive()) {
            closeQuietly(segment);
        }
    }
}
