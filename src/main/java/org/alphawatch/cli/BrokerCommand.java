package org.alphawatch.cli;

import java.io.File;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Starts the local Kafka broker ({@code org.alphawatch.scale.Broker}) in a child JVM whose class
 * path is the broker's jars (target/broker-lib, next to this jar) and this jar: the broker's
 * libraries never meet the server's.
 */
@Command(name = "broker", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run a single-node Kafka broker (KRaft) for trials and tests of scale-out; not for production.",
            "Prints one line with its bootstrap address when ready. See docs/scale-out.md."})
public final class BrokerCommand implements Callable<Integer> {
    @Option(names = "--port", paramLabel = "N", defaultValue = "9092", description = "client port (default ${DEFAULT-VALUE}; the controller uses N + 1)")
    int port;

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "alphawatch-broker", description = "data directory (default ${DEFAULT-VALUE}); kept across restarts")
    Path dir;

    @Override
    public Integer call() throws Exception {
        if (port < 1 || port > 65534) {
            throw new UserInputException("--port must be within 1..65534 (the controller takes port + 1)");
        }
        for (int p : new int[] {port, port + 1}) {
            try (java.net.ServerSocket probe = new java.net.ServerSocket(p, 1, java.net.InetAddress.getLoopbackAddress())) {
                probe.setReuseAddress(true);
            } catch (java.io.IOException e) {
                throw new UserInputException("port " + p + " is in use (the broker needs --port " + port + " and "
                        + (port + 1) + " for its controller); choose another --port");
            }
        }
        Path jar = ownJar();
        Path lib = jar.getParent().resolve("broker-lib");
        if (!Files.isDirectory(lib)) {
            throw new UserInputException("the broker's jars are not in " + lib + " (build with: mvn -B -DskipTests package)");
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(List.of(java, "-Xmx512m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", lib + File.separator + "*" + File.pathSeparator + jar,
                "org.alphawatch.scale.Broker", "--port", Integer.toString(port), "--dir", dir.toString())).inheritIO().start();
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroy, "alphawatch-broker-stop"));
        return p.waitFor();
    }

    private static Path ownJar() throws URISyntaxException {
        return Path.of(BrokerCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}
