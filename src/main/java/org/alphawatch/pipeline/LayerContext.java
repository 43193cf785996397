package org.alphawatch.pipeline;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.alphawatch.core.analysis.AnalysisOptions;
import reactor.core.scheduler.Scheduler;

/**
 * What every layer of one monitor shares: settings, schedulers, sinks, the clock, and the count of
 * outstanding work (events posted but not handled, refreshes running) that {@code awaitIdle} waits on.
 */
final class LayerContext {
    private final MonitorConfig config;
    private final AnalysisOptions options;
    private final RefreshScheduler refresher;
    private final Scheduler ingest;
    private final MonitorObserver observer;
    private final Consumer<LayerSnapshot> publisher;
    private final LongSupplier clock;
    private final Consumer<LayerMonitor> dropIfUnused;
    private final AtomicLong outstanding = new AtomicLong();
    private final java.util.concurrent.locks.ReentrantLock idleLock = new java.util.concurrent.locks.ReentrantLock();
    private final java.util.concurrent.locks.Condition idle = idleLock.newCondition();

    LayerContext(MonitorConfig config, AnalysisOptions options, RefreshScheduler refresher, Scheduler ingest,
                 MonitorObserver observer, Consumer<LayerSnapshot> publisher, LongSupplier clock,
                 Consumer<LayerMonitor> dropIfUnused) {
        this.config = config;
        this.options = options;
        this.refresher = refresher;
        this.ingest = ingest;
        this.observer = observer;
        this.publisher = publisher;
        this.clock = clock;
        this.dropIfUnused = dropIfUnused;
    }

    MonitorConfig config() {
        return config;
    }

    AnalysisOptions options() {
        return options;
    }

    RefreshScheduler refresher() {
        return refresher;
    }

    Scheduler ingest() {
        return ingest;
    }

    MonitorObserver observer() {
        return observer;
    }

    Consumer<LayerSnapshot> publisher() {
        return publisher;
    }

    LongSupplier clock() {
        return clock;
    }

    /** A layer that was created for batches which all failed to become durable: unregister it. */
    void dropIfUnused(LayerMonitor layer) {
        dropIfUnused.accept(layer);
    }

    void posted() {
        outstanding.incrementAndGet();
    }

    void handled() {
        if (outstanding.decrementAndGet() == 0) {
            idleLock.lock();
            try {
                idle.signalAll(); // under the waiter's lock: it is either checking or waiting, never in between
            } finally {
                idleLock.unlock();
            }
        }
    }

    long outstanding() {
        return outstanding.get();
    }

    /** Waits until no event is posted but unhandled and no refresh runs; false at the deadline. */
    boolean awaitNoOutstanding(long deadlineNanos) throws InterruptedException {
        idleLock.lock();
        try {
            while (outstanding.get() != 0) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                idle.awaitNanos(left);
            }
            return true;
        } finally {
            idleLock.unlock();
        }
    }
}
