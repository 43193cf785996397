package org.alphawatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import org.alphawatch.train.DetectorTrial;
import org.alphawatch.train.TrainedTrial;
import org.alphawatch.core.spectrum.EigenSolver;
import org.alphawatch.core.linalg.LinearAlgebra;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.core.spectrum.OpenBlasEigenSolver;
import org.alphawatch.core.spectrum.PartialEigenSolver;
import org.alphawatch.core.stat.CoMomentKernel;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.server.MonitorService;
import org.alphawatch.server.ServerConfig;
import org.alphawatch.train.AutoencoderDemo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code alphawatch bench}: covariance-update throughput and eigen-solver time, next to numpy's
 * {@code X.T @ X} and {@code eigvalsh} measured in the same run when python3 with numpy is present.
 * Times are the best of repeated runs (least disturbed by the other process on a 2-core machine).
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Benchmark the covariance update and the eigen-solver against numpy on this machine.",
            "Ratios are alphawatch time / numpy time (below 1 means alphawatch is faster)."})
public final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--dims", split = ",", paramLabel = "d", defaultValue = "256,1024,2048,4096",
            description = "layer widths (default: ${DEFAULT-VALUE})")
    List<Integer> dims;

    @Option(names = "--rows", split = ",", paramLabel = "b", defaultValue = "64,512",
            description = "rows per batch (default: ${DEFAULT-VALUE})")
    List<Integer> rows;

    @Option(names = "--float32", description = "feed float32 batches (numpy multiplies float32 too)")
    boolean float32;

    @Option(names = "--python", paramLabel = "EXE", defaultValue = "python3",
            description = "python with numpy for the reference timings (default: ${DEFAULT-VALUE}; 'none' skips)")
    String python;

    @Option(names = "--min-seconds", paramLabel = "s", defaultValue = "1.0",
            description = "measure each case for at least this long (default: ${DEFAULT-VALUE})")
    double minSeconds;

    @Option(names = "--partial", paramLabel = "K", defaultValue = "502",
            description = "also time the partial solver for the top K eigenvalues at d > 2K (default ${DEFAULT-VALUE}; 0: off)")
    int partial;

    @Option(names = "--backends", split = ",", paramLabel = "B", defaultValue = "java,openblas",
            description = "back-ends to measure (default: ${DEFAULT-VALUE}; openblas is skipped when it does not load)")
    List<String> backends;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "OpenBLAS threads per call (the server uses 1; default 0: OpenBLAS's own)")
    int threads;

    @Option(names = "--trainer", description = "instead: the built-in trainer's speed with and without the monitor attached")
    boolean trainer;

    @Option(names = "--detector", description = "instead: the alert detector on synthetic codes streamed through the monitor "
            + "(false alarms on stationary streams, delay on real changes) for each --dims (powers of two) and --rows")
    boolean detector;

    @Option(names = "--suite", description = "with --detector: the labelled suite instead: all-MiniLM-L6-v2 reading this "
            + "machine's texts (same-source continuations, prose -> code and other switches), against the Failing Loudly "
            + "baseline; the table of docs/alerting.md (about 30 minutes on 2 cores; --suite-quick: 2 sources, a few minutes)")
    boolean suite;

    @Option(names = "--suite-quick", description = "with --detector: the suite on licenses and Python only")
    boolean suiteQuick;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "2000", description = "trainer steps per measurement (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--analyze", paramLabel = "FILE", description = "instead: `alphawatch analyze FILE` (with its default "
            + "interval) against numpy's plain computation on the same file, both as processes, interleaved --rounds times")
    Path analyzeFile;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "3", description = "rounds of --analyze (default: ${DEFAULT-VALUE})")
    int rounds;

    private final EigenSolver solver;

    public BenchCommand(EigenSolver solver) {
        this.solver = solver;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (trainer) {
            return benchTrainer(out);
        }
        if (detector && (suite || suiteQuick)) {
            return benchSuite(out);
        }
        if (detector) {
            return benchDetector(out);
        }
        if (analyzeFile != null) {
            return benchAnalyze(out);
        }
        if (rows.isEmpty() || rows.stream().anyMatch(r -> r < 1) || dims.isEmpty()
                || dims.stream().anyMatch(d -> d < 2 || d > MonitorConfig.MAX_DIMS_LIMIT)) {
            throw new UserInputException("--rows must be >= 1 and every --dims value within 2.." + MonitorConfig.MAX_DIMS_LIMIT);
        }
        if (threads < 0) {
            throw new UserInputException("--threads must be >= 0, not " + threads);
        }
        if (threads > 0) {
            LinearAlgebra.setNativeThreads(threads);
        }
        List<CoMomentKernel.Kind> kinds = new ArrayList<>();
        for (String b : backends) {
            switch (b) {
                case "java" -> kinds.add(CoMomentKernel.Kind.JAVA);
                case "openblas" -> {
                    if (LinearAlgebra.nativeAvailable()) {
                        kinds.add(CoMomentKernel.Kind.OPENBLAS);
                    } else {
                        out.println("(openblas back-end not available on this machine: skipped)");
                    }
                }
                default -> throw new UserInputException("--backends: '" + b + "' is not java or openblas");
            }
        }
        Map<String, Double> numpy = numpyTimings(out);
        out.printf(Locale.ROOT, "alphawatch bench: JDK %s, %d cores, %s batches; times are the best of repeated runs%n",
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(),
                float32 ? "float32" : "float64");
        out.println("covariance update (one batch, symmetric rank-b update of the upper triangle):");
        out.println("     d     b  back-end  |  s/batch      rows/s  GFLOP/s | numpy X.T@X s  ratio");
        out.flush();
        for (int d : dims) {
            for (int b : rows) {
                Double ref = numpy.get(d + "x" + b);
                for (CoMomentKernel.Kind kind : kinds) {
                    double t = timeUpdate(d, b, kind);
                    out.printf(Locale.ROOT, "%6d %5d  %-8s  | %9.6f %11.0f %8.2f | %13s %6s%n", d, b,
                            kind.name().toLowerCase(Locale.ROOT), t, b / t, (double) b * d * (d + 1) / t / 1e9,
                            fmt(ref == null ? Double.NaN : ref, "%.6f"), fmt(ref == null ? Double.NaN : t / ref, "%.2f"));
                    out.flush();
                }
            }
        }
        out.println("eigenvalues of a d x d covariance (all of them):");
        out.println("     d  solver    |   seconds | numpy eigvalsh s  ratio");
        for (int d : dims) {
            Double ref = numpy.get(d + "eig");
            for (CoMomentKernel.Kind kind : kinds) {
                EigenSolver s = kind == CoMomentKernel.Kind.OPENBLAS ? new OpenBlasEigenSolver() : new EjmlEigenSolver();
                double t = timeEigen(d, s);
                out.printf(Locale.ROOT, "%6d  %-8s  | %9.4f | %16s %6s%n", d, s.name(), t,
                        fmt(ref == null ? Double.NaN : ref, "%.4f"), fmt(ref == null ? Double.NaN : t / ref, "%.2f"));
                out.flush();
            }
            if (partial > 0 && d > 2 * partial && kinds.contains(CoMomentKernel.Kind.OPENBLAS)) {
                PartialEigenSolver ps = PartialEigenSolver.defaults();
                double t = timeEigen(d, new EigenSolver() {
                    @Override
                    public String name() {
                        return "partial";
                    }

                    @Override
                    public boolean eigenvalues(double[] a, int n, double[] values) {
                        return ps.topEigenvalues(a, n, partial, values);
                    }

                    @Override
                    public boolean decompose(double[] a, int n, double[] values, double[] vectors) {
                        throw new UnsupportedOperationException();
                    }
                });
                out.printf(Locale.ROOT, "%6d  top %-4d  | %9.4f | %16s %6s%n", d, partial, t,
                        fmt(ref == null ? Double.NaN : ref, "%.4f"), fmt(ref == null ? Double.NaN : t / ref, "%.2f"));
                out.flush();
            }
        }
        if (numpy.isEmpty()) {
            out.println("(no numpy reference: python3 with numpy was not found or --python none)");
        }
        return ExitCodes.OK;
    }

    /**
     * The demo's default model (one model, one thread) trained for the same steps twice: alone, and
     * with every hidden layer streaming into an in-process monitor as the demo does.
     */
    private int benchTrainer(PrintWriter out) throws Exception {
        if (steps < 100) {
            throw new UserInputException("--steps " + steps + " must be >= 100");
        }
        AutoencoderDemo.Settings s = AutoencoderDemo.Settings.full(1).withSteps(steps).withModels(new double[] {0.2}, 1);
        out.printf(Locale.ROOT, "trainer: autoencoder %s, %s, batch %d, %d steps, dropout 0.2, one thread%n",
                java.util.Arrays.toString(s.sizes()), s.activation().name().toLowerCase(Locale.ROOT), s.batch(), steps);
        out.flush();
        double[] alone = new double[2];
        double[] watched = new double[2];
        for (int rep = 0; rep < 2; rep++) { // alternate to spread machine noise over both
            alone[rep] = new AutoencoderDemo(s, null, solver, null).run(false).get(0).trainSeconds();
            MonitorConfig config = MonitorConfig.defaults()
                    .withRefresh(0, java.time.Duration.ofSeconds(2));
            try (MonitorService service = MonitorService.create(ServerConfig.local(0, config), solver).start()) {
                watched[rep] = new AutoencoderDemo(s, service.monitor(), solver, null).run(false).get(0).trainSeconds();
            }
        }
        double a = Math.min(alone[0], alone[1]);
        double w = Math.min(watched[0], watched[1]);
        double samples = (double) steps * s.batch();
        out.printf(Locale.ROOT, "without monitor: %.1f s, %.0f samples/s%n", a, samples / a);
        out.printf(Locale.ROOT, "with monitor:    %.1f s, %.0f samples/s (every %d steps: 3 layers x %d rows, repeats, "
                + "probes at 4 densities every %d steps)%n", w, samples / w, s.emitEvery(), s.batch(), s.probeEvery());
        out.printf(Locale.ROOT, "monitoring cost on the training loop: %+.1f%%%n", 100 * (w / a - 1));
        return ExitCodes.OK;
    }

    /**
     * The real-stream suite runs in a child JVM with the model and ONNX Runtime (target/transformer-lib),
     * as {@code demo transformer} does; its output is this command's.
     */
    private int benchSuite(PrintWriter out) throws Exception {
        Path jar = Path.of(BenchCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path lib = jar.getParent().resolve("transformer-lib");
        if (!Files.isDirectory(lib)) {
            throw new UserInputException("bench --detector --suite needs the model and ONNX Runtime in " + lib
                    + ": build them with 'mvn -B -DskipTests package'");
        }
        String own = Files.isDirectory(jar) ? System.getProperty("java.class.path") : jar.toString();
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx3g",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp",
                lib + java.io.File.separator + "*" + java.io.File.pathSeparator + own,
                "org.alphawatch.transformer.DetectorSuite"));
        if (suiteQuick) {
            cmd.add("--quick");
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                out.println(line);
                out.flush();
            }
        }
        return p.waitFor() == 0 ? ExitCodes.OK : ExitCodes.FAILURE;
    }

    /** One table row per scenario; the middle batch size also gets the other spectra and the changes. */
    private int benchDetector(PrintWriter out) {
        for (int d : dims) {
            if (d < 16 || Integer.bitCount(d) != 1) {
                throw new UserInputException("--detector needs --dims that are powers of two >= 16, not " + d);
            }
        }
        int middle = rows.get(rows.size() / 2);
        out.println("alert detector, default thresholds and window (16 samples per unit, 8 panes, refresh per pane),");
        out.println("6 windows before the change and 4 after; alpha error: against the population exponent");
        out.println(DetectorTrial.header());
        out.flush();
        long seed = 1;
        for (int d : dims) {
            for (int b : rows) {
                int windows = Math.max(6, 40 * b / (16 * d));
                List<DetectorTrial.Scenario> scenarios = new ArrayList<>();
                scenarios.add(new DetectorTrial.Scenario(d, b, 1.2, DetectorTrial.Change.NONE, 0, windows, 0, seed++));
                if (b == middle) {
                    scenarios.add(new DetectorTrial.Scenario(d, b, 0.8, DetectorTrial.Change.NONE, 0, windows, 0, seed++));
                    scenarios.add(new DetectorTrial.Scenario(d, b, 2.0, DetectorTrial.Change.NONE, 0, windows, 0, seed++));
                    scenarios.add(new DetectorTrial.Scenario(d, b, 1.2, DetectorTrial.Change.ALPHA_STEP, 0.3, windows, 4,
                            seed++));
                    scenarios.add(new DetectorTrial.Scenario(d, b, 1.2, DetectorTrial.Change.ALPHA_STEP, 1.0, windows, 4,
                            seed++));
                    scenarios.add(new DetectorTrial.Scenario(d, b, 1.2, DetectorTrial.Change.HALF_DEAD, 0, windows, 4,
                            seed++));
                }
                for (DetectorTrial.Scenario sc : scenarios) {
                    out.println(DetectorTrial.row(DetectorTrial.run(sc, solver)));
                    out.flush();
                }
            }
        }
        out.println();
        out.println(TrainedTrial.header());
        long trainedSeed = 2540;
        for (TrainedTrial.Event e : TrainedTrial.Event.values()) {
            out.println(TrainedTrial.row(TrainedTrial.run(e, solver, trainedSeed++)));
            out.flush();
        }
        return ExitCodes.OK;
    }

    private static String fmt(double v, String f) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, f, v) : "-";
    }

    private double timeUpdate(int d, int b, CoMomentKernel.Kind kind) {
        Random random = new Random(d);
        CovarianceAccumulator acc = CovarianceAccumulator.create(d, kind);
        double[] xd = new double[b * d];
        float[] xf = new float[b * d];
        for (int i = 0; i < xd.length; i++) {
            xd[i] = random.nextGaussian();
            xf[i] = (float) xd[i];
        }
        Runnable once = float32 ? () -> acc.update(xf, b) : () -> acc.update(xd, b);
        return bestOf(once);
    }

    private double timeEigen(int d, EigenSolver solver) {
        Random random = new Random(d + 1);
        CovarianceAccumulator acc = CovarianceAccumulator.create(d);
        double[] x = new double[2 * d * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextGaussian();
        }
        acc.update(x, 2 * d);
        double[] cov = acc.snapshot().covariance();
        double[] values = new double[d];
        return bestOf(() -> {
            if (!solver.eigenvalues(cov, d, values)) {
                throw new ArithmeticException("eigen-solver did not converge");
            }
        });
    }

    private double bestOf(Runnable task) {
        task.run();
        double best = Double.POSITIVE_INFINITY;
        long start = System.nanoTime();
        int reps = 0;
        while (reps < 3 || (System.nanoTime() - start) / 1e9 < minSeconds) {
            long t0 = System.nanoTime();
            task.run();
            double t = (System.nanoTime() - t0) / 1e9;
            best = Math.min(best, t);
            reps++;
            if (t > 2 * minSeconds) {
                break; // a slow case: one timed run after the warm-up is enough
            }
        }
        return best;
    }

    /**
     * The wall time a user waits for: this JVM's {@code analyze FILE} as a new process, against
     * python's numpy on the same file, interleaved (numpy first in odd rounds); medians and ratio.
     */
    private int benchAnalyze(PrintWriter out) throws IOException, InterruptedException {
        if (!Files.isRegularFile(analyzeFile)) {
            throw new UserInputException("--analyze: " + analyzeFile + " is not a file");
        }
        if (rounds < 1 || "none".equals(python)) {
            throw new UserInputException("--analyze needs --rounds >= 1 and a --python with numpy");
        }
        Path script = Files.createTempFile("alphawatch-analyze", ".py");
        try (InputStream in = BenchCommand.class.getResourceAsStream("analyze_numpy.py")) {
            Files.write(script, in.readAllBytes());
            String java = ProcessHandle.current().info().command().orElse("java");
            List<String> ours = List.of(java, "-Xmx4g", "-cp", System.getProperty("java.class.path"),
                    Main.class.getName(), "analyze", analyzeFile.toString());
            List<String> theirs = List.of(python, script.toString(), analyzeFile.toString());
            double[] a = new double[rounds];
            double[] n = new double[rounds];
            String[] lines = new String[2];
            for (int r = 0; r < rounds; r++) {
                if (r % 2 == 1) {
                    n[r] = timeProcess(theirs, lines, 1);
                }
                a[r] = timeProcess(ours, lines, 0);
                if (r % 2 == 0) {
                    n[r] = timeProcess(theirs, lines, 1);
                }
                out.printf(Locale.ROOT, "round %d: analyze %.2f s, numpy %.2f s%n", r + 1, a[r], n[r]);
                out.flush();
            }
            Arrays.sort(a);
            Arrays.sort(n);
            out.println("  " + lines[0]);
            out.println("  " + lines[1]);
            out.printf(Locale.ROOT, "analyze (JVM start, read, covariance, spectrum, fit, jackknife interval): median %.2f s; "
                    + "numpy (python start, load, covariance, eigvalsh, fit): median %.2f s; ratio %.2f%n",
                    a[rounds / 2], n[rounds / 2], a[rounds / 2] / n[rounds / 2]);
            return ExitCodes.OK;
        } finally {
            Files.deleteIfExists(script);
        }
    }

    /** Wall seconds of a command; its line with "alpha =" goes to {@code lines[slot]}. */
    private static double timeProcess(List<String> cmd, String[] lines, int slot) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int status = p.waitFor();
        double seconds = (System.nanoTime() - start) / 1e9;
        if (status != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (" + status + "):\n" + output);
        }
        for (String line : output.split("\n")) {
            if (line.contains("alpha =")) {
                lines[slot] = line.trim();
            }
        }
        return seconds;
    }

    /** "d x rows" -> X.T@X seconds and "d eig" -> eigvalsh seconds; empty without python/numpy. */
    private Map<String, Double> numpyTimings(PrintWriter out) throws IOException, InterruptedException {
        Map<String, Double> result = new HashMap<>();
        if ("none".equals(python)) {
            return result;
        }
        Path script = Files.createTempFile("alphawatch-bench", ".py");
        try (InputStream in = BenchCommand.class.getResourceAsStream("bench_numpy.py")) {
            Files.write(script, in.readAllBytes());
            List<String> cmd = new ArrayList<>(List.of(python, script.toString(),
                    String.join(",", rows.stream().map(String::valueOf).toList()), float32 ? "float32" : "float64"));
            for (int d : dims) {
                cmd.add(Integer.toString(d));
            }
            out.println("measuring the numpy reference (" + python + ") ...");
            out.flush();
            Process p;
            try {
                p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            } catch (IOException e) {
                return result;
            }
            ObjectMapper json = new ObjectMapper();
            String version = null;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (!line.startsWith("{")) {
                        continue;
                    }
                    JsonNode n = json.readTree(line);
                    version = n.get("numpy").asText();
                    if (n.has("xtx_s")) {
                        result.put(n.get("d").asInt() + "x" + n.get("rows").asInt(), n.get("xtx_s").asDouble());
                    } else {
                        result.put(n.get("d").asInt() + "eig", n.get("eig_s").asDouble());
                    }
                }
            }
            p.waitFor();
            if (version != null) {
                out.println("numpy " + version + " (its BLAS/LAPACK) measured in this run");
            }
            return result;
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
