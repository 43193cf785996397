package org.alphawatch.server;

import java.net.URI;
import java.util.Optional;
import org.alphawatch.alert.AlertConfig;
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
 */
public record ServerConfig(String bind, int port, Optional<byte[]> token, boolean authReads, MonitorConfig monitor,
                           AlertConfig alerts, Optional<URI> webhook) {
    public static final int DEFAULT_PORT = 9400;
    public static final String DEFAULT_BIND = "127.0.0.1";

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
    }

    public ServerConfig(String bind, int port, Optional<byte[]> token, boolean authReads, MonitorConfig monitor) {
        this(bind, port, token, authReads, monitor, AlertConfig.defaults(), Optional.empty());
    }

    public static ServerConfig local(int port, MonitorConfig monitor) {
        return new ServerConfig(DEFAULT_BIND, port, Optional.empty(), false, monitor);
    }

    public ServerConfig withAlerts(AlertConfig config, Optional<URI> hook) {
        return new ServerConfig(bind, port, token, authReads, monitor, config, hook);
    }
}
