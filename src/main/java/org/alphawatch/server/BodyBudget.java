package org.alphawatch.server;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Memory for request bodies while they are received and decoded, all requests together. A body
 * reserves bytes as they arrive (never from the size a client declares), then its contiguous copy
 * and its decoded arrays; whatever the request's fate, {@link Body#release} returns everything.
 * A request that would go over the budget is refused (429 with Retry-After) before it allocates.
 * Thread-safe.
 */
final class BodyBudget {
    /** A body arrived beyond max-body-bytes. */
    static final class TooLarge extends RuntimeException {
        TooLarge(String m) {
            super(m, null, false, false);
        }
    }

    /** The budget cannot hold more right now. */
    static final class Exhausted extends RuntimeException {
        Exhausted(String m) {
            super(m, null, false, false);
        }
    }

    private final long limit;
    private final AtomicLong used = new AtomicLong();

    BodyBudget(long limit) {
        this.limit = limit;
    }

    long used() {
        return used.get();
    }

    long limit() {
        return limit;
    }

    private boolean tryReserve(long n) {
        while (true) {
            long u = used.get();
            if (u + n > limit) {
                return false;
            }
            if (used.compareAndSet(u, u + n)) {
                return true;
            }
        }
    }

    Body body(long maxBytes) {
        return new Body(maxBytes);
    }

    /** One request's body and what it holds of the budget. Not thread-safe (one request's pipeline). */
    final class Body {
        private final long maxBytes;
        private final List<byte[]> chunks = new ArrayList<>();
        private long size;
        private long held;
        private byte[] whole;

        private Body(long maxBytes) {
            this.maxBytes = maxBytes;
        }

        /** Takes the next chunk that arrived; throws when it goes over max-body-bytes or the budget. */
        void add(byte[] chunk) {
            if (size + chunk.length > maxBytes) {
                throw new TooLarge("body exceeds max-body-bytes " + maxBytes);
            }
            reserve(chunk.length);
            chunks.add(chunk);
            size += chunk.length;
        }

        /** Reserves {@code n} more bytes for this request (e.g. its decoded arrays). */
        void reserve(long n) {
            if (!tryReserve(n)) {
                throw new Exhausted("the server is receiving " + used.get() / (1 << 20) + " MB of other bodies "
                        + "(body-memory " + limit / (1 << 20) + " MB); retry shortly");
            }
            held += n;
        }

        long size() {
            return size;
        }

        /** The body as one array (reserved before the copy; the chunks' share is returned after it). */
        byte[] bytes() {
            if (whole == null) {
                reserve(size);
                whole = new byte[(int) size];
                int at = 0;
                for (byte[] c : chunks) {
                    System.arraycopy(c, 0, whole, at, c.length);
                    at += c.length;
                }
                chunks.clear();
                held -= size;
                used.addAndGet(-size);
            }
            return whole;
        }

        /** Returns everything this request held. Idempotent. */
        void release() {
            used.addAndGet(-held);
            held = 0;
            chunks.clear();
            whole = null;
        }
    }
}
