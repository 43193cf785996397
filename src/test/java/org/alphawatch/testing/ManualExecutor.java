package org.alphawatch.testing;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * An executor that runs nothing until the test says so: tasks queue in submission order and
 * {@link #runNext()} runs the oldest on the calling thread. Concurrency code scheduled on it runs
 * deterministically, one step at a time. Not thread-safe: one test thread drives it.
 */
public final class ManualExecutor implements Executor {
    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

    @Override
    public void execute(Runnable task) {
        tasks.add(task);
    }

    /** Runs the oldest queued task; false when none is queued. */
    public boolean runNext() {
        Runnable r = tasks.poll();
        if (r == null) {
            return false;
        }
        r.run();
        return true;
    }

    /** Runs tasks (including those they queue) until none is left; returns how many ran. */
    public int runAll() {
        int n = 0;
        while (runNext()) {
            n++;
        }
        return n;
    }

    public int queued() {
        return tasks.size();
    }

    /** A Reactor scheduler whose tasks queue here. */
    public Scheduler scheduler() {
        return Schedulers.fromExecutor(this);
    }
}
