package org.alphawatch.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.alphawatch.testing.ManualExecutor;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Schedulers;

/**
 * The hand-written concurrency of the pipeline (issue 21), driven step by step where order is the
 * claim and by real threads where safety is: a layer's mailbox handles every event once, in post
 * order, never two at a time, and a busy mailbox yields its worker after {@value #BURST} events so
 * other layers sharing the worker take turns; the refresh scheduler's fairness claim (docs/
 * performance.md): a wide layer delays a narrow one by at most the wide refresh that is running.
 */
class ConcurrencyTest {
    static final int BURST = 16;

    @Test
    void aMailboxHandlesEveryEventOnceInPostOrderNeverTwoAtATime() throws Exception {
        int producers = 4;
        int each = 5_000;
        ConcurrentLinkedQueue<int[]> seen = new ConcurrentLinkedQueue<>();
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(producers * each);
        LayerMailbox<int[]> box = new LayerMailbox<>(Schedulers.parallel(), e -> {
            if (inside.incrementAndGet() != 1) {
                overlaps.incrementAndGet();
            }
            seen.add(e);
            inside.decrementAndGet();
            done.countDown();
        });
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int producer = p;
            threads.add(new Thread(() -> {
                for (int i = 0; i < each; i++) {
                    box.post(new int[] {producer, i});
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        assertThat(done.await(5, TimeUnit.MINUTES)).as("every event handled").isTrue();
        assertThat(overlaps.get()).as("never two handlers at once").isZero();
        int[] next = new int[producers];
        for (int[] e : seen) {
            assertThat(e[1]).as("producer %d in post order", e[0]).isEqualTo(next[e[0]]++);
        }
        assertThat(next).containsOnly(each);
    }

    @Test
    void aBusyMailboxYieldsItsWorkerAfterABurst() {
        ManualExecutor worker = new ManualExecutor();
        List<String> order = new ArrayList<>();
        LayerMailbox<String> wide = new LayerMailbox<>(worker.scheduler(), order::add);
        LayerMailbox<String> narrow = new LayerMailbox<>(worker.scheduler(), order::add);
        for (int i = 0; i < 40; i++) {
            wide.post("w" + i);
        }
        narrow.post("n");
        worker.runAll();
        assertThat(order).hasSize(41);
        assertThat(order.indexOf("n")).as("the narrow layer's event runs after one burst of the busy one, not after all")
                .isEqualTo(BURST);
        List<String> wideOnly = order.stream().filter(s -> s.startsWith("w")).toList();
        for (int i = 0; i < 40; i++) {
            assertThat(wideOnly.get(i)).isEqualTo("w" + i);
        }
    }

    @Test
    void wideLayersDelayANarrowOneByAtMostTheRefreshThatIsRunning() {
        ManualExecutor compute = new ManualExecutor();
        RefreshScheduler fair = new RefreshScheduler(compute.scheduler(), 1);
        List<String> events = new ArrayList<>();
        // Three wide layers (seconds per refresh) always have a refresh waiting; first-come-first-served
        // would make a narrow layer wait behind all three of them.
        for (int w = 0; w < 3; w++) {
            RefreshScheduler.Account account = new RefreshScheduler.Account(10.0 + w);
            String name = "W" + w;
            Runnable[] job = new Runnable[1];
            job[0] = () -> {
                events.add("start " + name);
                fair.submit(account, job[0]);
            };
            fair.submit(account, job[0]);
        }
        RefreshScheduler.Account narrow = new RefreshScheduler.Account(0.01);
        boolean[] narrowQueued = {false};
        Runnable narrowJob = () -> {
            events.add("start n");
            narrowQueued[0] = false;
        };
        for (int step = 0; step < 300; step++) {
            if (step % 4 == 1 && !narrowQueued[0]) {
                events.add("submit n");
                narrowQueued[0] = true;
                fair.submit(narrow, narrowJob);
            }
            compute.runNext();
        }
        int waits = 0;
        for (int i = 0; i < events.size(); i++) {
            if (!events.get(i).equals("submit n")) {
                continue;
            }
            int wideStarts = 0;
            int j = i + 1;
            while (j < events.size() && !events.get(j).equals("start n")) {
                wideStarts += events.get(j).startsWith("start W") ? 1 : 0;
                j++;
            }
            if (j < events.size()) {
                waits++;
                assertThat(wideStarts).as("wide refreshes started between the narrow layer's request and its refresh")
                        .isLessThanOrEqualTo(1);
            }
        }
        assertThat(waits).as("narrow requests observed").isGreaterThan(20);
        for (int w = 0; w < 3; w++) {
            assertThat(events).as("no wide layer starves").contains("start W" + w);
        }
    }
}
