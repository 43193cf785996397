package org.alphawatch.train;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.alphawatch.attach.ActivationSink;
import org.alphawatch.core.analysis.AnalysisOptions;
import org.alphawatch.core.analysis.SpectrumReport;
import org.alphawatch.core.code.Capacity;
import org.alphawatch.core.projection.EnergySlope;
import org.alphawatch.core.projection.RandomProjection;
import org.alphawatch.core.spectrum.EigenSolver;
import org.alphawatch.io.NpyArray;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.BatchKind;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.pipeline.Monitor;

/**
 * The built-in demo: autoencoders on generated images, one per dropout rate, trained while every
 * hidden layer's code streams into the monitor (train batches in evaluation mode, probe sweeps
 * along the circle at several densities, and dropout-active repeat passes for cvPCA). At the end
 * each layer is measured once more on a fixed held-out set. Results are plain values for the
 * report writer.
 */
public final class AutoencoderDemo {
    /** Probe densities (points on the circle) used during training; the final test adds 256. */
    static final int[] TRAIN_DENSITIES = {16, 32, 64, 128};
    private static final double[] DROPOUTS = {0, 0.2, 0.4, 0.6, 0.8};

    /**
     * A scripted change the monitor should catch: from {@code step} on, the upper half of hidden
     * layer {@code hidden}'s units in model {@code model} are dead (output 0, no gradient).
     */
    public record Event(int model, int hidden, int step) {
        public String describe(Settings s) {
            int units = s.sizes()[hidden + 1];
            return String.format(Locale.ROOT, "at step %d, %d of the %d units of %s/%s go dead (output 0 from then on)",
                    step, units / 2, units, runName(s.dropouts()[model]), layerName(hidden));
        }
    }

    /**
     * What to train.
     *
     * @param activation tanh by default: with ReLU, 30-70% of these autoencoders' hidden units die
     *                   during training (and whole layers at high dropout), with tanh none do and the
     *                   reconstruction error is 3-4x lower (docs/reproduction.md has the numbers)
     * @param event      the scripted change, or null
     */
    public record Settings(double[] dropouts, int[] sizes, Activation activation, int steps, int batch, int emitEvery,
                           int probeEvery, int repeatEvery, int evalSamples, int parallel, long seed,
                           double learningRate, Event event) {
        // All five models train at once: with one thread per core, 5 models on 2 cores ran in 3 rounds,
        // the last on one core.
        public static Settings quick(long seed) {
            return new Settings(DROPOUTS.clone(), new int[] {256, 128, 64, 128, 256}, Activation.TANH, 1500, 64, 5, 100,
                    10, 4096, DROPOUTS.length, seed, 1e-3, null).withDefaultEvent();
        }

        public static Settings full(long seed) {
            return new Settings(DROPOUTS.clone(), new int[] {256, 128, 64, 128, 256}, Activation.TANH, DemoPlan.MAX_STEPS,
                    64, 5, 250, 10, 16384, DROPOUTS.length, seed, 1e-3, null).withDefaultEvent();
        }

        public Settings withSteps(int s) {
            return new Settings(dropouts, sizes, activation, s, batch, emitEvery, probeEvery, repeatEvery, evalSamples,
                    parallel, seed, learningRate, event).withDefaultEvent();
        }

        public Settings withModels(double[] d, int threads) {
            return new Settings(d, sizes, activation, steps, batch, emitEvery, probeEvery, repeatEvery, evalSamples,
                    threads, seed, learningRate, event != null && event.model() < d.length ? event : null);
        }

        public Settings withActivation(Activation a) {
            return new Settings(dropouts, sizes, a, steps, batch, emitEvery, probeEvery,
                    repeatEvery, evalSamples, parallel, seed, learningRate, event);
        }

        public Settings withEvent(Event e) {
            return new Settings(dropouts, sizes, activation, steps, batch, emitEvery, probeEvery, repeatEvery,
                    evalSamples, parallel, seed, learningRate, e);
        }

        /** The default event: half of h1 in the second model (dropout 0.2) dies at 60% of the steps. */
        Settings withDefaultEvent() {
            return withEvent(dropouts.length > 1 ? new Event(1, 0, steps * 6 / 10) : null);
        }

        /** Train rows each layer receives per training step (what a delay in steps means in samples). */
        public double rowsPerStep() {
            return (double) batch / emitEvery;
        }
    }

    /** The final measurement of one hidden layer of one model. */
    public record LayerResult(String run, String layer, double dropout, int units, SpectrumReport report,
                              SpectrumReport probeReport, EnergySlope energySlope, double readoutR2,
                              double[] trajectory, double capacityBits) {
        public double slopeOrNaN() {
            return energySlope == null ? Double.NaN : energySlope.slope();
        }

        /** smooth / rough / mixed by the two tests, or silent when the layer does not respond to the probe. */
        public String verdict() {
            if (energySlope == null) {
                return "silent";
            }
            boolean alphaSmooth = probeReport.fit().ok() && probeReport.alpha() > 3;
            boolean slopeSmooth = energySlope.smooth();
            return alphaSmooth && slopeSmooth ? "smooth" : !alphaSmooth && !slopeSmooth ? "rough" : "mixed";
        }
    }

    /**
     * One trained model.
     *
     * @param lossCurve        the training loss (moving average) after each step, index = step (0: NaN)
     * @param finishedAtMillis wall-clock time at which its training ended
     */
    public record ModelResult(String run, double dropout, double finalLoss, double evalLoss, List<LayerResult> layers,
                              long samplesTrained, double trainSeconds, long batchesSent, long batchesRefused,
                              double[] lossCurve, long finishedAtMillis) {
        public int lastStep() {
            return lossCurve.length - 1;
        }

        public double lossAt(long step) {
            return step >= 1 && step < lossCurve.length ? lossCurve[(int) step] : Double.NaN;
        }
    }

    private final Settings settings;
    private final Monitor monitor;
    private final ActivationSink sink;
    private final EigenSolver solver;
    private final PrintStream out;
    private final ImageData data = new ImageData(16);

    /** @param monitor where the codes stream to; null trains without monitoring (for measuring its cost) */
    public AutoencoderDemo(Settings settings, Monitor monitor, EigenSolver solver, PrintStream out) {
        this(settings, monitor, monitor == null ? null : ActivationSink.of(monitor), solver, out);
    }

    /** With a remote sink (e.g. {@link org.alphawatch.attach.HttpActivationSink}); {@code monitor} may then be null. */
    public AutoencoderDemo(Settings settings, Monitor monitor, ActivationSink sink, EigenSolver solver, PrintStream out) {
        this.settings = settings;
        this.monitor = monitor;
        this.sink = sink;
        this.solver = solver;
        this.out = out;
        if (settings.sizes()[0] != data.pixels() || settings.sizes()[settings.sizes().length - 1] != data.pixels()) {
            throw new IllegalArgumentException("autoencoder sizes must start and end with " + data.pixels());
        }
    }

    public Settings settings() {
        return settings;
    }

    public static String runName(double dropout) {
        return String.format(Locale.ROOT, "ae-d%.1f", dropout);
    }

    public static String layerName(int hidden) {
        return "h" + (hidden + 1);
    }

    /** Live state for the progress line. */
    private static final class Progress {
        final String run;
        volatile int step;
        volatile double loss = Double.NaN;
        volatile boolean done;

        Progress(String run) {
            this.run = run;
        }
    }

    public List<ModelResult> run() throws Exception {
        return run(true);
    }

    /** Trains every model; {@code measure} adds the final held-out measurement. */
    public List<ModelResult> run(boolean measure) throws Exception {
        List<Progress> progress = new ArrayList<>();
        for (double p : settings.dropouts()) {
            progress.add(new Progress(runName(p)));
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, settings.parallel()), r -> {
            Thread t = new Thread(r, "alphawatch-trainer");
            t.setDaemon(true);
            return t;
        });
        long start = System.nanoTime();
        try {
            List<Future<ModelResult>> futures = new ArrayList<>();
            for (int i = 0; i < settings.dropouts().length; i++) {
                final int index = i;
                futures.add(pool.submit(() -> trainOne(index, progress.get(index), measure)));
            }
            while (futures.stream().anyMatch(f -> !f.isDone())) {
                for (int i = 0; i < 20 && futures.stream().anyMatch(f -> !f.isDone()); i++) {
                    Thread.sleep(100);
                }
                if (out != null && futures.stream().anyMatch(f -> !f.isDone())) {
                    printProgress(progress, (System.nanoTime() - start) / 1e9);
                }
            }
            List<ModelResult> results = new ArrayList<>();
            for (Future<ModelResult> f : futures) {
                results.add(f.get());
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    private void printProgress(List<Progress> progress, double seconds) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "[%4.0fs]", seconds));
        for (Progress p : progress) {
            if (p.step == 0 && !p.done) {
                continue;
            }
            sb.append(String.format(Locale.ROOT, "  %s %s", p.run, p.done ? "done" : p.step + "/" + settings.steps()));
            if (!p.done) {
                sb.append(String.format(Locale.ROOT, " loss %.4f a=", p.loss));
                for (int h = 0; sink != null && h < settings.sizes().length - 2; h++) {
                    var a = sink.alpha(new LayerKey(p.run, layerName(h)));
                    sb.append(h == 0 ? "" : "/").append(a.isPresent() ? String.format(Locale.ROOT, "%.2f", a.getAsDouble())
                            : "-");
                }
            }
        }
        out.println(sb);
        out.flush();
    }

    private ModelResult trainOne(int index, Progress progress, boolean measure) throws InterruptedException {
        double dropout = settings.dropouts()[index];
        String run = runName(dropout);
        int batch = settings.batch();
        Mlp net = new Mlp(settings.sizes(), settings.activation(), dropout, batch, settings.seed() + 1000L * index);
        Optimizer adam = Optimizer.adam(settings.learningRate());
        Rng rng = new Rng(settings.seed() + 7919L * index + 1);
        int pixels = data.pixels();
        double[] x = new double[batch * pixels];
        int hiddenLayers = net.hiddenLayers();
        AtomicLong sent = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        double ema = Double.NaN;
        double[] lossCurve = new double[settings.steps() + 1];
        lossCurve[0] = Double.NaN;
        long t0 = System.nanoTime();
        Event event = settings.event() != null && settings.event().model() == index ? settings.event() : null;
        for (int step = 1; step <= settings.steps(); step++) {
            if (event != null && step == event.step()) {
                int units = net.hiddenSize(event.hidden());
                net.silence(event.hidden(), units / 2, units);
                if (out != null) {
                    out.println("[event] " + event.describe(settings));
                }
            }
            data.fill(x, batch, rng);
            double loss = net.trainStep(x, x, batch, Loss.MSE, adam);
            ema = Double.isNaN(ema) ? loss : 0.98 * ema + 0.02 * loss;
            lossCurve[step] = ema;
            if (sink != null && step % settings.emitEvery() == 0) {
                net.forward(x, batch, false);
                for (int h = 0; h < hiddenLayers; h++) {
                    emit(new ActivationBatch(new LayerKey(run, layerName(h)), step, BatchKind.TRAIN,
                            ActivationBatch.NO_REPEAT, floats(net.hidden(h), batch, net.hiddenSize(h)), null), sent, refused);
                }
                if (settings.repeatEvery() > 0 && step % (settings.emitEvery() * settings.repeatEvery()) == 0) {
                    emitRepeats(net, x, run, step, sent, refused);
                }
            }
            if (sink != null && (step % settings.probeEvery() == 0 || step == settings.steps())) {
                emitProbes(net, run, step, sent, refused);
            }
            progress.step = step;
            progress.loss = ema;
        }
        double trainSeconds = (System.nanoTime() - t0) / 1e9;
        long finishedAt = System.currentTimeMillis();
        progress.done = true;
        if (sink != null) {
            sink.endRun(run); // a finished model is not a stale one
        }
        List<LayerResult> layers = measure ? finalMeasurement(net, run, dropout) : List.of();
        double[] evalX = new double[batch * pixels];
        data.fill(evalX, batch, new Rng(settings.seed() + 99));
        double evalLoss = net.evaluate(evalX, evalX, batch, Loss.MSE);
        return new ModelResult(run, dropout, ema, evalLoss, layers, (long) settings.steps() * batch, trainSeconds,
                sent.get(), refused.get(), lossCurve, finishedAt);
    }

    private void emitRepeats(Mlp net, double[] x, String run, int step, AtomicLong sent, AtomicLong refused)
            throws InterruptedException {
        int batch = settings.batch();
        int hiddenLayers = net.hiddenLayers();
        NpyArray[] first = new NpyArray[hiddenLayers];
        net.forward(x, batch, true);
        for (int h = 0; h < hiddenLayers; h++) {
            first[h] = floats(net.hiddenOutput(h), batch, net.hiddenSize(h));
        }
        net.forward(x, batch, true);
        for (int h = 0; h < hiddenLayers; h++) {
            LayerKey key = new LayerKey(run, layerName(h));
            emit(new ActivationBatch(key, step, BatchKind.TRAIN, 0, first[h], null), sent, refused);
            emit(new ActivationBatch(key, step, BatchKind.TRAIN, 1,
                    floats(net.hiddenOutput(h), batch, net.hiddenSize(h)), null), sent, refused);
        }
    }

    private void emitProbes(Mlp net, String run, int step, AtomicLong sent, AtomicLong refused)
            throws InterruptedException {
        for (int n : TRAIN_DENSITIES) {
            double[] latent = new double[(n + 1) * 2];
            double[] images = data.probe(n, latent);
            for (int h = 0; h < net.hiddenLayers(); h++) {
                double[] acts = CodeMeasurement.hiddenOf(net, images, n + 1, h, settings.batch());
                emit(new ActivationBatch(new LayerKey(run, layerName(h)), step, BatchKind.PROBE, ActivationBatch.NO_REPEAT,
                        NpyArray.ofFloats(toFloats(acts), n + 1, net.hiddenSize(h)), NpyArray.ofDoubles(latent, n + 1, 2)),
                        sent, refused);
            }
        }
    }

    private void emit(ActivationBatch b, AtomicLong sent, AtomicLong refused) throws InterruptedException {
        // The in-process trainer blocks on a full queue (backpressure), like a producer honouring 429.
        (sink.emit(b) ? sent : refused).incrementAndGet();
    }

    private List<LayerResult> finalMeasurement(Mlp net, String run, double dropout) {
        AnalysisOptions options = AnalysisOptions.defaults(solver).withDropout(dropout).withBits(Capacity.DEFAULT_BITS);
        List<SpectrumReport> reports = CodeMeasurement.heldOut(net, data, settings.evalSamples(), settings.batch(),
                settings.seed() + 424242, options);
        List<LayerResult> results = new ArrayList<>();
        for (int h = 0; h < net.hiddenLayers(); h++) {
            int units = net.hiddenSize(h);
            CodeMeasurement.Probe probe = CodeMeasurement.probe(net, data, h, settings.batch(),
                    RandomProjection.seedFor(run, layerName(h)), options.withInputDim(1));
            results.add(new LayerResult(run, layerName(h), dropout, units, reports.get(h), probe.report(), probe.slope(),
                    probe.readoutR2(), probe.trajectory(), Capacity.dropoutCapacityBits(dropout, units, Capacity.DEFAULT_BITS)));
        }
        return results;
    }

    private static NpyArray floats(double[] values, int rows, int cols) {
        float[] f = new float[rows * cols];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return NpyArray.ofFloats(f, rows, cols);
    }

    private static float[] toFloats(double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return f;
    }

    /** The monitor's history of a layer as (step, alpha) for plotting. */
    public List<double[]> alphaHistory(String run, String layer) {
        List<double[]> points = new ArrayList<>();
        if (monitor == null) {
            return points;
        }
        monitor.history(new LayerKey(run, layer)).orElse(List.of())
                .forEach(h -> points.add(new double[] {h.step(), h.alpha(), h.alphaLo(), h.alphaHi()}));
        return points;
    }
}
