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
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import org.alphawatch.core.spectrum.EigenSolver;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.pipeline.WindowMode;
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

    @Option(names = "--dims", split = ",", paramLabel = "d", defaultValue = "256,1024,2048",
            description = "layer widths (default: ${DEFAULT-VALUE})")
    List<Integer> dims;

    @Option(names = "--rows", paramLabel = "b", defaultValue = "512", description = "rows per batch (default: ${DEFAULT-VALUE})")
    int rows;

    @Option(names = "--float32", description = "feed float32 batches (numpy multiplies float32 too)")
    boolean float32;

    @Option(names = "--python", paramLabel = "EXE", defaultValue = "python3",
            description = "python with numpy for the reference timings (default: ${DEFAULT-VALUE}; 'none' skips)")
    String python;

    @Option(names = "--min-seconds", paramLabel = "s", defaultValue = "1.0",
            description = "measure each case for at least this long (default: ${DEFAULT-VALUE})")
    double minSeconds;

    @Option(names = "--trainer", description = "instead: the built-in trainer's speed with and without the monitor attached")
    boolean trainer;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "2000", description = "trainer steps per measurement (default: ${DEFAULT-VALUE})")
    int steps;

    private final EigenSolver solver;

    public BenchCommand(EigenSolver solver) {
        this.solver = solver;
    }

    /** One measured case. */
    public record Row(int d, int rows, double updateSeconds, double eigenSeconds, double numpyXtxSeconds,
                      double numpyEigSeconds) {
        double rowsPerSecond() {
            return rows / updateSeconds;
        }

        /** Useful flops of a symmetric update: b * d(d+1)/2 multiply-adds. */
        double gflops() {
            return (double) rows * d * (d + 1) / updateSeconds / 1e9;
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (trainer) {
            return benchTrainer(out);
        }
        if (rows < 1 || dims.isEmpty() || dims.stream().anyMatch(d -> d < 2 || d > 16_384)) {
            throw new UserInputException("--rows must be >= 1 and every --dims value within 2..16384");
        }
        Map<Integer, double[]> numpy = numpyTimings(out);
        out.printf(Locale.ROOT, "alphawatch bench: JDK %s, %d cores, eigen-solver %s, %s batches of %d rows%n",
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), solver.name(),
                float32 ? "float32" : "float64", rows);
        out.println("     d |  update s/batch     rows/s  GFLOP/s | numpy X.T@X s  ratio |   eigen s  numpy eigvalsh s  ratio");
        out.flush();
        for (int d : dims) {
            double[] ref = numpy.getOrDefault(d, new double[] {Double.NaN, Double.NaN});
            Row r = new Row(d, rows, timeUpdate(d), timeEigen(d), ref[0], ref[1]);
            out.printf(Locale.ROOT, "%6d | %15.6f %10.0f %8.2f | %13s %6s | %9.4f %17s %6s%n", d, r.updateSeconds(),
                    r.rowsPerSecond(), r.gflops(), fmt(r.numpyXtxSeconds(), "%.6f"),
                    fmt(r.updateSeconds() / r.numpyXtxSeconds(), "%.2f"), r.eigenSeconds(),
                    fmt(r.numpyEigSeconds(), "%.4f"), fmt(r.eigenSeconds() / r.numpyEigSeconds(), "%.2f"));
            out.flush();
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
            MonitorConfig config = MonitorConfig.defaults().withWindow(WindowMode.TUMBLING, 2048)
                    .withRefresh(0, java.time.Duration.ofSeconds(2)).withCiGroups(4);
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

    private static String fmt(double v, String f) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, f, v) : "-";
    }

    private double timeUpdate(int d) {
        Random random = new Random(d);
        CovarianceAccumulator acc = CovarianceAccumulator.create(d);
        double[] xd = new double[rows * d];
        float[] xf = new float[rows * d];
        for (int i = 0; i < xd.length; i++) {
            xd[i] = random.nextGaussian();
            xf[i] = (float) xd[i];
        }
        Runnable once = float32 ? () -> acc.update(xf, rows) : () -> acc.update(xd, rows);
        return bestOf(once);
    }

    private double timeEigen(int d) {
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
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            reps++;
        }
        return best;
    }

    /** d -> {X.T@X seconds, eigvalsh seconds}; empty when python or numpy is missing. */
    private Map<Integer, double[]> numpyTimings(PrintWriter out) throws IOException, InterruptedException {
        Map<Integer, double[]> result = new HashMap<>();
        if ("none".equals(python)) {
            return result;
        }
        Path script = Files.createTempFile("alphawatch-bench", ".py");
        try (InputStream in = BenchCommand.class.getResourceAsStream("bench_numpy.py")) {
            Files.write(script, in.readAllBytes());
            List<String> cmd = new ArrayList<>(List.of(python, script.toString(), Integer.toString(rows),
                    float32 ? "float32" : "float64"));
            for (int d : dims) {
                cmd.add(Integer.toString(d));
            }
            out.println("measuring numpy reference (" + python + ") ...");
            out.flush();
            Process p;
            try {
                p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            } catch (IOException e) {
                return result;
            }
            ObjectMapper json = new ObjectMapper();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (!line.startsWith("{")) {
                        continue;
                    }
                    JsonNode n = json.readTree(line);
                    result.put(n.get("d").asInt(), new double[] {n.get("xtx_s").asDouble(), n.get("eig_s").asDouble()});
                    if (result.size() == 1) {
                        out.println("numpy " + n.get("numpy").asText() + " reference measured");
                    }
                }
            }
            p.waitFor();
            return result;
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
