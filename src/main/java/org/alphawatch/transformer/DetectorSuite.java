package org.alphawatch.transformer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.alphawatch.alert.Alert;
import org.alphawatch.alert.AlertConfig;
import org.alphawatch.alert.AlertEngine;
import org.alphawatch.alert.AlertService;
import org.alphawatch.core.analysis.ChangeStatistics;
import org.alphawatch.core.spectrum.EigenSolvers;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.io.NpyArray;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.pipeline.LayerSnapshot;
import org.alphawatch.pipeline.Monitor;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.pipeline.MonitorObserver;
import reactor.core.scheduler.Schedulers;

/**
 * The detector's labelled suite on real streams ({@code bench --detector --suite}): all-MiniLM-L6-v2
 * reads text sources of this machine; every layer's tokens stream through a real {@link Monitor}
 * (the demo's window: 16 tokens per unit = 6,144 tokens, 8 panes, a refresh every quarter window)
 * into the {@link AlertEngine} with its defaults. Each stream is 3 windows of one source, then 2.5
 * windows of another (a change) or of the same source's continuation (split in two: no change).
 * Sources are made stationary as in issue 25: files in a seeded random order, sequences (126 word
 * pieces) shuffled; a source's two halves are then draws from the same documents.
 * Reported per stream: false alarms (alerts from windows that end before the switch), the delay of
 * the first alert after it in tokens and windows, what raised it; and the baseline of Rabanser et
 * al. 2019 ("Failing Loudly") on the same windows' rows: a Kolmogorov-Smirnov test per principal
 * component (the reference window's top 8, per layer) with a Bonferroni correction over components
 * and layers, at its nominal 5% and at the level that gives it no false alarm on this suite.
 *
 * <p>Activations are computed once per source and cached in a temporary folder (deleted at the end).
 */
public final class DetectorSuite {
    static final int WINDOW = MonitorConfig.AUTO_WINDOW_PER_UNIT * MiniLm.HIDDEN;
    static final long BEFORE = 3L * WINDOW;
    static final long AFTER = 5L * WINDOW / 2;
    /** Refreshes per window: every half window keeps the suite within half an hour on 2 cores. */
    static final int REFRESHES_PER_WINDOW = 2;
    static final int PCS = ChangeStatistics.MAX_VECTORS;
    static final double NOMINAL = 0.05;
    /** Row label of the subspace statistic in the noise-honesty table. */
    private static final String SUBSPACE_LABEL = "subspace";

    /** A text source: its files, how to read them, and whether tuning ever looked at it. */
    record Source(String name, String kind, boolean heldOut, List<Path> files, Reader reader) {}

    enum Reader { PLAIN, TROFF, SHUFFLED_WORDS }

    /** One source's activations on disk: per layer, float32 rows; the forward passes' token ends. */
    record Cached(Source source, long tokens, Path[] layers, long[] passEnds) {}

    record StreamSpec(String label, String group, Cached a, long aFrom, long aTo, Cached b, long bFrom, long bTo) {
        long changeAt() {
            return group.equals("same source") ? -1 : aTo - aFrom;
        }
    }

    /** A baseline test: the window end it covers and its Bonferroni-corrected p-value. */
    record BaselineTest(long windowEnd, double p) {}

    record Outcome(StreamSpec spec, long tokens, int falseAlarms, String falseAlarmKinds, long delay, String caughtBy,
                   List<BaselineTest> baseline, Map<String, List<Double>> zScores, double detectorMillis,
                   double refreshMillis, List<String> messages) {}

    private final PrintStream out;
    private final boolean quick;

    public DetectorSuite(PrintStream out, boolean quick) {
        this.out = out;
        this.quick = quick;
    }

    public static void main(String[] args) throws Exception {
        boolean quick = false;
        Path file = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--out" -> file = Path.of(args[++i]);
                default -> {
                    System.err.println("alphawatch bench --detector --suite: unknown option " + args[i]);
                    System.exit(2);
                }
            }
        }
        String table = new DetectorSuite(System.out, quick).run();
        if (file != null) {
            Files.writeString(file, table);
            System.out.println("table: " + file);
        }
    }

    /** The sources: tuned on licenses, man pages, C headers, Python and shuffled words; docs and Perl held out. */
    static List<Source> sources(boolean quick) throws IOException {
        List<Source> all = new ArrayList<>();
        List<Path> licenses = files(Path.of("/usr/share/common-licenses"), "", 1, 1000);
        all.add(new Source("licenses", "prose", false, licenses, Reader.PLAIN));
        if (!quick) {
            all.add(new Source("man pages", "prose", false, files(Path.of("/usr/share/man/man1"), ".gz", 1, 400),
                    Reader.TROFF));
            all.add(new Source("shuffled words", "tokens", false, licenses, Reader.SHUFFLED_WORDS));
            all.add(new Source("package docs", "prose", true, docs(), Reader.PLAIN));
            all.add(new Source("C headers", "code", false, files(Path.of("/usr/include"), ".h", 1, 1000), Reader.PLAIN));
        }
        all.add(new Source("Python", "code", false, TransformerDemo.defaultCode(), Reader.PLAIN));
        if (!quick) {
            all.add(new Source("Perl", "code", true, files(Path.of("/usr/share/perl5"), ".pm", 4, 1000), Reader.PLAIN));
        }
        return all;
    }

    private static List<Path> files(Path dir, String suffix, int depth, int limit) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir, depth)) {
            return s.filter(Files::isRegularFile).filter(p -> p.toString().endsWith(suffix)).sorted().limit(limit)
                    .toList();
        }
    }

    /** Uncompressed READMEs and text files of /usr/share/doc. */
    private static List<Path> docs() throws IOException {
        try (Stream<Path> s = Files.walk(Path.of("/usr/share/doc"), 3)) {
            return s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString();
                return (n.startsWith("README") || n.endsWith(".txt") || n.endsWith(".md")) && !n.endsWith(".gz");
            }).sorted().toList();
        }
    }

    static List<String> texts(Source s) throws IOException {
        List<String> out = new ArrayList<>();
        for (Path f : s.files()) {
            String text = f.toString().endsWith(".gz") ? gunzip(f) : TransformerDemo.read(f);
            out.add(s.reader() == Reader.TROFF ? troff(text) : text);
        }
        if (s.reader() == Reader.SHUFFLED_WORDS) {
            List<String> words = new ArrayList<>();
            for (String t : out) {
                words.addAll(Arrays.asList(t.trim().split("\\s+")));
            }
            Collections.shuffle(words, new Random(25));
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < words.size(); i++) {
                sb.append(words.get(i)).append(i % 80 == 79 ? "\n\n" : " ");
            }
            return List.of(sb.toString());
        }
        return out;
    }

    private static String gunzip(Path f) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(f))) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            in.transferTo(b);
            return b.toString(StandardCharsets.UTF_8);
        }
    }

    /** Man page source to its words: requests and comments dropped, font escapes removed. */
    static String troff(String text) {
        StringBuilder sb = new StringBuilder();
        for (String line : text.split("\n")) {
            if (line.startsWith(".") || line.startsWith("'") || line.startsWith("\\\"")) {
                if (line.startsWith(".SH") || line.startsWith(".PP") || line.startsWith(".P") || line.startsWith(".TP")) {
                    sb.append("\n\n");
                }
                continue;
            }
            sb.append(line.replaceAll("\\\\f[BIRP]", "").replaceAll("\\\\f\\(..", "").replace("\\-", "-")
                    .replace("\\(em", "-").replace("\\e", "\\").replace("\\&", "")).append('\n');
        }
        return sb.toString();
    }

    public String run() throws Exception {
        long start = System.nanoTime();
        Path dir = Files.createTempDirectory("alphawatch-suite");
        try (MiniLm model = new MiniLm()) {
            List<Source> sources = sources(quick);
            long before = BEFORE;
            long after = AFTER;
            Map<String, Cached> cached = new LinkedHashMap<>();
            for (Source s : sources) {
                Cached c = cache(model, s, before + after, dir);
                cached.put(s.name(), c);
                out.printf(Locale.ROOT, "cached %-15s %7d tokens (%d files)  [%.0f s]%n", s.name(), c.tokens(),
                        s.files().size(), (System.nanoTime() - start) / 1e9);
            }
            List<StreamSpec> specs = new ArrayList<>();
            for (Cached c : cached.values()) {
                long a = Math.min(before, c.tokens() * before / (before + after));
                specs.add(new StreamSpec(c.source().name() + " -> its continuation", "same source", c, 0, a, c, a,
                        c.tokens()));
            }
            for (Cached p : cached.values()) {
                for (Cached q : cached.values()) {
                    boolean proseToCode = p.source().kind().equals("prose") && q.source().kind().equals("code");
                    boolean wordsToCode = p.source().kind().equals("tokens") && q.source().name().equals("C headers");
                    boolean codeToProse = p.source().name().equals("Python") && q.source().name().equals("licenses");
                    if (proseToCode || wordsToCode || codeToProse) {
                        specs.add(new StreamSpec(p.source().name() + " -> " + q.source().name(),
                                proseToCode ? "prose -> code" : "other change", p, 0, Math.min(before, p.tokens()), q, 0,
                                Math.min(after, q.tokens())));
                    }
                }
            }
            List<Outcome> outcomes = new ArrayList<>();
            for (StreamSpec spec : specs) {
                Outcome o = stream(spec);
                outcomes.add(o);
                for (String m : o.messages()) {
                    out.println("    " + m);
                }
                out.printf(Locale.ROOT, "%-34s false alarms %d%s  %s  [%.0f s]%n", spec.label(), o.falseAlarms(),
                        o.falseAlarms() > 0 ? " (" + o.falseAlarmKinds() + ")" : "", spec.changeAt() < 0 ? ""
                                : o.delay() < 0 ? "MISSED" : String.format(Locale.ROOT, "caught after %d tokens by %s",
                                o.delay(), o.caughtBy()), (System.nanoTime() - start) / 1e9);
            }
            String table = table(outcomes, (System.nanoTime() - start) / 1e9);
            out.println();
            out.print(table);
            return table;
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Collections.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Runs the model over a source until {@code tokens} tokens (or its end) and writes each layer's rows. */
    static Cached cache(MiniLm model, Source s, long tokens, Path dir) throws Exception {
        // A stationary source, as in the issue: files in a seeded random order, then its sequences
        // shuffled (three times the tokens needed, so both halves draw from the same documents).
        List<String> texts = new ArrayList<>(texts(s));
        Collections.shuffle(texts, new Random(2500 + s.name().hashCode()));
        List<String> chunks = new ArrayList<>(TransformerDemo.chunksOfTexts(model, texts, 3 * tokens));
        Collections.shuffle(chunks, new Random(2501 + s.name().hashCode()));
        int layers = MiniLm.layerNames().size();
        Path[] files = new Path[layers];
        RandomAccessFile[] raf = new RandomAccessFile[layers];
        for (int l = 0; l < layers; l++) {
            files[l] = dir.resolve(s.name().replace(' ', '_') + "-" + l + ".f32");
            raf[l] = new RandomAccessFile(files[l].toFile(), "rw");
        }
        List<Long> ends = new ArrayList<>();
        long total = 0;
        try {
            for (int i = 0; i < chunks.size() && total < tokens; i += TransformerDemo.BATCH) {
                MiniLm.Pass pass = model.forward(chunks.subList(i, Math.min(chunks.size(), i + TransformerDemo.BATCH)));
                for (int l = 0; l < layers; l++) {
                    float[] rows = pass.layers().get(l);
                    ByteBuffer b = ByteBuffer.allocate(rows.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                    b.asFloatBuffer().put(rows);
                    raf[l].write(b.array());
                }
                total += pass.tokens();
                ends.add(total);
            }
        } finally {
            for (RandomAccessFile r : raf) {
                r.close();
            }
        }
        return new Cached(s, total, files, ends.stream().mapToLong(Long::longValue).toArray());
    }

    static float[] rows(Cached c, int layer, long from, long to) throws IOException {
        int d = MiniLm.HIDDEN;
        byte[] bytes = new byte[(int) ((to - from) * d * 4)];
        try (RandomAccessFile r = new RandomAccessFile(c.layers()[layer].toFile(), "r")) {
            r.seek(from * d * 4);
            r.readFully(bytes);
        }
        float[] f = new float[(int) ((to - from) * d)];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    /** The batches a sender would send: the source's forward passes cut to [from, to). */
    private static List<long[]> batches(Cached c, long from, long to) {
        List<long[]> out = new ArrayList<>();
        long prev = 0;
        for (long end : c.passEnds()) {
            long a = Math.max(prev, from);
            long b = Math.min(end, to);
            if (b > a) {
                out.add(new long[] {a, b});
            }
            prev = end;
        }
        return out;
    }

    Outcome stream(StreamSpec spec) throws Exception {
        List<String> names = MiniLm.layerNames();
        MonitorConfig config = MonitorConfig.defaults().withWindow(WindowMode.SLIDING, WINDOW)
                .withRefresh(WINDOW / REFRESHES_PER_WINDOW, Duration.ZERO);
        AlertEngine engine = new AlertEngine(AlertConfig.defaults(), 0);
        List<Alert> alerts = new ArrayList<>();
        List<Long> alertEnds = new ArrayList<>();
        Map<String, TreeMap<Long, LayerSnapshot>> snaps = new HashMap<>();
        double[] detectorNanos = new double[1];
        double[] refreshSeconds = new double[1];
        int[] refreshes = new int[1];
        long changeAt = spec.changeAt();
        try (Monitor monitor = new Monitor(config, EigenSolvers.selected(), MonitorObserver.NONE, Schedulers.immediate(),
                Schedulers.immediate(), Schedulers.immediate(), 1)) {
            monitor.snapshots().subscribe(snap -> {
                snaps.computeIfAbsent(snap.key().layer(), k -> new TreeMap<>()).put(snap.windowEnd(), snap);
                refreshSeconds[0] += snap.refreshSeconds();
                refreshes[0]++;
                long t0 = System.nanoTime();
                List<Alert> got = engine.onSnapshot(snap.key(), AlertService.observation(snap));
                detectorNanos[0] += System.nanoTime() - t0;
                for (Alert a : got) {
                    alerts.add(a);
                    alertEnds.add(snap.windowEnd());
                }
            });
            long step = 0;
            List<long[]> parts = new ArrayList<>();
            List<Cached> owners = new ArrayList<>();
            for (long[] b : batches(spec.a(), spec.aFrom(), spec.aTo())) {
                parts.add(b);
                owners.add(spec.a());
            }
            for (long[] b : batches(spec.b(), spec.bFrom(), spec.bTo())) {
                parts.add(b);
                owners.add(spec.b());
            }
            for (int i = 0; i < parts.size(); i++) {
                long[] b = parts.get(i);
                int n = (int) (b[1] - b[0]);
                for (int l = 0; l < names.size(); l++) {
                    float[] rows = rows(owners.get(i), l, b[0], b[1]);
                    if (!monitor.ingest().offer(ActivationBatch.train(new LayerKey("suite", names.get(l)), step,
                            NpyArray.ofFloats(rows, n, MiniLm.HIDDEN))).ok()) {
                        throw new IllegalStateException("the monitor refused a batch");
                    }
                }
                step++;
            }
        }
        long tokens = (spec.aTo() - spec.aFrom()) + (spec.bTo() - spec.bFrom());
        long limit = changeAt < 0 ? Long.MAX_VALUE : changeAt;
        int falseAlarms = 0;
        List<String> faKinds = new ArrayList<>();
        long delay = -1;
        String caughtBy = "-";
        for (int i = 0; i < alerts.size(); i++) {
            Alert a = alerts.get(i);
            if (alertEnds.get(i) <= limit) {
                falseAlarms++;
                faKinds.add(a.kind().label() + " " + a.layer() + " at " + alertEnds.get(i));
            } else if (delay < 0) {
                delay = alertEnds.get(i) - changeAt;
                caughtBy = a.kind().label() + " (" + (a.evidence().isEmpty() ? a.layer()
                        : a.evidence().stream().map(Alert.Evidence::layer).reduce((x, y) -> x + ", " + y).orElse(""))
                        + ")";
            }
        }
        List<BaselineTest> baseline = baseline(spec, snaps);
        return new Outcome(spec, tokens, falseAlarms, String.join("; ", faKinds), delay, caughtBy, baseline,
                zScores(snaps), detectorNanos[0] / 1e6 / Math.max(1, refreshes[0]),
                refreshSeconds[0] * 1000 / Math.max(1, refreshes[0]),
                alerts.stream().map(a -> a.kind().label() + " at " + alertEnds.get(alerts.indexOf(a)) + ": "
                        + a.message()).toList());
    }

    /** Token t of the stream: which cached source and which of its rows. */
    private static float[] streamRows(StreamSpec spec, int layer, long from, long to) throws IOException {
        long aLen = spec.aTo() - spec.aFrom();
        float[] out = new float[(int) ((to - from) * MiniLm.HIDDEN)];
        int at = 0;
        if (from < aLen) {
            float[] a = rows(spec.a(), layer, spec.aFrom() + from, spec.aFrom() + Math.min(to, aLen));
            System.arraycopy(a, 0, out, 0, a.length);
            at = a.length;
        }
        if (to > aLen) {
            float[] b = rows(spec.b(), layer, spec.bFrom() + Math.max(0, from - aLen), spec.bFrom() + to - aLen);
            System.arraycopy(b, 0, out, at, b.length);
        }
        return out;
    }

    /**
     * KS per principal component of the reference window (its top 8, from the monitor's snapshot of
     * exactly that window), per layer; Bonferroni over components and layers; one test per window end.
     */
    private static List<BaselineTest> baseline(StreamSpec spec, Map<String, TreeMap<Long, LayerSnapshot>> snaps)
            throws IOException {
        List<String> names = MiniLm.layerNames();
        TreeMap<Long, Double> minP = new TreeMap<>();
        TreeMap<Long, Integer> tests = new TreeMap<>();
        for (int l = 0; l < names.size(); l++) {
            TreeMap<Long, LayerSnapshot> byEnd = snaps.getOrDefault(names.get(l), new TreeMap<>());
            for (LayerSnapshot o : byEnd.values()) {
                Map.Entry<Long, LayerSnapshot> re = byEnd.floorEntry(o.windowFirst());
                LayerSnapshot r = re == null ? null : re.getValue();
                if (r == null || r.report().change() == null) {
                    continue;
                }
                ChangeStatistics basis = r.report().change();
                float[] ref = streamRows(spec, l, r.windowFirst(), r.windowEnd());
                float[] cur = streamRows(spec, l, o.windowFirst(), o.windowEnd());
                double p = 1;
                for (int c = 0; c < basis.vectorCount(); c++) {
                    p = Math.min(p, ks(project(ref, basis, c), project(cur, basis, c)));
                }
                minP.merge(o.windowEnd(), p, Math::min);
                tests.merge(o.windowEnd(), basis.vectorCount(), Integer::sum);
            }
        }
        List<BaselineTest> out = new ArrayList<>();
        for (Map.Entry<Long, Double> e : minP.entrySet()) {
            out.add(new BaselineTest(e.getKey(), Math.min(1, e.getValue() * tests.get(e.getKey()))));
        }
        return out;
    }

    private static double[] project(float[] rows, ChangeStatistics basis, int c) {
        int d = basis.dims();
        int n = rows.length / d;
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                s += rows[i * d + j] * basis.vector(c, j);
            }
            out[i] = s;
        }
        return out;
    }

    /** Two-sample Kolmogorov-Smirnov p-value (asymptotic distribution, as scipy's for large samples). */
    static double ks(double[] a, double[] b) {
        double[] x = a.clone();
        double[] y = b.clone();
        Arrays.sort(x);
        Arrays.sort(y);
        int i = 0;
        int j = 0;
        double dmax = 0;
        while (i < x.length && j < y.length) {
            double v = Math.min(x[i], y[j]);
            while (i < x.length && x[i] <= v) {
                i++;
            }
            while (j < y.length && y[j] <= v) {
                j++;
            }
            dmax = Math.max(dmax, Math.abs((double) i / x.length - (double) j / y.length));
        }
        double en = Math.sqrt((double) x.length * y.length / (x.length + y.length));
        return kolmogorovQ((en + 0.12 + 0.11 / en) * dmax);
    }

    /** {@code Q(lambda) = 2 sum_k (-1)^(k-1) exp(-2 k^2 lambda^2)}, 1 for small lambda. */
    static double kolmogorovQ(double lambda) {
        if (lambda < 0.2) {
            return 1;
        }
        double sum = 0;
        for (int k = 1; k <= 100; k++) {
            double term = Math.exp(-2.0 * k * k * lambda * lambda);
            sum += (k % 2 == 1 ? 1 : -1) * term;
            if (term < 1e-16) {
                break;
            }
        }
        return Math.max(0, Math.min(1, 2 * sum));
    }

    /**
     * Honesty of the noise: per statistic, the difference between disjoint windows divided by the
     * jackknife noise of that difference (alone: no pooling, no floor), over every disjoint pair.
     */
    private static Map<String, List<Double>> zScores(Map<String, TreeMap<Long, LayerSnapshot>> snaps) {
        Map<String, List<Double>> z = new LinkedHashMap<>();
        for (String s : List.of("alpha", "curvature", "participation", SUBSPACE_LABEL)) {
            z.put(s, new ArrayList<>());
        }
        for (TreeMap<Long, LayerSnapshot> byEnd : snaps.values()) {
            for (LayerSnapshot o : byEnd.values()) {
                Map.Entry<Long, LayerSnapshot> re = byEnd.floorEntry(o.windowFirst());
                LayerSnapshot r = re == null ? null : re.getValue();
                if (r == null || o.report().change() == null || r.report().change() == null) {
                    continue;
                }
                ChangeStatistics a = o.report().change();
                ChangeStatistics b = r.report().change();
                for (ChangeStatistics.Scalar sc : ChangeStatistics.Scalar.values()) {
                    double se = Math.hypot(a.standardError(sc), b.standardError(sc));
                    double v = (a.value(sc) - b.value(sc)) / se;
                    if (Double.isFinite(v)) {
                        z.get(sc.label()).add(v);
                    }
                }
                double sd = Math.sqrt(2) * (a.subspaceNoiseSpread() + b.subspaceNoiseSpread());
                double v = (a.subspaceDistance(b) - a.subspaceNoise() - b.subspaceNoise()) / sd;
                if (Double.isFinite(v)) {
                    z.get(SUBSPACE_LABEL).add(v);
                }
            }
        }
        return z;
    }

    private static double rms(List<Double> v) {
        double s = 0;
        for (double x : v) {
            s += x * x;
        }
        return v.isEmpty() ? Double.NaN : Math.sqrt(s / v.size());
    }

    String table(List<Outcome> outcomes, double seconds) {
        // The baseline's level with no false alarm on this suite: below every p-value of a test whose window ends before the change.
        double calibrated = 1;
        for (Outcome o : outcomes) {
            long limit = o.spec().changeAt() < 0 ? Long.MAX_VALUE : o.spec().changeAt();
            for (BaselineTest t : o.baseline()) {
                if (t.windowEnd() <= limit) {
                    calibrated = Math.min(calibrated, t.p());
                }
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "all-MiniLM-L6-v2, 7 layers x 384 units; window %d tokens (16 per unit, 8 "
                + "panes), a refresh every %d tokens; streams of %d windows, then %.1f of the next source (or the "
                + "continuation); sources stationary (files and sequences shuffled, seeded); detector defaults. Baseline: KS per principal component (top %d of the reference "
                + "window, per layer), Bonferroni over components and layers, on the same windows' rows; at 5%% and at "
                + "p < %.2g, its largest level with no false alarm on this suite. Held-out sources (*) were never used "
                + "to tune. %.0f s.%n%n", WINDOW, WINDOW / REFRESHES_PER_WINDOW, 3, AFTER / (double) WINDOW, PCS, calibrated,
                seconds));
        sb.append("| stream | kind | tokens | detector: false alarms | detector: caught after (tokens, windows) | by | "
                + "baseline 5%: false alarms | baseline 5%: caught after | baseline, no false alarm: caught after |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|\n");
        for (Outcome o : outcomes) {
            StreamSpec s = o.spec();
            long change = s.changeAt();
            long limit = change < 0 ? Long.MAX_VALUE : change;
            int baseFa = 0;
            long baseDelay = -1;
            long calDelay = -1;
            for (BaselineTest t : o.baseline()) {
                if (t.windowEnd() <= limit) {
                    baseFa += t.p() < NOMINAL ? 1 : 0;
                } else {
                    if (baseDelay < 0 && t.p() < NOMINAL) {
                        baseDelay = t.windowEnd() - change;
                    }
                    if (calDelay < 0 && t.p() < calibrated) {
                        calDelay = t.windowEnd() - change;
                    }
                }
            }
            String label = s.label().replace(s.a().source().name(), s.a().source().name()
                    + (s.a().source().heldOut() ? "*" : ""));
            if (s.b() != s.a()) {
                label = label.replace("-> " + s.b().source().name(), "-> " + s.b().source().name()
                        + (s.b().source().heldOut() ? "*" : ""));
            }
            sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %d | %s | %s | %d | %s | %s |%n", label, s.group(),
                    o.tokens(), o.falseAlarms(), change < 0 ? "-" : delay(o.delay()), change < 0 ? "-" : o.caughtBy(),
                    baseFa, change < 0 ? "-" : delay(baseDelay), change < 0 ? "-" : delay(calDelay)));
        }
        sb.append("\nNoise honesty: root mean square of (difference between disjoint windows) / (its jackknife noise) "
                + "over every disjoint pair of same-source streams (1 = honest; above 1: the noise is underestimated):\n\n");
        sb.append("| statistic | pairs | rms z |\n|---|---|---|\n");
        Map<String, List<Double>> pooled = new LinkedHashMap<>();
        double detector = 0;
        double refresh = 0;
        for (Outcome o : outcomes) {
            detector += o.detectorMillis() / outcomes.size();
            refresh += o.refreshMillis() / outcomes.size();
            if (o.spec().changeAt() < 0) {
                o.zScores().forEach((k, v) -> pooled.computeIfAbsent(k, x -> new ArrayList<>()).addAll(v));
            }
        }
        pooled.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "| %s | %d | %.2f |%n", k, v.size(), rms(v))));
        sb.append(String.format(Locale.ROOT, "%nCost: the detector took %.3f ms per snapshot; a refresh (eigen-"
                + "decomposition, interval and change statistics) %.1f ms.%n", detector, refresh));
        return sb.toString();
    }

    private static String delay(long tokens) {
        return tokens < 0 ? "missed" : String.format(Locale.ROOT, "%d (%.2f w)", tokens, tokens / (double) WINDOW);
    }
}
