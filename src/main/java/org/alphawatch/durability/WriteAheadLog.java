package org.alphawatch.durability;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
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
import org.alphawatch.io.NpyArray;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.BatchLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write-ahead log of accepted batches: segment files {@code wal-<first seq>.log} of records
 *
 * <pre>
 * u32 length of (type .. payload)   u32 CRC32C of (type .. payload)
 * u8 type (1 batch, 2 delete run)   u64 sequence number   payload
 * batch payload: UTF run, UTF layer, u64 step, u8 kind, i8 repeat, u32 n + .npy values, u32 n + .npy latent (n = 0: none)
 * delete payload: UTF run
 * </pre>
 *
 * One writer thread appends whatever is queued, then fsyncs once and completes every waiting
 * future (group commit): an acknowledged batch is on disk. Records are queued in sequence order
 * (under the monitor's admission lock) and completed in that order.
 */
public final class WriteAheadLog implements BatchLog, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WriteAheadLog.class);
    static final byte BATCH = 1;
    static final byte DELETE = 2;
    static final int MAX_RECORD = 1 << 30;

    private record Entry(long seq, byte[] record, CompletableFuture<Void> done, long rotateTo) {}

    private final Path dir;
    private final BlockingQueue<Entry> queue = new LinkedBlockingQueue<>();
    private final Thread writer;
    private FileChannel segment;
    private volatile boolean closed;

    /** Opens a new segment starting at {@code firstSeq} (recovery never appends to an old one). */
    public WriteAheadLog(Path dir, long firstSeq) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
        this.segment = open(firstSeq);
        this.writer = new Thread(this::loop, "alphawatch-wal");
        writer.setDaemon(true);
        writer.start();
    }

    static String segmentName(long firstSeq) {
        return String.format("wal-%019d.log", firstSeq);
    }

    private FileChannel open(long firstSeq) throws IOException {
        FileChannel ch = FileChannel.open(dir.resolve(segmentName(firstSeq)), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        Checkpoints.fsyncDirectory(dir);
        return ch;
    }

    @Override
    public CompletableFuture<Void> appendBatch(long seq, ActivationBatch batch) {
        return enqueue(seq, encodeBatch(seq, batch));
    }

    @Override
    public CompletableFuture<Void> appendDelete(long seq, String run) {
        try {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(b);
            out.writeUTF(run);
            return enqueue(seq, frame(DELETE, seq, b.toByteArray()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Closes the current segment after everything queued so far and starts {@code wal-<nextSeq>.log}. */
    public CompletableFuture<Void> rotate(long nextSeq) {
        CompletableFuture<Void> done = new CompletableFuture<>();
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

    static byte[] encodeBatch(long seq, ActivationBatch batch) {
        try {
            ByteArrayOutputStream b = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 64, batch.bytes() + 256));
            DataOutputStream out = new DataOutputStream(b);
            out.writeUTF(batch.key().run());
            out.writeUTF(batch.key().layer());
            out.writeLong(batch.step());
            out.writeByte(batch.kind().ordinal());
            out.writeByte(batch.repeat());
            byte[] values = npy(batch.values());
            out.writeInt(values.length);
            out.write(values);
            byte[] latent = batch.latent() == null ? new byte[0] : npy(batch.latent());
            out.writeInt(latent.length);
            out.write(latent);
            out.flush();
            return frame(BATCH, seq, b.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
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
        while (!closed || !queue.isEmpty()) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                if (closed) {
                    break;
                }
                continue;
            }
            queue.drainTo(batch);
            List<CompletableFuture<Void>> written = new ArrayList<>();
            try {
                for (Entry e : batch) {
                    if (e.rotateTo() >= 0) {
                        flush(written);
                        segment.force(true);
                        segment.close();
                        segment = open(e.rotateTo());
                        e.done().complete(null);
                    } else {
                        ByteBuffer b = ByteBuffer.wrap(e.record());
                        while (b.hasRemaining()) {
                            segment.write(b);
                        }
                        written.add(e.done());
                    }
                }
                flush(written);
            } catch (IOException | RuntimeException ex) {
                LOG.error("write-ahead log failed: {}", ex.toString(), ex);
                for (Entry e : batch) {
                    e.done().completeExceptionally(ex);
                }
            }
            batch.clear();
        }
    }

    private void flush(List<CompletableFuture<Void>> written) throws IOException {
        if (written.isEmpty()) {
            return;
        }
        segment.force(false); // group commit: one fsync for everything written since the last one
        for (CompletableFuture<Void> f : written) {
            f.complete(null);
        }
        written.clear();
    }

    @Override
    public void close() {
        closed = true;
        writer.interrupt();
        try {
            writer.join(10_000);
            segment.force(true);
            segment.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            LOG.warn("closing the write-ahead log: {}", e.toString());
        }
    }
}
