package org.alphawatch.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.alphawatch.core.analysis.AnalysisOptions;
import org.alphawatch.core.analysis.SpectrumAnalyzer;
import org.alphawatch.core.analysis.SpectrumReport;
import org.alphawatch.core.spectrum.EigenSolver;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.plot.SvgPlot;

/**
 * {@code demo superposition}: Elhage et al.'s toy model over a sparsity sweep. For each sparsity S
 * it reports the features stored per hidden dimension next to the supplement's optimum
 * {@code n/m = 1 / ((1 - S) + h_b(S) / H_elem)} (H_elem = 8 bits), and the alpha of the hidden code.
 */
public final class SuperpositionDemo {
    public static final double BITS_PER_ELEMENT = 8;

    public record Settings(double[] sparsities, int features, int hidden, int steps, int batch, double importanceDecay,
                           int codeSamples, int parallel, long seed) {
        public static Settings quick(long seed) {
            return new Settings(new double[] {0, 0.5, 0.8, 0.9, 0.95, 0.99}, 128, 32, 1500, 256, 0.98, 8192,
                    Runtime.getRuntime().availableProcessors(), seed);
        }

        public static Settings full(long seed) {
            return new Settings(new double[] {0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99}, 256, 64, 6000, 256, 0.99, 16384,
                    Runtime.getRuntime().availableProcessors(), seed);
        }
    }

    public record Result(double sparsity, int features, int hidden, int represented, double optimalFeaturesPerDim,
                         double loss, SpectrumReport code) {
        public double featuresPerDim() {
            return (double) represented / hidden;
        }
    }

    private final Settings settings;
    private final EigenSolver solver;
    private final PrintStream out;

    public SuperpositionDemo(Settings settings, EigenSolver solver, PrintStream out) {
        this.settings = settings;
        this.solver = solver;
        this.out = out;
    }

    public List<Result> run() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, settings.parallel()));
        try {
            List<Future<Result>> futures = new ArrayList<>();
            for (int i = 0; i < settings.sparsities().length; i++) {
                final int index = i;
                futures.add(pool.submit(() -> trainOne(index)));
            }
            List<Result> results = new ArrayList<>();
            for (Future<Result> f : futures) {
                Result r = f.get();
                out.printf(Locale.ROOT, "  S=%.2f  loss %.5f  features per dim %.2f (optimum %.2f)  hidden alpha %.3f%n",
                        r.sparsity(), r.loss(), r.featuresPerDim(), r.optimalFeaturesPerDim(), r.code().alpha());
                out.flush();
                results.add(r);
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    private Result trainOne(int index) {
        double s = settings.sparsities()[index];
        SuperpositionModel model = new SuperpositionModel(settings.features(), settings.hidden(), s,
                settings.importanceDecay(), settings.batch(), settings.seed() + 31L * index);
        double ema = Double.NaN;
        for (int step = 0; step < settings.steps(); step++) {
            double loss = model.trainStep();
            ema = Double.isNaN(ema) ? loss : 0.98 * ema + 0.02 * loss;
        }
        List<CovarianceAccumulator> shards = new ArrayList<>();
        int chunks = Math.max(2, settings.codeSamples() / settings.batch());
        for (int g = 0; g < 10; g++) {
            shards.add(CovarianceAccumulator.create(settings.hidden()));
        }
        for (int c = 0; c < chunks; c++) {
            shards.get(c * 10 / chunks).update(model.hiddenCodes(), settings.batch());
        }
        SpectrumReport code = SpectrumAnalyzer.analyze(shards, AnalysisOptions.defaults(solver));
        return new Result(s, settings.features(), settings.hidden(), model.representedFeatures(),
                1 / SuperpositionModel.optimalDimsPerFeature(s, BITS_PER_ELEMENT), ema, code);
    }

    public static String table(List<Result> results) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-9s %5s %5s %11s %14s %14s %10s %9s%n",
                "sparsity", "n", "m", "represented", "features/dim", "optimum n/m", "alpha(h)", "loss"));
        for (Result r : results) {
            sb.append(String.format(Locale.ROOT, "%-9.2f %5d %5d %11d %14.2f %14.2f %10.3f %9.5f%n", r.sparsity(),
                    r.features(), r.hidden(), r.represented(), r.featuresPerDim(), r.optimalFeaturesPerDim(),
                    r.code().alpha(), r.loss()));
        }
        return sb.toString();
    }

    public static void write(Path dir, List<Result> results, String command, Settings s, double seconds) throws IOException {
        Files.createDirectories(dir);
        double[] sp = results.stream().mapToDouble(Result::sparsity).toArray();
        SvgPlot plot = new SvgPlot("Features stored per hidden dimension vs sparsity", "sparsity S",
                "features per dimension", SvgPlot.Scale.LINEAR, SvgPlot.Scale.LOG)
                .line("measured (||W_i|| > 0.5)", sp, results.stream().mapToDouble(Result::featuresPerDim).toArray(),
                        SvgPlot.PALETTE[0], false)
                .line("supplement optimum 1/((1-S) + h_b(S)/8)", sp,
                        results.stream().mapToDouble(Result::optimalFeaturesPerDim).toArray(), SvgPlot.PALETTE[1], true);
        Files.writeString(dir.resolve("superposition.svg"), plot.render(640, 420));
        SvgPlot alpha = new SvgPlot("alpha of the hidden code vs sparsity", "sparsity S", "alpha",
                SvgPlot.Scale.LINEAR, SvgPlot.Scale.LINEAR)
                .line("alpha(h)", sp, results.stream().mapToDouble(r -> r.code().alpha()).toArray(), SvgPlot.PALETTE[2], false);
        Files.writeString(dir.resolve("superposition-alpha.svg"), alpha.render(640, 420));
        String md = "# alphawatch demo: superposition\n\n"
                + "Produced by `" + command + "` in " + String.format(Locale.ROOT, "%.0f", seconds) + " s.\n\n"
                + String.format(Locale.ROOT, "Toy model of Elhage et al. 2022: n = %d features (zero with probability S, "
                        + "else uniform in [0, 1]), importance %.2f^i, m = %d hidden units, h = W x, x' = ReLU(W^T h + b), "
                        + "importance-weighted MSE, Adam, %d steps of %d. A feature is represented when its column of W has "
                        + "norm > 0.5. The optimum is the supplement's m/n = (1 - S) + h_b(S)/H_elem with H_elem = 8 bits, "
                        + "inverted. alpha(h) is the power-law exponent of the hidden code's spectrum (K = m).%n%n",
                        s.features(), s.importanceDecay(), s.hidden(), s.steps(), s.batch())
                + "```\n" + table(results) + "```\n\n"
                + "![superposition.svg](superposition.svg)\n\n![superposition-alpha.svg](superposition-alpha.svg)\n";
        Files.writeString(dir.resolve("superposition.md"), md);
    }
}
