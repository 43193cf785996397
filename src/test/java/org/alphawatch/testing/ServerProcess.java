package org.alphawatch.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code alphawatch serve} as a real child process (this build's classes), its log and its memory. */
public final class ServerProcess implements AutoCloseable {
    private final Process process;
    private final Path log;
    private String url;

    private ServerProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Starts {@code serve --port 0} with the given heap and arguments; does not wait for it. */
    public static ServerProcess start(Path log, String heap, String... args) throws IOException {
        return start(log, List.of(), heap, args);
    }

    /** As {@link #start(Path, String, String...)} with JVM options. */
    public static ServerProcess start(Path log, List<String> jvm, String heap, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(java(), "-Xmx" + heap));
        command.addAll(jvm);
        command.addAll(List.of("-cp", classPath(), "org.alphawatch.cli.Main", "serve", "--port", "0"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new ServerProcess(p, log);
    }

    /** This JVM's java executable. */
    public static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The test class path (surefire's, when it hides it behind a booter jar). */
    public static String classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp == null || cp.isBlank() ? System.getProperty("java.class.path") : cp;
    }

    /** Waits for the serving line; fails with the log when the process exits first. */
    public String url() throws Exception {
        if (url != null) {
            return url;
        }
        Pattern pattern = Pattern.compile("alphawatch serving on (https?://\\S+)");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && process.isAlive()) {
            Matcher m = pattern.matcher(Files.readString(log));
            if (m.find()) {
                url = m.group(1);
                return url;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("server did not start:\n" + Files.readString(log));
    }

    public Http http() throws Exception {
        return new Http(url());
    }

    public String log() throws IOException {
        return Files.readString(log);
    }

    public Process process() {
        return process;
    }

    /** Exit status, waiting up to {@code seconds}; -1 when still running. */
    public int waitFor(long seconds) throws InterruptedException {
        return process.waitFor(seconds, TimeUnit.SECONDS) ? process.exitValue() : -1;
    }

    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(20, TimeUnit.SECONDS);
    }

    /** SIGTERM; true when the process ended within {@code seconds}. */
    public boolean terminate(long seconds) throws InterruptedException {
        process.destroy();
        return process.waitFor(seconds, TimeUnit.SECONDS);
    }

    /** Resident memory in bytes (VmRSS of /proc). */
    public long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS for " + process.pid());
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
