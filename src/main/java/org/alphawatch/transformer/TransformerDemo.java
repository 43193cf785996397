package org.alphawatch.transformer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.alphawatch.alert.Alert;
import org.alphawatch.alert.AlertConfig;
import org.alphawatch.alert.AlertEngine;
import org.alphawatch.alert.AlertService;
import org.alphawatch.pipeline.Monitor;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import org.alphawatch.attach.LayerStream;
import org.alphawatch.core.spectrum.EigenSolvers;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.pipeline.HistoryPoint;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.pipeline.LayerSnapshot;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.plot.SvgPlot;
import org.alphawatch.server.MonitorService;
import org.alphawatch.server.ServerConfig;

/**
 * {@code alphawatch demo transformer}: a real pretrained transformer (all-MiniLM-L6-v2) reads real
 * text; its residual stream after the embeddings and after each of its 6 layers (tokens as
 * samples, 384 units) streams live into a monitor through {@link LayerStream}, and a report is
 * written. With {@code --then}, a second text source follows the first (prose, then code): the
 * drift run, where the monitor's detector must flag the change in the layers' code.
 */
public final class TransformerDemo {
    public static final String RUN = "minilm";
    /** Sequences per forward pass. */
    static final int BATCH = 16;
    /** Word pieces per sequence, [CLS] and [SEP] aside. */
    static final int CHUNK_TOKENS = 126;

    /** @param then the second text source (drift run), or empty */
    public record Settings(List<Path> text, List<Path> then, Path out, int port, long maxTokens, boolean stay) {}

    /** What one run measured. */
    public record Result(List<String> layers, List<LayerSnapshot> snapshots, long tokens, long switchStep,
                         long switchTokens, List<Alert> alerts, double seconds) {}

    private final Settings settings;
    private final PrintStream out;

    public TransformerDemo(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    public static void main(String[] args) throws Exception {
        List<Path> text = new ArrayList<>();
        List<Path> then = new ArrayList<>();
        Path outDir = Path.of("alphawatch-report");
        int port = 9400;
        long maxTokens = 0;
        boolean stay = false;
        List<Path> current = text;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--text" -> current = text;
                case "--then" -> current = then;
                case "--out" -> outDir = Path.of(args[++i]);
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--max-tokens" -> maxTokens = Long.parseLong(args[++i]);
                case "--stay" -> stay = true;
                case "--drift" -> then.addAll(defaultCode());
                default -> {
                    if (args[i].startsWith("--")) {
                        System.err.println("alphawatch demo transformer: unknown option " + args[i]);
                        System.exit(2);
                    }
                    current.add(Path.of(args[i]));
                }
            }
        }
        if (text.isEmpty()) {
            text.addAll(defaultProse());
        }
        for (Path p : concat(text, then)) {
            if (!Files.isReadable(p)) {
                System.err.println("alphawatch demo transformer: cannot read " + p);
                System.exit(2);
            }
        }
        new TransformerDemo(new Settings(text, then, outDir, port, maxTokens, stay), System.out).run();
    }

    private static List<Path> concat(List<Path> a, List<Path> b) {
        List<Path> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** English prose every Debian machine has: the license texts. */
    public static List<Path> defaultProse() throws IOException {
        return regularFiles(Path.of("/usr/share/common-licenses"), "");
    }

    /** Code every Debian machine has: the Python standard library's top-level modules. */
    public static List<Path> defaultCode() throws IOException {
        try (Stream<Path> dirs = Files.list(Path.of("/usr/lib"))) {
            Path py = dirs.filter(d -> d.getFileName().toString().matches("python3\\.\\d+")).sorted().findFirst()
                    .orElseThrow(() -> new IOException("no /usr/lib/python3.N for the default code source"));
            return regularFiles(py, ".py");
        }
    }

    private static List<Path> regularFiles(Path dir, String suffix) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> p.toString().endsWith(suffix)).sorted().toList();
        }
    }

    /** The text of the files in chunks of at most {@link #CHUNK_TOKENS} word pieces, paragraph by paragraph. */
    static List<String> chunks(MiniLm model, List<Path> files, long maxTokens) throws IOException {
        List<String> texts = new ArrayList<>();
        for (Path f : files) {
            texts.add(read(f));
        }
        return chunksOfTexts(model, texts, maxTokens);
    }

    /** A file as UTF-8 text (malformed bytes replaced). */
    static String read(Path f) throws IOException {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE)
                .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(f))).toString();
    }

    /** As {@link #chunks} for texts already read. */
    static List<String> chunksOfTexts(MiniLm model, List<String> texts, long maxTokens) {
        List<String> out = new ArrayList<>();
        long tokens = 0;
        for (String text : texts) {
            for (String paragraph : text.split("\\n\\s*\\n")) {
                StringBuilder piece = new StringBuilder();
                int pieceTokens = 0;
                for (String word : paragraph.trim().split("\\s+")) {
                    if (word.isEmpty()) {
                        continue;
                    }
                    int n = model.countTokens(word);
                    if (pieceTokens + n > CHUNK_TOKENS && pieceTokens > 0) {
                        out.add(piece.toString());
                        tokens += pieceTokens;
                        piece.setLength(0);
                        pieceTokens = 0;
                    }
                    if (n > CHUNK_TOKENS) {
                        continue; // a "word" longer than a chunk (a base64 blob): not language
                    }
                    piece.append(piece.length() == 0 ? "" : " ").append(word);
                    pieceTokens += n;
                }
                if (pieceTokens > 0) {
                    out.add(piece.toString());
                    tokens += pieceTokens;
                }
                if (maxTokens > 0 && tokens >= maxTokens) {
                    return out;
                }
            }
        }
        return out;
    }

    public Result run() throws Exception {
        long start = System.nanoTime();
        List<String> names = MiniLm.layerNames();
        boolean drift = !settings.then().isEmpty();
        // Whole-text statistics with an interval; for the drift run a sliding window (16 per unit, the
        // default) that the detector compares with the previous disjoint one.
        // The drift run refreshes by samples (four times per window), not by the clock: every window
        // then has a disjoint predecessor ending where it starts, whatever the machine's speed.
        long window = (long) MonitorConfig.AUTO_WINDOW_PER_UNIT * MiniLm.HIDDEN;
        MonitorConfig config = drift
                ? MonitorConfig.defaults().withWindow(WindowMode.SLIDING, window).withRefresh(window / 4, Duration.ZERO)
                : MonitorConfig.defaults().withWindow(WindowMode.CUMULATIVE, 0).withRefresh(0, Duration.ofSeconds(2));
        try (MiniLm model = new MiniLm();
             Backend service = Backend.start(settings.port(), config);
             LayerStream stream = LayerStream.inProcess(service.monitor(), RUN)) {
            List<String> first = chunks(model, settings.text(), settings.maxTokens());
            // The second source is cut to the first one's length unless --max-tokens says otherwise.
            long firstTokens = first.stream().mapToLong(model::countTokens).sum();
            List<String> second = drift ? chunks(model, settings.then(), settings.maxTokens() > 0 ? settings.maxTokens()
                    : firstTokens) : List.of();
            out.printf(Locale.ROOT, "alphawatch demo transformer: all-MiniLM-L6-v2 (6 layers, 384 units) on %d + %d "
                    + "text chunks; %s (run %s)%n", first.size(), second.size(), service.url() == null ? "not served"
                    : "live at " + service.url() + "/", RUN);
            long step = 0;
            long tokens = 0;
            long switchStep = -1;
            long switchTokens = -1;
            List<List<String>> sources = drift ? List.of(first, second) : List.of(first);
            for (int s = 0; s < sources.size(); s++) {
                if (s == 1) {
                    switchStep = step;
                    switchTokens = tokens;
                    out.printf(Locale.ROOT, "-- switching to the second text source at step %d (%d tokens)%n", step, tokens);
                }
                List<String> chunks = sources.get(s);
                for (int i = 0; i < chunks.size(); i += BATCH) {
                    MiniLm.Pass pass = model.forward(chunks.subList(i, Math.min(chunks.size(), i + BATCH)));
                    for (int l = 0; l < names.size(); l++) {
                        stream.send(names.get(l), step, pass.layers().get(l), pass.tokens(), MiniLm.HIDDEN);
                    }
                    tokens += pass.tokens();
                    step++;
                    if (step % 20 == 0) {
                        progress(stream, names, step, tokens, start);
                    }
                }
            }
            service.monitor().awaitIdle(Duration.ofMinutes(5));
            service.monitor().refreshAll();
            service.monitor().awaitIdle(Duration.ofMinutes(5));
            List<LayerSnapshot> snaps = new ArrayList<>();
            for (String name : names) {
                snaps.add(service.monitor().snapshot(new LayerKey(RUN, name)).orElseThrow());
            }
            List<Alert> alerts = service.alerts().recent().stream().filter(a -> a.run().equals(RUN)).toList();
            Result result = new Result(names, snaps, tokens, switchStep, switchTokens, alerts,
                    (System.nanoTime() - start) / 1e9);
            List<List<HistoryPoint>> history = new ArrayList<>();
            for (String name : names) {
                history.add(service.monitor().history(new LayerKey(RUN, name)).orElse(List.of()));
            }
            report(result, history);
            if (settings.stay() && service.url() != null) {
                out.println("serving until Ctrl-C");
                Thread.currentThread().join();
            }
            return result;
        }
    }

    /**
     * The monitor and its detector, served over HTTP ({@link MonitorService}) or, for port -1, in
     * process only: the same monitor and alert service without a server.
     */
    private static final class Backend implements AutoCloseable {
        private final MonitorService service;
        private final Monitor monitor;
        private final AlertService alerts;
        private final List<Scheduler> schedulers;

        private Backend(MonitorService service, Monitor monitor, AlertService alerts, List<Scheduler> schedulers) {
            this.service = service;
            this.monitor = monitor;
            this.alerts = alerts;
            this.schedulers = schedulers;
        }

        static Backend start(int port, MonitorConfig config) {
            if (port >= 0) {
                MonitorService s = MonitorService.create(ServerConfig.local(port, config), EigenSolvers.selected()).start();
                return new Backend(s, s.monitor(), s.alerts(), List.of());
            }
            int cores = Runtime.getRuntime().availableProcessors();
            Scheduler ingest = Schedulers.newParallel("alphawatch-ingest", cores, true);
            Scheduler compute = Schedulers.newParallel("alphawatch-compute", cores, true);
            Scheduler timer = Schedulers.newSingle("alphawatch-timer", true);
            AlertService alerts = AlertService.standalone(new AlertEngine(AlertConfig.defaults(), 0));
            Monitor monitor = new Monitor(config, EigenSolvers.selected(), alerts, ingest, compute, timer);
            alerts.attach(monitor, timer, Duration.ofSeconds(10));
            return new Backend(null, monitor, alerts, List.of(ingest, compute, timer));
        }

        Monitor monitor() {
            return monitor;
        }

        AlertService alerts() {
            return alerts;
        }

        /** The base URL, or null when not served. */
        String url() {
            return service == null ? null : service.server().baseUrl();
        }

        @Override
        public void close() {
            if (service != null) {
                service.close();
                return;
            }
            alerts.close();
            monitor.close();
            schedulers.forEach(Scheduler::dispose);
        }
    }

    private void progress(LayerStream stream, List<String> names, long step, long tokens, long start) {
        StringBuilder sb = new StringBuilder();
        for (String n : names) {
            var a = stream.alpha(n);
            sb.append(String.format(Locale.ROOT, " %s", a.isPresent() ? String.format(Locale.ROOT, "%.2f", a.getAsDouble()) : "-"));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        out.printf(Locale.ROOT, "step %5d  %7d tokens  %5.0f tokens/s  alpha by depth:%s%n", step, tokens, tokens / seconds,
                sb);
    }

    private void report(Result r, List<List<HistoryPoint>> history) throws IOException {
        Files.createDirectories(settings.out());
        SvgPlot spectra = new SvgPlot("all-MiniLM-L6-v2: eigenspectrum of each layer (tokens as samples)", "rank",
                "normalized eigenvalue", SvgPlot.Scale.LOG, SvgPlot.Scale.LOG);
        SvgPlot depth = new SvgPlot("alpha by depth (95% jackknife interval)", "depth (0 = embeddings)", "alpha",
                SvgPlot.Scale.LINEAR, SvgPlot.Scale.LINEAR);
        double[] d = new double[r.layers().size()];
        double[] alpha = new double[d.length];
        double[] lo = new double[d.length];
        double[] hi = new double[d.length];
        StringBuilder md = new StringBuilder();
        md.append("# demo transformer: the layers of a real pretrained model\n\n");
        md.append(String.format(Locale.ROOT, "all-MiniLM-L6-v2 (sentence-transformers; a 6-layer BERT, hidden 384) in ONNX "
                + "Runtime, its residual stream exposed after the embeddings and after each layer; %d tokens as samples "
                + "([CLS], [SEP] and padding excluded); %.0f s.%n%n", r.tokens(), r.seconds()));
        md.append(r.switchStep() >= 0 ? "Per layer, the last sliding window (the second source's text):\n\n"
                : "Per layer, all the tokens (cumulative window):\n\n");
        md.append("| layer | alpha | 95% interval | r^2 | fit ranks | numerical rank | effective rank | participation ratio | flags |\n");
        md.append("|---|---|---|---|---|---|---|---|---|\n");
        for (int l = 0; l < d.length; l++) {
            LayerSnapshot s = r.snapshots().get(l);
            var rep = s.report();
            d[l] = l;
            alpha[l] = rep.alpha();
            lo[l] = rep.alphaInterval() == null ? Double.NaN : rep.alphaInterval().lo();
            hi[l] = rep.alphaInterval() == null ? Double.NaN : rep.alphaInterval().hi();
            // Up to the numerical rank: the LayerNorm null direction (~1e-16) would squash the rest.
            double[] values = java.util.Arrays.copyOf(rep.spectrum().normalized(), rep.spectrum().numericalRank());
            double[] ranks = new double[values.length];
            for (int i = 0; i < ranks.length; i++) {
                ranks[i] = i + 1;
            }
            spectra.line(r.layers().get(l), ranks, values, SvgPlot.PALETTE[l % SvgPlot.PALETTE.length], false);
            md.append(String.format(Locale.ROOT, "| %s | %.3f | [%.3f, %.3f] | %.3f | %d-%d | %d | %.1f | %.1f | %s |%n",
                    r.layers().get(l), alpha[l], lo[l], hi[l], rep.fit().r2(), rep.fit().window().lo(),
                    rep.fit().window().hi(), rep.spectrum().numericalRank(), rep.metrics().effectiveRank(),
                    rep.metrics().participationRatio(), rep.fit().flags().toString().toLowerCase(Locale.ROOT)));
        }
        depth.band(d, lo, hi, SvgPlot.PALETTE[0]).line("alpha (band: 95% interval)", d, alpha, SvgPlot.PALETTE[0], false);
        Files.writeString(settings.out().resolve("transformer-spectra.svg"), spectra.render(760, 520));
        Files.writeString(settings.out().resolve("transformer-alpha-depth.svg"), depth.render(760, 420));
        md.append("\n![spectra](transformer-spectra.svg)\n\n![alpha by depth](transformer-alpha-depth.svg)\n\n");
        md.append(depthReading(r.layers(), alpha, lo, hi));
        if (r.switchStep() >= 0) {
            md.append(driftReport(r, history));
        }
        Path file = settings.out().resolve("transformer.md");
        Files.writeString(file, md.toString());
        out.print(md);
        out.printf(Locale.ROOT, "%nreport: %s%n", file);
    }

    /** The measured trend, said plainly next to the paper's claim that alpha changes with depth. */
    static String depthReading(List<String> layers, double[] alpha, double[] lo, double[] hi) {
        int up = 0;
        int down = 0;
        for (int l = 1; l < alpha.length; l++) {
            if (lo[l] > hi[l - 1]) {
                up++;
            } else if (hi[l] < lo[l - 1]) {
                down++;
            }
        }
        int max = 0;
        int min = 0;
        for (int l = 1; l < alpha.length; l++) {
            max = alpha[l] > alpha[max] ? l : max;
            min = alpha[l] < alpha[min] ? l : min;
        }
        return String.format(Locale.ROOT, "**Depth.** Marshall & Kirchner read alpha changing with depth. Here, "
                + "between consecutive layers alpha rises beyond both intervals %d times and falls %d times (of %d "
                + "steps); it is largest at %s (%.2f) and smallest at %s (%.2f). The intervals are jackknife "
                + "intervals over groups of these tokens: they say how much alpha would move with other text of "
                + "this kind, not that a different corpus would give the same values. Every layer's covariance "
                + "has one null direction (LayerNorm removes the mean over units, so rows lie in a 383-dimensional "
                + "plane): the numerical rank is at most 383 and the fit ends before it.%n%n", up, down,
                alpha.length - 1, layers.get(max), alpha[max], layers.get(min), alpha[min]);
    }

    private String driftReport(Result r, List<List<HistoryPoint>> history) throws IOException {
        StringBuilder md = new StringBuilder("## Drift: the second text source\n\n");
        md.append(String.format(Locale.ROOT, "The second source started at step %d (after %d tokens); a step is one "
                + "forward pass of %d sequences (~%.0f tokens).%n%n", r.switchStep(), r.switchTokens(), BATCH,
                (double) r.tokens() / Math.max(1, r.snapshots().get(0).step() + 1)));
        List<Alert> before = r.alerts().stream().filter(a -> a.step() < r.switchStep()).toList();
        List<Alert> after = r.alerts().stream().filter(a -> a.step() >= r.switchStep())
                .sorted((a, b) -> Long.compare(a.step(), b.step())).toList();
        md.append(String.format(Locale.ROOT, "- false alarms before the switch: **%d**%n", before.size()));
        for (Alert a : before) {
            md.append(String.format(Locale.ROOT, "  - `%s` on %s at step %d: %s%n", a.kind().label(), a.layer(),
                    a.step(), a.message()));
        }
        if (after.isEmpty()) {
            md.append("- the change was **not caught**\n");
        } else {
            Alert first = after.get(0);
            md.append(String.format(Locale.ROOT, "- **caught** by `%s` on %s at step %d, %d steps after the switch%n",
                    first.kind().label(), first.layer(), first.step(), first.step() - r.switchStep()));
            md.append("- what moved, per alert (value in the newest window vs the reference window, noise sd of the "
                    + "difference, evidence relative to the threshold):\n");
            for (Alert a : after) {
                md.append(String.format(Locale.ROOT, "  - step %d, `%s`%s%n", a.step(), a.kind().label(),
                        a.evidence().isEmpty() ? ": " + a.message() : ":"));
                for (Alert.Evidence e : a.evidence()) {
                    md.append(String.format(Locale.ROOT, "    - %s: %s %.3f -> %.3f, noise %.3f (%.1f sd), evidence "
                                    + "%.1fx%n", e.layer(), e.statistic(), e.baseline(), e.value(), e.noise(), e.sigmas(),
                            e.evidence()));
                }
            }
            md.append("- alerts after the switch, by layer: ");
            List<String> parts = new ArrayList<>();
            for (String layer : r.layers()) {
                long n = after.stream().filter(a -> a.layer().equals(layer)).count();
                long firstStep = after.stream().filter(a -> a.layer().equals(layer)).mapToLong(Alert::step).min().orElse(-1);
                parts.add(layer + " " + n + (firstStep >= 0 ? " (first at step " + firstStep + ")" : ""));
            }
            md.append(String.join(", ", parts)).append("\n");
        }
        SvgPlot plot = new SvgPlot("alpha of each layer over the run (sliding window)", "step", "alpha",
                SvgPlot.Scale.LINEAR, SvgPlot.Scale.LINEAR);
        for (int l = 0; l < r.layers().size(); l++) {
            List<HistoryPoint> h = history.get(l);
            double[] x = h.stream().mapToDouble(HistoryPoint::step).toArray();
            double[] y = h.stream().mapToDouble(HistoryPoint::alpha).toArray();
            plot.line(r.layers().get(l), x, y, SvgPlot.PALETTE[l % SvgPlot.PALETTE.length], false);
        }
        plot.shadeX(r.switchStep(), r.snapshots().get(0).step(), "second source");
        // Each kind's first alert as a dashed vertical line across the layers' alpha range.
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (List<HistoryPoint> h : history) {
            for (HistoryPoint p : h) {
                if (Double.isFinite(p.alpha())) {
                    lo = Math.min(lo, p.alpha());
                    hi = Math.max(hi, p.alpha());
                }
            }
        }
        java.util.Set<String> marked = new java.util.HashSet<>();
        int color = r.layers().size();
        for (Alert a : r.alerts()) {
            if (a.step() >= 0 && Double.isFinite(lo) && marked.add(a.kind().label())) {
                plot.line("alert: " + a.kind().label(), new double[] {a.step(), a.step()}, new double[] {lo, hi},
                        SvgPlot.PALETTE[color++ % SvgPlot.PALETTE.length], true);
            }
        }
        Files.writeString(settings.out().resolve("transformer-drift.svg"), plot.render(760, 420));
        md.append("\n![alpha over the run](transformer-drift.svg)\n");
        return md.toString();
    }
}
