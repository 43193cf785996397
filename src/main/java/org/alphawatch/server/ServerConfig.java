package org.alphawatch.server;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.alphawatch.alert.AlertConfig;
import org.alphawatch.durability.DurabilitySettings;
import org.alphawatch.scale.ScaleSettings;
import org.alphawatch.pipeline.MonitorConfig;

/**
 * Settings of {@code alphawatch serve}.
 *
 * @param bind      address to listen on (loopback by default: exposing the monitor is a decision)
 * @param port      TCP port (0 picks a free one)
 * @param token     bearer token required for ingest and DELETE (from an env var or a file, never argv)
 * @param authReads whether queries, events and /metrics need the token too
 * @param alerts    default thresholds of the spectrum-change detector
 * @param webhook   where alerts are POSTed as JSON, if anywhere
 * @param tlsCert   PEM certificate chain: serve HTTPS (with tlsKey)
 * @param tlsKey    PEM private key (PKCS#8)
 * @param readTimeout longest pause between reads of a request, and a tenth of the longest time to
 *                  read one (slow or stalled uploads are cut off)
 * @param durability checkpoints and write-ahead log
 * @param bodyMemoryBytes memory for request bodies being received and decoded, all together
 * @param scale     scale-out on Kafka (docs/scale-out.md), if configured
 */
public record ServerConfig(String bind, int port, Optional<byte[]> token, boolean authReads, MonitorConfig monitor,
                           AlertConfig alerts, Optional<URI> webhook, Optional<Path> tlsCert, Optional<Path> tlsKey,
                           Duration readTimeout, DurabilitySettings durability, long bodyMemoryBytes,
                           Optional<ScaleSettings> scale) {
    public static final int DEFAULT_PORT = 9400;
    public static final String DEFAULT_BIND = "127.0.0.1";
    public static final long DEFAULT_BODY_MEMORY = 256L << 20;

    public ServerConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " outside 0..65535");
        }
        if (bind == null || bind.isBlank()) {
            throw new IllegalArgumentException("bind address must not be empty");
        }
        if (authReads && token.isEmpty()) {
            throw new IllegalArgumentException("auth-reads needs a token (ALPHAWATCH_TOKEN or token-file)");
        }
        if (tlsCert.isPresent() != tlsKey.isPresent()) {
            throw new IllegalArgumentException("tls-cert and tls-key go together");
        }
        for (Optional<Path> p : List.of(tlsCert, tlsKey)) {
            if (p.isPresent() && !Files.isReadable(p.get())) {
                throw new IllegalArgumentException("TLS file " + p.get() + " is not readable");
            }
        }
        if (readTimeout == null || readTimeout.isNegative() || readTimeout.isZero()) {
            throw new IllegalArgumentException("read-timeout-seconds must be > 0");
        }
        if (scale.isPresent() && durability.mode() != DurabilitySettings.none().mode()) {
            throw new IllegalArgumentException("durability " + durability.mode().label() + " does not apply with kafka: "
                    + "Kafka keeps the batches and workers checkpoint each partition (docs/scale-out.md)");
        }
        if (bodyMemoryBytes < monitor.maxBodyBytes()) {
            throw new IllegalArgumentException("body-memory " + bodyMemoryBytes + " must be at least max-body-bytes "
                    + monitor.maxBodyBytes() + " (one body must fit)");
        }
    }

    public ServerConfig(String bind, int port, Optional<byte[]> token, boolean authReads, MonitorConfig monitor) {
        this(bind, port, token, authReads, monitor, AlertConfig.defaults(), Optional.empty(), Optional.empty(),
                Optional.empty(), Duration.ofSeconds(10), DurabilitySettings.none(),
                Math.max(DEFAULT_BODY_MEMORY, monitor.maxBodyBytes()), Optional.empty());
    }

    public static ServerConfig local(int port, MonitorConfig monitor) {
        return new ServerConfig(DEFAULT_BIND, port, Optional.empty(), false, monitor);
    }

    public ServerConfig withAlerts(AlertConfig config, Optional<URI> hook) {
        return new ServerConfig(bind, port, token, authReads, monitor, config, hook, tlsCert, tlsKey, readTimeout,
                durability, bodyMemoryBytes, scale);
    }

    public ServerConfig withTls(Optional<Path> cert, Optional<Path> key) {
        return new ServerConfig(bind, port, token, authReads, monitor, alerts, webhook, cert, key, readTimeout,
                durability, bodyMemoryBytes, scale);
    }

    public ServerConfig withReadTimeout(Duration timeout) {
        return new ServerConfig(bind, port, token, authReads, monitor, alerts, webhook, tlsCert, tlsKey, timeout,
                durability, bodyMemoryBytes, scale);
    }

    public ServerConfig withDurability(DurabilitySettings d) {
        return new ServerConfig(bind, port, token, authReads, monitor, alerts, webhook, tlsCert, tlsKey, readTimeout, d, bodyMemoryBytes,
                scale);
    }

    public ServerConfig withBodyMemory(long bytes) {
        return new ServerConfig(bind, port, token, authReads, monitor, alerts, webhook, tlsCert, tlsKey, readTimeout,
                durability, bytes, scale);
    }

    public ServerConfig withScale(Optional<ScaleSettings> s) {
        return new ServerConfig(bind, port, token, authReads, monitor, alerts, webhook, tlsCert, tlsKey, readTimeout,
                durability, bodyMemoryBytes, s);
    }

    public boolean tls() {
        return tlsCert.isPresent();
    }
}
