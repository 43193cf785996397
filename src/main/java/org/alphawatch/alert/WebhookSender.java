package org.alphawatch.alert;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers alerts as JSON POSTs to a webhook from its own thread: a bounded queue (a full queue
 * drops the alert and counts it; the detector never waits), and up to four attempts per alert
 * with exponential back-off (0.5, 1, 2 s). A 2xx answer is a delivery.
 */
public final class WebhookSender implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookSender.class);
    private static final int ATTEMPTS = 4;
    /** Alerts waiting for delivery; beyond, the newest are dropped and counted. */
    public static final int DEFAULT_CAPACITY = 1000;
    /** First retry delay; each further attempt doubles it. */
    public static final long DEFAULT_BASE_DELAY_MILLIS = 500;

    private final URI url;
    private final BlockingQueue<Alert> queue;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper json = new ObjectMapper();
    private final Thread thread;
    private final long baseDelayMillis;
    final AtomicLong delivered = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong dropped = new AtomicLong();
    private volatile boolean closed;

    public WebhookSender(URI url, int capacity, long baseDelayMillis) {
        this.url = url;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.baseDelayMillis = baseDelayMillis;
        this.thread = new Thread(this::loop, "alphawatch-webhook");
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues an alert; false (and counted) when the queue is full. */
    public boolean offer(Alert alert) {
        if (closed || !queue.offer(alert)) {
            dropped.incrementAndGet();
            return false;
        }
        return true;
    }

    public long delivered() {
        return delivered.get();
    }

    public long failed() {
        return failed.get();
    }

    public long dropped() {
        return dropped.get();
    }

    private void loop() {
        while (!closed) {
            Alert alert;
            try {
                alert = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            deliver(alert);
        }
    }

    private void deliver(Alert alert) {
        byte[] body;
        try {
            body = json.writeValueAsBytes(AlertJson.toMap(alert));
        } catch (Exception e) {
            failed.incrementAndGet();
            return;
        }
        long delay = baseDelayMillis;
        for (int attempt = 1; attempt <= ATTEMPTS && !closed; attempt++) {
            try {
                HttpResponse<Void> r = client.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body))
                        .build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() / 100 == 2) {
                    delivered.incrementAndGet();
                    return;
                }
                LOG.warn("webhook {} answered {} (attempt {} of {})", url, r.statusCode(), attempt, ATTEMPTS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                LOG.warn("webhook {} failed: {} (attempt {} of {})", url, e.toString(), attempt, ATTEMPTS);
            }
            if (attempt < ATTEMPTS) {
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                delay *= 2;
            }
        }
        failed.incrementAndGet();
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
