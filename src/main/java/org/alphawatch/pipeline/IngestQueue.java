package org.alphawatch.pipeline;

import java.time.Duration;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bounded queue between admission and the layers' writers: counts admitted batches and bytes
 * not yet applied, hands out {@link Ticket}s, and lets blocking producers wait for room. The
 * sequence numbers still in flight tell checkpoints when everything before a mark was applied.
 * Thread-safe; the lock is held only for counter updates, never while waiting on I/O.
 */
final class IngestQueue {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition room = lock.newCondition();
    private final ConcurrentSkipListSet<Long> inFlight = new ConcurrentSkipListSet<>();
    private final int maxBatches;
    private final long maxBytes;
    private int batches;
    private long bytes;

    IngestQueue(int maxBatches, long maxBytes) {
        this.maxBatches = maxBatches;
        this.maxBytes = maxBytes;
    }

    /** True when a batch of {@code size} bytes fits now. Call with the admission lock held. */
    boolean fits(long size) {
        lock.lock();
        try {
            return batches < maxBatches && bytes + size <= maxBytes;
        } finally {
            lock.unlock();
        }
    }

    /** Reserves room (the caller checked {@link #fits}) for the batch with sequence number {@code seq}. */
    Ticket reserve(long seq, long size) {
        lock.lock();
        try {
            batches++;
            bytes += size;
            inFlight.add(seq);
            return new Ticket(this, seq, size);
        } finally {
            lock.unlock();
        }
    }

    void release(Ticket t) {
        lock.lock();
        try {
            batches--;
            bytes -= t.bytes;
            inFlight.remove(t.seq);
            room.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until a batch of {@code size} bytes may fit; false on timeout. */
    boolean awaitRoom(long size, long deadlineNanos) throws InterruptedException {
        lock.lock();
        try {
            while (!(batches < maxBatches && bytes + size <= maxBytes)) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                room.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    int batches() {
        lock.lock();
        try {
            return batches;
        } finally {
            lock.unlock();
        }
    }

    long bytes() {
        lock.lock();
        try {
            return bytes;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until every batch with a sequence number below {@code mark} was applied or failed. */
    boolean awaitBelow(long mark, Duration timeout) throws InterruptedException {
        long left = timeout.toNanos();
        lock.lock();
        try {
            // release() signals room under this lock after removing a number: no wake-up is missed.
            while (!(inFlight.isEmpty() || inFlight.first() >= mark)) {
                if (left <= 0) {
                    return false;
                }
                left = room.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until no batch is queued; false on timeout. */
    boolean awaitEmpty(long deadlineNanos) throws InterruptedException {
        lock.lock();
        try {
            while (batches > 0) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                room.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }
}
