package org.alphawatch.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.alphawatch.core.analysis.AnalysisOptions;
import org.alphawatch.core.analysis.SpectrumAnalyzer;
import org.alphawatch.core.analysis.SpectrumReport;
import org.alphawatch.core.code.Capacity;
import org.alphawatch.core.code.CodeMetrics;
import org.alphawatch.core.fit.FitWindow;
import org.alphawatch.core.fit.Jackknife;
import org.alphawatch.core.fit.PowerLawFit;
import org.alphawatch.core.spectrum.EigenSolver;
import org.alphawatch.core.spectrum.Spectrum;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.core.stat.CrossCovarianceAccumulator;
import org.alphawatch.core.window.WindowSpec;
import org.alphawatch.core.window.WindowedCovariance;
import org.alphawatch.io.NpyFormatException;
import org.alphawatch.io.NpyReader;
import org.alphawatch.plot.SpectrumPlots;
import org.alphawatch.report.JsonFields;
import org.alphawatch.report.ReportJson;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code alphawatch analyze}: the spectrum, alpha and code metrics of activations stored in .npy files. */
@Command(name = "analyze", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Eigenspectrum, power-law exponent alpha and code metrics of activations in .npy files.",
            "Rows are samples, columns are units; several files are concatenated (same number of columns)."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:report printed", "1:internal failure (e.g. the eigen-solver did not converge)",
            "2:bad input or usage (unreadable/invalid .npy, NaN or Inf in the data, bad option)"})
final class AnalyzeCommand implements Callable<Integer> {
    /** Inputs above this many bytes show progress on stderr. */
    static final long PROGRESS_BYTES = 32L << 20;
    private static final int CHUNK_BYTES = 8 << 20;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "FILE.npy", arity = "0..*", description = "2-D arrays [samples, units]")
    List<Path> files = new ArrayList<>();

    @Option(names = "--fit-range", paramLabel = "LO:HI",
            description = "ranks to fit (1-based, inclusive); default [11, min(500, K-2)], or [2, K-2] when K < 50")
    String fitRange;

    @Option(names = "--repeats", arity = "2", paramLabel = "A.npy B.npy",
            description = "two repeats of the same inputs (row i of A and B share an input): adds cross-validated PCA")
    List<Path> repeats;

    @Option(names = "--input-dim", paramLabel = "d",
            description = "dimension of the input manifold: reports the smoothness margin alpha - (1 + 2/d)")
    int inputDim;

    @Option(names = "--bits", paramLabel = "b", defaultValue = "8",
            description = "bits per activation for the capacity/redundancy bounds (default: ${DEFAULT-VALUE})")
    double bits = Capacity.DEFAULT_BITS;

    @Option(names = "--dropout", paramLabel = "D", description = "dropout probability of the layer: reports (1-D) m b")
    Double dropout;

    @Option(names = "--jackknife", paramLabel = "G", defaultValue = "8",
            description = "groups for the jackknife interval on alpha, rows interleaved in blocks of 256 as in the "
                    + "monitor's cumulative window (0 turns it off; default: ${DEFAULT-VALUE})")
    int jackknife = 8;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0",
            description = "compute only the K largest eigenvalues (randomized subspace iteration, OpenBLAS back-end); "
                    + "for wide layers, K >= 502 covers the default fit window (0: all, the default)")
    int topK;

    @Option(names = "--json", description = "print one JSON object instead of the report")
    boolean json;

    @Option(names = "--plot", paramLabel = "out.svg", description = "write the log-log spectrum with its fit as SVG")
    Path plot;

    private final EigenSolver solver;

    public AnalyzeCommand(EigenSolver solver) {
        this.solver = solver;
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintStream err = System.err;
        FitWindow window = fitRange == null ? null : parseWindow(fitRange);
        if (files.isEmpty() && repeats == null) {
            throw new UserInputException("give at least one FILE.npy (or --repeats A.npy B.npy)");
        }
        if (inputDim < 0) {
            throw new UserInputException("--input-dim " + inputDim + " must be >= 1");
        }
        if (jackknife < 0 || jackknife == 1 || jackknife > WindowSpec.MAX_GROUPS) {
            throw new UserInputException("--jackknife " + jackknife + " must be 0 (off) or 2.." + WindowSpec.MAX_GROUPS);
        }
        AnalysisOptions options;
        try {
            options = new AnalysisOptions(window, inputDim, bits, dropout == null ? Double.NaN : dropout, solver, topK);
        } catch (IllegalArgumentException e) {
            throw new UserInputException(e.getMessage());
        }
        List<Path> inputs = files.isEmpty() ? List.of(repeats.get(0)) : files;
        Shards shards = readSharded(inputs, err);
        if (shards.totalRows < 2) {
            throw new UserInputException("need at least 2 samples (rows), got " + shards.totalRows);
        }
        if (window != null && window.lo() > Math.min(shards.cols, shards.totalRows - 1)) {
            throw new UserInputException("--fit-range " + window + " starts beyond the "
                    + Math.min(shards.cols, shards.totalRows - 1) + " available eigenvalues");
        }
        SpectrumReport report = SpectrumAnalyzer.analyze(shards.accumulators, options);
        if (repeats != null) {
            report = report.withCrossValidated(
                    SpectrumAnalyzer.crossValidated(readRepeats(repeats, err).snapshot(), options));
        }
        if (plot != null) {
            String title = "Spectrum of " + inputs.get(0).getFileName() + (inputs.size() > 1 ? " (+" + (inputs.size() - 1) + ")" : "");
            try {
                Files.writeString(plot, SpectrumPlots.svg(title, report.spectrum().eigenvalues(), report.fit()));
            } catch (IOException e) {
                throw new UserInputException("cannot write --plot " + plot + ": " + e.getMessage());
            }
        }
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            List<String> names = new ArrayList<>();
            for (Path p : inputs) {
                names.add(p.toString());
            }
            doc.put(JsonFields.FILES, names);
            doc.putAll(ReportJson.toMap(report, solver.name()));
            out.println(new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS).writeValueAsString(doc));
        } else {
            out.print(text(inputs, report, shards));
        }
        out.flush();
        return ExitCodes.OK;
    }

    static FitWindow parseWindow(String text) {
        try {
            return FitWindow.parse(text);
        } catch (IllegalArgumentException e) {
            throw new UserInputException("--fit-range: " + e.getMessage());
        }
    }

    /**
     * The files' rows in G groups, row i in group (i / 256) mod G: the monitor's cumulative window,
     * so that analyze and serve give the same interval for the same rows.
     */
    private record Shards(List<CovarianceAccumulator> accumulators, long totalRows, int cols) {}

    private Shards readSharded(List<Path> inputs, PrintStream err) throws IOException {
        List<NpyReader> readers = new ArrayList<>();
        try {
            long totalRows = 0;
            long totalBytes = 0;
            int cols = -1;
            for (Path p : inputs) {
                NpyReader r = open(p);
                readers.add(r);
                if (cols >= 0 && r.cols() != cols) {
                    throw new UserInputException(p + ": " + r.cols() + " columns, but " + inputs.get(0) + " has " + cols
                            + " (all files must have the same units)");
                }
                cols = r.cols();
                totalRows += r.rows();
                totalBytes += r.header().dataBytes();
            }
            int groups = jackknifeGroups(totalRows, cols);
            WindowedCovariance window = WindowedCovariance.create(cols, WindowSpec.cumulative(Math.max(1, groups)));
            int chunkRows = Math.max(1, CHUNK_BYTES / (8 * cols));
            double[] buf = new double[chunkRows * cols];
            long bytesDone = 0;
            for (NpyReader r : readers) {
                Progress progress = new Progress(err, "reading " + r.source(), totalBytes, PROGRESS_BYTES);
                int n;
                while ((n = r.readRows(buf, chunkRows)) > 0) {
                    window.update(buf, 0, n, 0);
                    bytesDone += (long) n * cols * r.header().type().size();
                    progress.update(bytesDone);
                }
            }
            List<CovarianceAccumulator> accs = window.liveGroups(); // nothing writes to the window again
            return new Shards(accs, totalRows, cols);
        } finally {
            for (NpyReader r : readers) {
                r.close();
            }
        }
    }

    /** Fewer groups when the accumulators (and the analysis' one) would not fit in a quarter of the heap. */
    private int jackknifeGroups(long rows, int cols) {
        if (jackknife == 0) {
            return 1;
        }
        long perGroup = CovarianceAccumulator.stateBytes(cols);
        long fit = Runtime.getRuntime().maxMemory() / 4 / perGroup - 1;
        return (int) Math.max(1, Math.min(Math.min(jackknife, fit), rows / 2));
    }

    private CrossCovarianceAccumulator readRepeats(List<Path> pair, PrintStream err) throws IOException {
        try (NpyReader a = open(pair.get(0)); NpyReader b = open(pair.get(1))) {
            if (a.rows() != b.rows() || a.cols() != b.cols()) {
                throw new UserInputException("--repeats: " + pair.get(0) + " is " + a.header().shapeText() + " but "
                        + pair.get(1) + " is " + b.header().shapeText() + " (repeats must have the same shape)");
            }
            int cols = a.cols();
            CrossCovarianceAccumulator acc = CrossCovarianceAccumulator.create(cols);
            int chunkRows = Math.max(1, CHUNK_BYTES / (8 * cols));
            double[] bufA = new double[chunkRows * cols];
            double[] bufB = new double[chunkRows * cols];
            long total = 2L * a.header().dataBytes();
            Progress progress = new Progress(err, "reading repeats", total, PROGRESS_BYTES);
            long done = 0;
            int n;
            while ((n = a.readRows(bufA, chunkRows)) > 0) {
                b.readRows(bufB, n);
                acc.update(bufA, bufB, n);
                done += 2L * n * cols * a.header().type().size();
                progress.update(done);
            }
            return acc;
        }
    }

    private static NpyReader open(Path p) throws IOException {
        if (Files.isDirectory(p)) {
            throw new NpyFormatException(p.toString(), "is a directory");
        }
        return NpyReader.open(p);
    }

    private static String text(List<Path> inputs, SpectrumReport r, Shards shards) {
        Spectrum s = r.spectrum();
        PowerLawFit fit = r.fit();
        CodeMetrics cm = r.metrics();
        StringBuilder sb = new StringBuilder();
        sb.append("alphawatch analyze ");
        for (Path p : inputs) {
            sb.append(p).append(' ');
        }
        sb.append('\n');
        sb.append(f("  samples n = %d, units m = %d, n/m = %.1f, eigenvalues K = %d, numerical rank %d%s%n",
                s.samples(), s.dims(), fit.samplesPerDim(), s.fullSize(), s.numericalRank(),
                s.partial() ? f(" (top %d computed)", s.size()) : ""));
        if (fit.ok()) {
            Jackknife.Interval ci = r.alphaInterval();
            sb.append(f("  alpha = %.4f", fit.alpha()));
            if (ci != null && ci.defined()) {
                sb.append(f("  [95%% CI %.4f, %.4f; jackknife over %d groups]", ci.lo(), ci.hi(), ci.groups()));
            }
            sb.append(f("   r^2 = %.4f   fit window %s%s%n", fit.r2(), fit.window(),
                    fit.window().equals(fit.requested()) ? "" : " (requested " + fit.requested() + ")"));
        } else {
            sb.append(f("  alpha: no fit (window %s has fewer than 3 usable ranks)%n", fit.window()));
        }
        sb.append("  flags: ").append(fit.flags().isEmpty() ? "none" : String.join(", ", ReportJson.flags(fit)))
                .append('\n');
        if (s.clampedNegatives() > 0) {
            sb.append(f("  %d tiny negative eigenvalues (round-off) clamped to 0%n", s.clampedNegatives()));
        }
        sb.append(f("  effective rank %.2f | participation ratio %.2f | stable rank %.2f%n", cm.effectiveRank(),
                cm.participationRatio(), cm.stableRank()));
        sb.append("  explained variance:");
        for (int i = 0; i < cm.explainedVarianceAt().length; i++) {
            sb.append(f(" top %d %.1f%%", cm.explainedVarianceAt()[i], 100 * cm.explainedVariance()[i]));
        }
        sb.append('\n');
        if (r.inputDim() > 0 && fit.ok()) {
            double th = CodeMetrics.smoothnessThreshold(r.inputDim());
            sb.append(f("  smoothness (d = %d): alpha must exceed %.3f; margin %+.3f -> %s%n", r.inputDim(), th,
                    r.smoothnessMargin(), r.smoothnessMargin() > 0 ? "can be smooth" : "cannot be smooth (fractal)"));
        }
        if (fit.ok()) {
            sb.append(f("  capacity (b = %.0f bits/unit, alpha of variances): entropy bound %.0f bits, redundancy %.3f%n",
                    r.bits(), r.entropyBoundBits(), r.redundancy()));
        }
        if (!Double.isNaN(r.dropout())) {
            sb.append(f("  dropout capacity (1-D) m b = %.0f bits at D = %.2f%n", r.dropoutCapacityBits(), r.dropout()));
        }
        if (r.crossValidated() != null) {
            SpectrumReport.CrossValidatedReport cv = r.crossValidated();
            sb.append(f("  cvPCA: alpha = %.4f (r^2 %.4f, window %s); plain PCA of repeat A: %.4f%n",
                    cv.fit().alpha(), cv.fit().r2(), cv.fit().window(), cv.plainFit().alpha()));
        }
        sb.append("  spectrum (log-log; * eigenvalues, . fit, | window):\n");
        sb.append(SpectrumPlots.terminal(s.eigenvalues(), fit, 60, 14));
        return sb.toString();
    }

    private static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
