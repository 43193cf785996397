package org.alphawatch.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * External programs some tests drive for real (Prometheus, Chromium, Debian's python3 with torch).
 * CI ({@code .ci/run}) installs them and sets ALPHAWATCH_REQUIRE_TOOLS=1, so a missing tool fails
 * the build there; on a developer machine without them those tests are skipped with the reason.
 */
public final class ExternalTools {
    private ExternalTools() {}

    public static Path require(String what, String... candidates) {
        for (String c : candidates) {
            Path p = Path.of(c);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        String message = what + " not found (looked for " + String.join(", ", candidates)
                + "); .ci/run installs it";
        if ("1".equals(System.getenv("ALPHAWATCH_REQUIRE_TOOLS"))) {
            throw new AssertionError(message);
        }
        Assumptions.abort(message);
        return null;
    }

    /** Runs a command and returns whether it exits 0 (for probing capabilities, e.g. python imports). */
    public static boolean succeeds(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    public static void requireThat(boolean ok, String message) {
        if (ok) {
            return;
        }
        if ("1".equals(System.getenv("ALPHAWATCH_REQUIRE_TOOLS"))) {
            throw new AssertionError(message);
        }
        Assumptions.abort(message);
    }
}
