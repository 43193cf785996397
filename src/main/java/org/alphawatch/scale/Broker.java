package org.alphawatch.scale;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/**
 * {@code alphawatch broker}: a single-node Kafka (KRaft, broker and controller in one process) from
 * the Maven artifacts, for trials and tests; not for production (one copy of every record, no
 * security). Its data stays in {@code --dir}: started again on the same directory it keeps every
 * record. Prints one line with its bootstrap address when it accepts clients. Runs with the jars
 * of target/broker-lib on the class path (the launcher and {@code BrokerCommand} put them there).
 */
public final class Broker {
    public static final String READY = "alphawatch broker ready: bootstrap ";

    private Broker() {}

    public static void main(String[] args) throws Exception {
        int port = 9092;
        Path dir = Path.of("alphawatch-broker");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--dir" -> dir = Path.of(args[++i]);
                default -> {
                    System.err.println("alphawatch broker: unknown argument " + args[i] + " (--port N, --dir DIR)");
                    System.exit(2);
                }
            }
        }
        if (port < 1 || port > 65534) {
            System.err.println("alphawatch broker: --port must be within 1..65534 (the controller takes port + 1)");
            System.exit(2);
        }
        Files.createDirectories(dir);
        Properties p = properties(dir.toAbsolutePath(), port, port + 1);
        Path file = dir.resolve("server.properties");
        try (Writer w = Files.newBufferedWriter(file)) {
            p.store(w, "alphawatch broker: single node, for local use only");
        }
        if (!Files.exists(dir.resolve("data").resolve("meta.properties"))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int rc = StorageTool.execute(new String[] {"format", "-t", Uuid.randomUuid().toString(), "-c",
                file.toString()}, new PrintStream(out, true, StandardCharsets.UTF_8));
            if (rc != 0) {
                System.err.println("alphawatch broker: formatting " + dir + " failed: " + out);
                System.exit(1);
            }
        }
        KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(p, false), Time.SYSTEM);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown();
            server.awaitShutdown();
            stopped.countDown();
        }, "alphawatch-broker-shutdown"));
        server.startup();
        awaitReady("127.0.0.1:" + port);
        System.out.println(READY + "127.0.0.1:" + port + " (single node, for local use only; data in "
                + dir.toAbsolutePath() + ")");
        System.out.flush();
        stopped.await();
    }

    static Properties properties(Path dir, int port, int controllerPort) {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", dir.resolve("data").toString());
        p.put("num.partitions", "1");
        p.put("default.replication.factor", "1");
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "4");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "2");
        p.put("background.threads", "2");
        p.put("log.cleaner.threads", "1");
        p.put("log.cleaner.dedupe.buffer.size", Integer.toString(2 << 20));
        // Batches are megabytes: records up to 65 MB (a 64 MB body and its frame).
        p.put("message.max.bytes", Integer.toString(65 << 20));
        p.put("replica.fetch.max.bytes", Integer.toString(65 << 20));
        return p;
    }

    static void awaitReady(String bootstrap) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        try (Admin admin = Admin.create(p)) {
            while (true) {
                try {
                    if (!admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (Exception e) {
                    if (System.nanoTime() > deadline) {
                        throw new IOException("the broker did not accept clients within 120 s", e);
                    }
                }
                Thread.sleep(100);
            }
        }
    }
}
