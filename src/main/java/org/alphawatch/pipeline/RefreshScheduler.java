package org.alphawatch.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import reactor.core.scheduler.Scheduler;

/**
 * Shares the compute threads fairly between layers (start-time fair queueing): each layer has a
 * virtual finish time that advances by the cost of its refreshes, and the queued refresh with the
 * earliest virtual start runs next. A 2048-unit layer whose refresh takes seconds therefore cannot
 * keep a 64-unit layer waiting behind a queue of its own refreshes: the narrow layer's tiny cost
 * puts it first. At most {@code parallelism} refreshes run at once; a layer never has more than one
 * queued or running (the layer coalesces requests). Thread-safe.
 */
final class RefreshScheduler {
    /** A layer's place in the fair queue. */
    static final class Account {
        private double finishTag;
        /** Seconds its last refresh took (the cost estimate of the next). */
        volatile double lastCostSeconds;

        Account(double firstCostSeconds) {
            lastCostSeconds = firstCostSeconds;
        }
    }

    private record Job(double startTag, double finishTag, long order, Runnable work) {}

    private final Scheduler compute;
    private final int parallelism;
    // Equal start tags (layers that all asked while the same refresh ran) go cheapest first, so a
    // narrow layer does not queue behind wide ones that happened to ask before it.
    private final PriorityQueue<Job> queue = new PriorityQueue<>((a, b) -> a.startTag != b.startTag
            ? Double.compare(a.startTag, b.startTag) : a.finishTag != b.finishTag
            ? Double.compare(a.finishTag, b.finishTag) : Long.compare(a.order, b.order));
    private double virtualTime;
    private long submitted;
    private int running;

    RefreshScheduler(Scheduler compute, int parallelism) {
        this.compute = compute;
        this.parallelism = Math.max(1, parallelism);
    }

    void submit(Account account, Runnable work) {
        synchronized (this) {
            double start = Math.max(virtualTime, account.finishTag);
            account.finishTag = start + Math.max(1e-6, account.lastCostSeconds);
            queue.add(new Job(start, account.finishTag, submitted++, work));
        }
        dispatch();
    }

    private void dispatch() {
        List<Job> start = new ArrayList<>();
        synchronized (this) {
            while (running < parallelism && !queue.isEmpty()) {
                Job j = queue.poll();
                virtualTime = Math.max(virtualTime, j.startTag);
                running++;
                start.add(j);
            }
        }
        for (Job j : start) {
            compute.schedule(() -> {
                try {
                    j.work().run();
                } finally {
                    synchronized (this) {
                        running--;
                    }
                    dispatch();
                }
            });
        }
    }

    synchronized int queued() {
        return queue.size();
    }
}
