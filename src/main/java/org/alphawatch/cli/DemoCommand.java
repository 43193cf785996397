package org.alphawatch.cli;

import java.io.File;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.alphawatch.core.spectrum.EigenSolver;
import org.alphawatch.pipeline.LayerSnapshot;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.server.MonitorService;
import org.alphawatch.server.ServerConfig;
import org.alphawatch.train.AutoencoderDemo;
import org.alphawatch.train.ClaimsDemo;
import org.alphawatch.train.DemoAlerts;
import org.alphawatch.train.DemoPlan;
import org.alphawatch.train.DemoReport;
import org.alphawatch.train.SuperpositionDemo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code alphawatch demo}: the built-in training runs streaming into the monitor, ending in a report. */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train networks in-process while the monitor watches their hidden layers; write a report.",
            "autoencoder (default): autoencoders on generated images at dropout 0, 0.2, 0.4, 0.6, 0.8, served live",
            "  (API and /metrics) while they train; ends with a dropout x layer table and DIR/report.md with SVG plots.",
            "superposition: Elhage et al.'s toy model over a sparsity sweep (features per dimension, hidden alpha).",
            "transformer: a real pretrained model (all-MiniLM-L6-v2) reading real text, every layer live; --drift or",
            "  --then FILE...: a second source follows and the detector must flag the change."})
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "MODE", defaultValue = "autoencoder",
            description = "autoencoder (default), superposition or transformer")
    String mode;

    @Option(names = "--quick", description = "a short run: 1,500 steps per model")
    boolean quick;

    @Option(names = "--full", description = "the full sweep: 12,000 steps per model (the default is sized to finish in "
            + "about 3 minutes on this machine)")
    boolean full;

    @Option(names = "--claims", description = "instead of the live run: the tests of the paper's claims 1 and 3 that "
            + "can fail (docs/reproduction.md); writes DIR/claims.md")
    boolean claims;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "alphawatch-report",
            description = "report folder (default: ${DEFAULT-VALUE})")
    Path outDir;

    @Option(names = "--port", paramLabel = "N", defaultValue = "9400",
            description = "port for the live API and /metrics (default ${DEFAULT-VALUE}; a free one if busy; -1: do not serve)")
    int port;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "random seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--steps", paramLabel = "N", description = "training steps per model (overrides the preset)")
    Integer steps;

    @Option(names = "--activation", paramLabel = "F", defaultValue = "tanh",
            description = "hidden non-linearity of the autoencoders: tanh (default) or relu")
    String activation;

    @Option(names = "--attach", paramLabel = "URL",
            description = "send the activations to a running alphawatch at URL over HTTP instead of an in-process monitor "
                    + "(token from $ALPHAWATCH_TOKEN)")
    String attach;

    @Option(names = "--stay", description = "keep serving after the report until Ctrl-C")
    boolean stay;

    @Option(names = "--event", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "script a change for the detector to catch: at 60%% of the steps half of h1's units in the "
                    + "dropout-0.2 model go dead (default on; --no-event trains without it)")
    boolean event;

    @Option(names = "--text", arity = "1..*", paramLabel = "FILE",
            description = "transformer: UTF-8 text files to read (default: /usr/share/common-licenses)")
    List<Path> text;

    @Option(names = "--then", arity = "1..*", paramLabel = "FILE",
            description = "transformer: a second text source read after the first (a drift run)")
    List<Path> then;

    @Option(names = "--drift", description = "transformer: the second source is the Python standard library's code")
    boolean drift;

    @Option(names = "--max-tokens", paramLabel = "N", description = "transformer: at most N tokens per source")
    Long maxTokens;

    /**
     * The monitor refreshes each layer every 1024 samples (half of h1's window, all of h2's) rather
     * than every few seconds, so what the detector sees, step by step, does not depend on the machine.
     */
    static final int REFRESH_SAMPLES = 1024;

    private final EigenSolver solver;

    public DemoCommand(EigenSolver solver) {
        this.solver = solver;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter w = spec.commandLine().getOut();
        PrintStream out = new PrintStream(new WriterOutputStream(w), true);
        String command = "./alphawatch demo" + (mode.equals("autoencoder") ? "" : " " + mode) + (quick ? " --quick" : "")
                + (full ? " --full" : "") + (claims ? " --claims" : "")
                + (steps != null ? " --steps " + steps : "") + (seed != 1 ? " --seed " + seed : "")
                + ("tanh".equals(activation) ? "" : " --activation " + activation) + (event ? "" : " --no-event");
        if (steps != null && steps < 10) {
            throw new UserInputException("--steps " + steps + " must be >= 10");
        }
        if (quick && full) {
            throw new UserInputException("--quick and --full exclude each other");
        }
        long start = System.nanoTime();
        switch (mode) {
            case "superposition" -> {
                SuperpositionDemo.Settings s = quick ? SuperpositionDemo.Settings.quick(seed)
                        : SuperpositionDemo.Settings.full(seed);
                if (steps != null) {
                    s = new SuperpositionDemo.Settings(s.sparsities(), s.features(), s.hidden(), steps, s.batch(),
                            s.importanceDecay(), s.codeSamples(), s.parallel(), seed);
                }
                out.printf(Locale.ROOT, "alphawatch demo superposition: %d features into %d hidden units, sparsity %s%n",
                        s.features(), s.hidden(), Arrays.toString(s.sparsities()));
                List<SuperpositionDemo.Result> results = new SuperpositionDemo(s, solver, out).run();
                double seconds = (System.nanoTime() - start) / 1e9;
                SuperpositionDemo.write(out(), results, command, s, seconds);
                out.println();
                out.print(SuperpositionDemo.table(results));
                out.printf(Locale.ROOT, "%nreport: %s (%.0f s)%n", out().resolve("superposition.md"), seconds);
                return ExitCodes.OK;
            }
            case "autoencoder" -> {
                return claims ? claims(out, command) : autoencoder(out, command, start);
            }
            case "transformer" -> {
                return transformer();
            }
            default -> throw new UserInputException("demo mode '" + mode + "' is not autoencoder, superposition or transformer");
        }
    }

    private Path out() {
        return outDir;
    }

    /**
     * The transformer demo runs in a child JVM with the model and ONNX Runtime (target/transformer-lib,
     * ~200 MB, built by mvn package) on its class path: they never enter the main jar.
     */
    private int transformer() throws Exception {
        Path jar = Path.of(DemoCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path lib = jar.getParent().resolve("transformer-lib");
        if (!Files.isDirectory(lib)) {
            throw new UserInputException("demo transformer needs the model and ONNX Runtime in " + lib + ": build them with "
                    + "'mvn -B -DskipTests package' (downloads ~200 MB from Maven Central once; nothing at run time)");
        }
        // From the jar: the jar; from a build's classes (tests): this JVM's own class path.
        String own = Files.isDirectory(jar) ? System.getProperty("java.class.path") : jar.toString();
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx2g", "-cp",
                lib + File.separator + "*" + File.pathSeparator + own, "org.alphawatch.transformer.TransformerDemo",
                "--out", outDir.toString(), "--port", Integer.toString(port)));
        if (text != null) {
            cmd.add("--text");
            text.forEach(p -> cmd.add(p.toString()));
        }
        if (then != null) {
            cmd.add("--then");
            then.forEach(p -> cmd.add(p.toString()));
        }
        if (drift) {
            cmd.add("--drift");
        }
        if (maxTokens != null) {
            cmd.addAll(List.of("--max-tokens", maxTokens.toString()));
        }
        if (stay) {
            cmd.add("--stay");
        }
        return new ProcessBuilder(cmd).inheritIO().start().waitFor();
    }

    private int autoencoder(PrintStream out, String command, long start) throws Exception {
        AutoencoderDemo.Settings s = quick ? AutoencoderDemo.Settings.quick(seed) : AutoencoderDemo.Settings.full(seed);
        switch (activation) {
            case "tanh" -> s = s.withActivation(org.alphawatch.train.Activation.TANH);
            case "relu" -> s = s.withActivation(org.alphawatch.train.Activation.RELU);
            default -> throw new UserInputException("--activation '" + activation + "' is not tanh or relu");
        }
        if (attach != null && !attach.startsWith("http://") && !attach.startsWith("https://")) {
            throw new UserInputException("--attach '" + attach + "' is not an http(s) URL");
        }
        out.printf(Locale.ROOT, "alphawatch demo: %d %s autoencoders %s on generated 16x16 images, dropout %s, batches "
                + "of %d%n", s.dropouts().length, s.activation().name().toLowerCase(Locale.ROOT), Arrays.toString(s.sizes()),
                Arrays.toString(s.dropouts()), s.batch());
        out.flush();
        long calibrationStart = System.nanoTime();
        double rate = DemoPlan.calibrate(s);
        double calibrationSeconds = (System.nanoTime() - calibrationStart) / 1e9;
        boolean sized = steps == null && !quick && !full;
        DemoPlan plan = sized ? DemoPlan.sized(s, DemoPlan.BUDGET_SECONDS, rate)
                : DemoPlan.fixed(s, steps != null ? steps : s.steps(), rate);
        s = s.withSteps(plan.steps());
        if (!event) {
            s = s.withEvent(null);
        }
        out.printf(Locale.ROOT, "this machine: %.0f training steps/s on %d cores (a %.1f s calibration) -> %,d steps per model; "
                + "expected duration %s%n", rate, Runtime.getRuntime().availableProcessors(), calibrationSeconds,
                plan.steps(), DemoPlan.duration(plan.expectedSeconds()));
        if (sized) {
            out.printf(Locale.ROOT, "(sized to about %s here; --full trains %,d steps, about %s; --steps %d repeats this run)%n",
                    DemoPlan.duration(DemoPlan.BUDGET_SECONDS), DemoPlan.MAX_STEPS,
                    DemoPlan.duration(DemoPlan.expectedSeconds(s, DemoPlan.MAX_STEPS, rate)), plan.steps());
        }
        String stepsText = String.format(Locale.ROOT, "%d steps of %d images per model%s", s.steps(), s.batch(),
                sized ? " (sized to this machine by a calibration; --steps " + s.steps() + " repeats them)" : "");
        if (attach != null) {
            return attached(s, out, command, stepsText, start);
        }
        MonitorConfig monitorConfig = MonitorConfig.defaults().withRefresh(REFRESH_SAMPLES, Duration.ZERO);
        MonitorService service = startService(monitorConfig, out);
        try {
            String url = port >= 0 ? service.server().baseUrl() : null;
            if (url != null) {
                out.printf("live: %s/v1/runs  %s/metrics  %s/v1/events%n", url, url, url);
            }
            out.println("progress: step, loss and each hidden layer's latest alpha (h1/h2/h3) as the monitor sees it");
            AutoencoderDemo demo = new AutoencoderDemo(s, service.monitor(), solver, out);
            List<AutoencoderDemo.ModelResult> results = demo.run();
            service.monitor().awaitIdle(Duration.ofSeconds(60));
            service.monitor().refreshAll();
            service.monitor().awaitIdle(Duration.ofSeconds(60));
            double seconds = (System.nanoTime() - start) / 1e9;
            String settingsText = String.format(Locale.ROOT, "seed %d, %s, dropout %s, monitor: sliding windows of 16 "
                    + "samples per unit in 8 panes, mature from 10 samples per unit, refresh every %d samples, default "
                    + "detector; final measurement on %d held-out images", seed, stepsText, Arrays.toString(s.dropouts()),
                    REFRESH_SAMPLES, s.evalSamples());
            DemoAlerts alerts = DemoAlerts.classify(s, service.alerts().recent(), results,
                    key -> service.monitor().snapshot(key).map(LayerSnapshot::report).orElse(null));
            DemoReport.write(outDir, results, demo, command, settingsText, seconds, url, alerts.markdown(s));
            out.println();
            out.print(alerts.markdown(s));
            out.println();
            out.print(DemoReport.summaryTable(results));
            out.println();
            out.print(DemoReport.trends(results));
            out.printf(Locale.ROOT, "%nreport: %s (%.0f s; expected %s)%n", outDir.resolve("report.md"), seconds,
                    DemoPlan.duration(plan.expectedSeconds()));
            if (stay && url != null) {
                out.println("serving until Ctrl-C ...");
                new CountDownLatch(1).await();
            }
            return ExitCodes.OK;
        } finally {
            service.close();
        }
    }

    private int claims(PrintStream out, String command) throws Exception {
        if (quick || full || attach != null || !event || !"tanh".equals(activation)) {
            throw new UserInputException("--claims runs its own fixed design: only --steps, --seed and --out apply");
        }
        ClaimsDemo.Settings s = ClaimsDemo.Settings.defaults(seed);
        if (steps != null) {
            s = s.withSteps(steps);
        }
        out.printf(Locale.ROOT, "alphawatch demo --claims: %d autoencoders (%d dropout rates x %d seeds, %,d steps each), "
                + "then the probe through them, through untrained networks and through known codes; the longest demo "
                + "(32 min measured on 2 cores shared with other builds, docs/reproduction.md)%n", s.models(),
                s.dropouts().length, s.seeds().length, s.steps());
        ClaimsDemo.Result r = new ClaimsDemo(s, solver, out).run();
        ClaimsDemo.write(outDir, r, command);
        out.println();
        out.print(ClaimsDemo.claim1Table(r));
        out.println();
        out.print(ClaimsDemo.claim3Table(r));
        out.println();
        out.print(ClaimsDemo.verdicts(r));
        out.printf(Locale.ROOT, "%nreport: %s (%.0f s)%n", outDir.resolve("claims.md"), r.seconds());
        return ExitCodes.OK;
    }

    /** The trainer alone, streaming to a remote monitor (the docker-compose demo trainer). */
    private int attached(AutoencoderDemo.Settings s, PrintStream out, String command, String stepsText, long start)
            throws Exception {
        out.printf("streaming to %s%n", attach);
        var sink = new org.alphawatch.attach.HttpActivationSink(attach, System.getenv("ALPHAWATCH_TOKEN"));
        AutoencoderDemo demo = new AutoencoderDemo(s, null, sink, solver, out);
        List<AutoencoderDemo.ModelResult> results = demo.run();
        double seconds = (System.nanoTime() - start) / 1e9;
        DemoReport.write(outDir, results, demo, command + " --attach " + attach, "seed " + seed + ", " + stepsText
                + ", streamed to " + attach, seconds, attach,
                "The monitor at " + attach + " ran the detector; its alerts are at " + attach + "/v1/alerts.\n");
        out.println();
        out.print(DemoReport.summaryTable(results));
        out.printf(Locale.ROOT, "%nreport: %s (%.0f s); the monitor at %s keeps the runs%n", outDir.resolve("report.md"),
                seconds, attach);
        return ExitCodes.OK;
    }

    private MonitorService startService(MonitorConfig config, PrintStream out) {
        if (port < 0) {
            // Not served: the monitor still runs; the HTTP server binds an ephemeral loopback port only.
            return MonitorService.create(ServerConfig.local(0, config), solver).start();
        }
        try {
            return MonitorService.create(new ServerConfig(ServerConfig.DEFAULT_BIND, port, Optional.empty(), false, config),
                    solver).start();
        } catch (RuntimeException busy) {
            out.printf("port %d is busy (%s); using a free port%n", port, busy.getMessage());
            return MonitorService.create(ServerConfig.local(0, config), solver).start();
        }
    }

    /** Adapts the command's PrintWriter (testable) to the PrintStream the trainers print to. */
    private static final class WriterOutputStream extends java.io.OutputStream {
        private final PrintWriter writer;

        WriterOutputStream(PrintWriter writer) {
            this.writer = writer;
        }

        @Override
        public void write(int b) {
            writer.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            writer.write(new String(b, off, len, java.nio.charset.StandardCharsets.UTF_8));
        }

        @Override
        public void flush() {
            writer.flush();
        }
    }
}
