package org.alphawatch.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@code org.alphawatch.scale.Broker} as a child process on the test class path (its own JVM). */
public final class LocalBroker implements AutoCloseable {
    private final Path dir;
    private final int port;
    private Process process;

    private LocalBroker(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** A broker on a free port (and the next one, for its controller) keeping its data in {@code dir}. */
    public static LocalBroker start(Path dir) throws Exception {
        LocalBroker b = new LocalBroker(dir, freePortPair());
        b.restart();
        return b;
    }

    /** Starts the process again on the same directory and port; waits until it accepts clients. */
    public void restart() throws Exception {
        Files.createDirectories(dir);
        Path log = dir.resolve("broker-" + System.nanoTime() + ".log");
        process = new ProcessBuilder(List.of(ServerProcess.java(), "-Xmx384m", "-XX:+UseSerialGC",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", ServerProcess.classPath(),
                "org.alphawatch.scale.Broker", "--port", Integer.toString(port), "--dir", dir.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline && process.isAlive()) {
            if (Files.readString(log).contains(org.alphawatch.scale.Broker.READY)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("broker did not start:\n" + Files.readString(log));
    }

    public String bootstrap() {
        return "127.0.0.1:" + port;
    }

    /** SIGTERM: Kafka's controlled shutdown. */
    public void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
        }
    }

    private static int freePortPair() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int p;
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                p = s.getLocalPort();
            }
            try (ServerSocket next = new ServerSocket(p + 1, 1, InetAddress.getLoopbackAddress())) {
                return next.getLocalPort() - 1;
            } catch (IOException e) {
                // taken: try another
            }
        }
        throw new IOException("no two free consecutive ports");
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            try {
                stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
