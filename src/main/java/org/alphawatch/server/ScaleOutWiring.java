package org.alphawatch.server;

import org.alphawatch.scale.ScaleOut;

/**
 * The one place {@link MonitorService} touches scale-out: a separate class, loaded only when Kafka
 * is configured, so that a single-node server never loads a Kafka class.
 */
final class ScaleOutWiring {
    private ScaleOutWiring() {}

    static void connect(MonitorService service, ServerConfig config, AlphawatchServer.Builder server) {
        try {
            ScaleOut s = ScaleOut.connect(config.scale().orElseThrow(), service.monitor(), config.durability().dir(),
                    config.durability().interval(), config.monitor().maxBodyBytes(),
                    config.token().map(t -> new String(t, java.nio.charset.StandardCharsets.UTF_8)),
                    () -> service.server().baseUrl()); // asked once the server listens
            server.cluster(s.sink(), s.view(), s::status, s::healthy);
            s.bindMetrics(service.metrics().registry());
            service.attachScaleOut(s);
        } catch (Exception e) {
            throw new IllegalStateException("kafka at " + config.scale().get().bootstrap() + ": " + e.getMessage(), e);
        }
    }

    static void start(AutoCloseable scaleOut) {
        ((ScaleOut) scaleOut).start();
    }
}
