package org.alphawatch.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.alphawatch.core.spectrum.EigenSolver;
import org.alphawatch.server.MonitorService;
import org.alphawatch.server.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code alphawatch serve}: the monitor as a long-running HTTP service. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the monitor: ingest .npy activation batches over HTTP, serve spectra, events and /metrics.",
            "Settings come from --config FILE (properties) and are overridden by flags of the same name;",
            "the bearer token comes from $ALPHAWATCH_TOKEN or --token-file, never from the command line.",
            "See docs/configuration.md."})
final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "properties file with settings")
    Path config;
    private final EigenSolver solver;

    public ServeCommand(EigenSolver solver) {
        this.solver = solver;
    }

    /**
     * One option per setting of {@link ServeSettings#SETTINGS}, added to serve's command when the
     * command line is built: the flags, their help and defaults come from that one table.
     */
    static void addSettingOptions(CommandSpec serve) {
        for (ServeSettings.Setting k : ServeSettings.SETTINGS) {
            OptionSpec.Builder b = OptionSpec.builder(k.flag()).description(k.help()
                    + (k.defaultValue().isEmpty() ? "" : " (default " + k.defaultValue() + ")"));
            if (k.kind() == ServeSettings.Kind.FLAG) {
                b.arity("0").type(Boolean.class);
            } else {
                b.paramLabel("VALUE").type(String.class);
            }
            serve.addOption(b.build());
        }
    }

    ServerConfig settings() {
        ServeSettings s = ServeSettings.defaults();
        if (config != null) {
            s.file(config);
        }
        for (ServeSettings.Setting k : ServeSettings.SETTINGS) {
            Object given = spec.findOption(k.flag()).getValue();
            if (given != null) {
                s.set(k.key(), given);
            }
        }
        return s.build(System.getenv());
    }

    @Override
    public Integer call() throws InterruptedException {
        ServerConfig cfg = settings();
        MonitorService service;
        try {
            service = MonitorService.create(cfg, solver).start();
        } catch (RuntimeException e) {
            throw new UserInputException("cannot start on " + cfg.bind() + ":" + cfg.port() + ": " + e.getMessage());
        }
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            service.close();
            stop.countDown();
        }, "alphawatch-shutdown"));
        var out = spec.commandLine().getOut();
        out.printf("alphawatch serving on %s (window %s %s, token %s, durability %s)%n", service.server().baseUrl(),
                cfg.monitor().window().label(), cfg.monitor().windowSamples() == 0 ? "sized per layer"
                        : cfg.monitor().windowSamples() + " samples",
                cfg.token().isPresent() ? "required for writes" + (cfg.authReads() ? " and reads" : "") : "off",
                cfg.scale().map(k -> "kafka " + k.bootstrap() + " as " + k.role().label() + ", partitions in "
                        + cfg.durability().dir().resolve("partitions")).orElse(cfg.durability().mode().label()
                        + (cfg.durability().mode() == org.alphawatch.durability.Durability.Mode.NONE ? ""
                        : " in " + cfg.durability().dir())));
        out.printf("  POST %s/v1/runs/RUN/layers/LAYER/batches?step=N  (body: 2-D .npy)%n", service.server().baseUrl());
        out.printf("  GET  %s/metrics, /v1/runs, /v1/events%n", service.server().baseUrl());
        out.flush();
        stop.await();
        return ExitCodes.OK;
    }
}
