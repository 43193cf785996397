package org.alphawatch.server;

import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRoutes;

/** The live page at {@code /}: static HTML and JavaScript from the jar, no CDN, no external fonts. */
final class PageRoutes implements AlphawatchServer.ExtraRoute {
    static final String SCRIPT = "/page/app.js";
    private final byte[] html = load("page/index.html");
    private final byte[] script = load("page/app.js");

    private static byte[] load(String name) {
        try (InputStream in = PageRoutes.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void register(HttpServerRoutes routes, AlphawatchServer server) {
        routes.get(ApiPaths.PAGE, (req, res) -> res.status(200)
                        .header(HttpHeaderNames.CONTENT_TYPE, "text/html; charset=utf-8")
                        .header(HttpHeaderNames.CACHE_CONTROL, "no-cache").sendByteArray(Mono.just(html)))
                .get(SCRIPT, (req, res) -> res.status(200)
                        .header(HttpHeaderNames.CONTENT_TYPE, "text/javascript; charset=utf-8")
                        .header(HttpHeaderNames.CACHE_CONTROL, "no-cache").sendByteArray(Mono.just(script)));
    }
}
