package org.alphawatch.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.alphawatch.cli.Main;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server process capped at -Xmx512m, flooded by 16 producers: it refuses with 429 instead of
 * falling over, and every acknowledged sample ends up in its accumulators.
 */
@Tag("slow")
class OverloadTest {
    @Test
    void smallHeapSixteenProducers(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("server.log");
        Process server = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-XX:+ExitOnOutOfMemoryError", "-cp", System.getProperty("java.class.path"),
                "org.alphawatch.cli.Main", "serve", "--port", "0", "--queue-batches", "32", "--queue-bytes", "64MB",
                "--max-body-bytes", "8MB", "--memory-budget", "240MB", "--ci-groups", "2"))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            String url = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            Pattern p = Pattern.compile("alphawatch serving on (http://\\S+)");
            while (url == null && System.nanoTime() < deadline && server.isAlive()) {
                Matcher m = p.matcher(Files.readString(log));
                if (m.find()) {
                    url = m.group(1);
                } else {
                    Thread.sleep(100);
                }
            }
            assertThat(url).as(Files.readString(log)).isNotNull();
            StringWriter out = new StringWriter();
            int status = Main.run(new String[] {"loadtest", "--url", url, "--producers", "16", "--layers", "4",
                "--dims", "1024", "--rows", "512", "--seconds", "15", "--run", "flood"},
                    new PrintWriter(out), new PrintWriter(new StringWriter()));
            System.out.println(out);
            assertThat(server.isAlive()).as("server survived:\n" + Files.readString(log)).isTrue();
            assertThat(Files.readString(log)).doesNotContain("OutOfMemoryError");
            assertThat(status).as(out.toString()).isZero();
            Matcher throttled = Pattern.compile("(\\d+) answered 429").matcher(out.toString());
            assertThat(throttled.find()).isTrue();
            assertThat(Long.parseLong(throttled.group(1))).as("429s under overload").isPositive();
            assertThat(out.toString()).contains("all there", " 0 failed");
        } finally {
            server.destroy();
            server.waitFor(10, TimeUnit.SECONDS);
            server.destroyForcibly();
        }
    }
}
