package org.alphawatch.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import org.alphawatch.io.NpyArray;
import org.alphawatch.io.NpyReader;

/** Test resources (copied from the shared reference folder; never read from outside the repo). */
public final class Resources {
    private Resources() {}

    public static Path path(String name) {
        try {
            return Path.of(Resources.class.getResource("/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test resource " + name, e);
        }
    }

    public static NpyArray npy(String name) throws IOException {
        try (NpyReader r = NpyReader.open(path(name))) {
            return r.readAll();
        }
    }

    public static JsonNode expected() {
        try (InputStream in = Resources.class.getResourceAsStream("/reference/expected.json")) {
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
