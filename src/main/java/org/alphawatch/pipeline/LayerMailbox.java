package org.alphawatch.pipeline;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import reactor.core.scheduler.Scheduler;

/**
 * The single-writer executor of one layer: events posted from any thread run one at a time, in
 * post order, on a worker of the ingest scheduler. Nothing posted is ever dropped: a layer that was
 * removed still receives its remaining events (and releases what they hold). A busy layer yields
 * its worker after {@value #BURST} events so layers sharing a worker take turns.
 */
final class LayerMailbox<E> {
    private static final int BURST = 16;

    private final ConcurrentLinkedQueue<E> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger wip = new AtomicInteger();
    private final Scheduler scheduler;
    private final Consumer<E> handler;

    LayerMailbox(Scheduler scheduler, Consumer<E> handler) {
        this.scheduler = scheduler;
        this.handler = handler;
    }

    void post(E event) {
        queue.offer(event);
        if (wip.getAndIncrement() == 0) {
            scheduler.schedule(this::drain);
        }
    }

    private void drain() {
        int missed = wip.get();
        int handled = 0;
        while (true) {
            for (int i = 0; i < missed; i++) {
                E e = queue.poll();
                handler.accept(e);
                if (++handled == BURST && i + 1 < missed) {
                    // Yield: the events not yet handled stay counted in wip, so no post schedules a second drain.
                    wip.addAndGet(-(i + 1));
                    scheduler.schedule(this::drain);
                    return;
                }
            }
            missed = wip.addAndGet(-missed);
            if (missed == 0) {
                return;
            }
            if (handled >= BURST) {
                scheduler.schedule(this::drain);
                return;
            }
        }
    }
}
