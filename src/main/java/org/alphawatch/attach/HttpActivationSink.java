package org.alphawatch.attach;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.OptionalDouble;
import org.alphawatch.io.NpyArray;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.LayerKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.alphawatch.report.JsonFields;

/**
 * Sends the trainer's batches to a remote alphawatch over its HTTP API (the way an external run
 * attaches). Delivery is exactly once: every request carries this sink's sender id and its number
 * for the layer, a layer has one request in flight at a time, and a request whose answer was lost
 * (timeout, I/O error) is sent again with the same number, which the monitor applies at most once.
 * 429 is retried after Retry-After, other refusals are logged and counted by the caller. A batch is
 * given up (false) after {@link #GIVE_UP} of retries. Thread-safe.
 */
public final class HttpActivationSink implements ActivationSink {
    private static final Logger LOG = LoggerFactory.getLogger(HttpActivationSink.class);
    /** The longest {@link #emit} tries one batch before it gives up. */
    static final Duration GIVE_UP = Duration.ofSeconds(120);

    private final String base;
    private final String token;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final ObjectMapper json = new ObjectMapper();
    private final String sender = "java-" + Long.toHexString(new java.security.SecureRandom().nextLong() >>> 1);
    /** Per layer: the last request number used; its monitor doubles as the one-in-flight lock. */
    private final java.util.concurrent.ConcurrentHashMap<LayerKey, java.util.concurrent.atomic.AtomicLong> numbers =
            new java.util.concurrent.ConcurrentHashMap<>();

    public HttpActivationSink(String baseUrl, String token) {
        this.base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.token = token;
    }

    /** The id this sink sends as {@code sender}. */
    public String sender() {
        return sender;
    }

    static byte[] body(ActivationBatch b) {
        NpyArray v = b.values();
        byte[] values = v.floats() != null ? NpyWriter.toBytes(v.floats(), v.rows(), v.cols())
                : NpyWriter.toBytes(v.doubles(), v.rows(), v.cols());
        if (b.latent() == null) {
            return values;
        }
        byte[] latent = NpyWriter.toBytes(b.latent().toDoubles(), b.latent().rows(), b.latent().cols());
        byte[] both = new byte[values.length + latent.length];
        System.arraycopy(values, 0, both, 0, values.length);
        System.arraycopy(latent, 0, both, values.length, latent.length);
        return both;
    }

    @Override
    public boolean emit(ActivationBatch b) throws InterruptedException {
        java.util.concurrent.atomic.AtomicLong number = numbers.computeIfAbsent(b.key(),
                k -> new java.util.concurrent.atomic.AtomicLong());
        synchronized (number) { // one request in flight per layer: numbers arrive in order
            long seq = number.incrementAndGet();
            String uri = base + "/v1/runs/" + b.key().run() + "/layers/" + b.key().layer() + "/batches?step="
                    + b.step() + "&kind=" + b.kind().label() + (b.repeat() >= 0 ? "&repeat=" + b.repeat() : "")
                    + "&sender=" + sender + "&seq=" + seq;
            HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(60))
                    .header("Content-Type", "application/octet-stream")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body(b)));
            if (token != null) {
                req.header("Authorization", "Bearer " + token);
            }
            long deadline = System.nanoTime() + GIVE_UP.toNanos();
            while (true) {
                HttpResponse<String> r;
                Duration wait;
                try {
                    r = client.send(req.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                    if (r.statusCode() == 202) {
                        return true;
                    }
                    if (r.statusCode() != 429 && r.statusCode() != 503) {
                        LOG.warn("{} refused {}: {} {}", base, b.key(), r.statusCode(), r.body());
                        return false;
                    }
                    wait = RetryAfter.parse(r.headers().firstValue("Retry-After"), java.time.Clock.systemUTC());
                } catch (IOException e) {
                    // The request may have been applied: the retry carries the same number, so it counts once.
                    LOG.warn("cannot reach {}: {}; retrying request {} of {}", base, e.toString(), seq, b.key());
                    wait = Duration.ofSeconds(1);
                }
                if (System.nanoTime() + wait.toNanos() > deadline) {
                    LOG.warn("gave up on request {} of {} after {} s", seq, b.key(), GIVE_UP.toSeconds());
                    return false;
                }
                Thread.sleep(wait.toMillis());
            }
        }
    }

    @Override
    public void endRun(String run) {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base + "/v1/runs/" + run + "/end"))
                .timeout(Duration.ofSeconds(5)).POST(HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            req.header("Authorization", "Bearer " + token);
        }
        try {
            HttpResponse<String> r = client.send(req.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                LOG.info("{} did not take the end of run {}: {}", base, run, r.statusCode());
            }
        } catch (IOException e) {
            LOG.info("the end of run {} was not sent to {}: {}", run, base, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public OptionalDouble alpha(LayerKey key) {
        try {
            HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base + "/v1/runs/" + key.run() + "/layers/"
                    + key.layer() + "/spectrum")).timeout(Duration.ofSeconds(5)).GET();
            if (token != null) {
                req.header("Authorization", "Bearer " + token);
            }
            HttpResponse<String> r = client.send(req.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                return OptionalDouble.empty();
            }
            JsonNode doc = json.readTree(r.body());
            JsonNode a = doc.get(JsonFields.ALPHA);
            boolean mature = doc.path(JsonFields.MATURE).asBoolean(true);
            return a == null || !a.isNumber() || !mature ? OptionalDouble.empty() : OptionalDouble.of(a.asDouble());
        } catch (IOException e) {
            return OptionalDouble.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OptionalDouble.empty();
        }
    }
}
