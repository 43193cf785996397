package org.alphawatch.train;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.alphawatch.alert.Alert;
import org.alphawatch.alert.AlertConfig;
import org.alphawatch.alert.AlertEngine;
import org.alphawatch.alert.AlertService;
import org.alphawatch.core.spectrum.EigenSolver;
import org.alphawatch.io.NpyArray;
import org.alphawatch.pipeline.ActivationBatch;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.pipeline.Monitor;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.pipeline.MonitorObserver;
import reactor.core.scheduler.Schedulers;

/**
 * The detector on a network that is learning: the built-in trainer (a tanh autoencoder of 12 x 12
 * images, hidden layers 64-32-64, Adam 1e-3, dropout 0.1) trains for {@link #PRETRAIN} steps
 * unwatched, then every training step's hidden outputs (after dropout: what the next layer
 * receives) stream through a real {@link Monitor} (default window, a refresh per pane) into the
 * {@link AlertEngine} with its defaults, for 8 windows of the widest layer; then an event, and 4
 * more windows. Without an event the stream is a continuation: the network still learns, and any
 * alert is a false alarm. Used by {@code bench --detector} and its test.
 */
public final class TrainedTrial {
    /** Steps trained before the monitor watches: past the fastest early learning, not converged. */
    public static final int PRETRAIN = 800;
    static final int BATCH = 64;
    static final int SIDE = 12;
    static final int[] SIZES = {SIDE * SIDE, 64, 32, 64, SIDE * SIDE};

    /** What happens after 8 windows. */
    public enum Event {
        NONE("training continues"), DROPOUT("dropout 0.1 -> 0.5"), DEAD_UNITS("half of h1's units freeze at 0"),
        LEARNING_RATE("learning rate 1e-3 -> 3e-2");

        final String text;

        Event(String text) {
            this.text = text;
        }

        public String describe() {
            return text;
        }
    }

    /**
     * @param delaySamples samples of the widest layer from the event to the end of the first alarming window (-1: none)
     * @param window       samples per window of the widest layer
     */
    public record Outcome(Event event, long samples, int falseAlarms, String falseAlarmKinds, long delaySamples,
                          String caughtBy, long window) {}

    private TrainedTrial() {}

    public static Outcome run(Event event, EigenSolver solver, long seed) {
        MonitorConfig defaults = MonitorConfig.defaults();
        int widest = SIZES[1];
        long window = defaults.windowSpec(widest).samples();
        long pane = defaults.windowSpec(SIZES[2]).paneSamples();
        MonitorConfig config = defaults.withRefresh(pane, Duration.ZERO);
        AlertEngine engine = new AlertEngine(AlertConfig.defaults(), 0);
        List<Alert> alerts = new ArrayList<>();
        List<Long> alertSteps = new ArrayList<>();
        ImageData data = new ImageData(SIDE);
        Rng rng = new Rng(seed);
        Mlp net = new Mlp(SIZES, Activation.TANH, 0.1, BATCH, seed + 1);
        Optimizer adam = Optimizer.adam(1e-3);
        double[] x = new double[BATCH * data.pixels()];
        for (int step = 0; step < PRETRAIN; step++) {
            data.fill(x, BATCH, rng);
            net.trainStep(x, x, BATCH, Loss.MSE, adam);
        }
        int stepsPerWindow = (int) (window / BATCH);
        int eventStep = 8 * stepsPerWindow;
        int total = (event == Event.NONE ? 8 : 12) * stepsPerWindow;
        int hidden = net.hiddenLayers();
        try (Monitor monitor = new Monitor(config, solver, MonitorObserver.NONE, Schedulers.immediate(),
                Schedulers.immediate(), Schedulers.immediate(), 1)) {
            long[] currentStep = new long[1];
            monitor.snapshots().subscribe(snap -> {
                for (Alert a : engine.onSnapshot(snap.key(), AlertService.observation(snap))) {
                    alerts.add(a);
                    alertSteps.add(snap.stepMax());
                }
            });
            for (int step = 0; step < total; step++) {
                currentStep[0] = step;
                if (step == eventStep) {
                    switch (event) {
                        case DROPOUT -> {
                            Mlp more = new Mlp(SIZES, Activation.TANH, 0.5, BATCH, seed + 2);
                            List<double[]> from = net.parameters();
                            List<double[]> to = more.parameters();
                            for (int i = 0; i < from.size(); i++) {
                                System.arraycopy(from.get(i), 0, to.get(i), 0, from.get(i).length);
                            }
                            net = more;
                        }
                        case DEAD_UNITS -> net.silence(1, SIZES[2] / 2, SIZES[2]);
                        case LEARNING_RATE -> adam = Optimizer.adam(3e-2);
                        case NONE -> { }
                    }
                }
                data.fill(x, BATCH, rng);
                net.trainStep(x, x, BATCH, Loss.MSE, adam);
                for (int h = 0; h < hidden; h++) {
                    double[] rows = net.hiddenOutput(h);
                    int d = net.hiddenSize(h);
                    float[] f = new float[BATCH * d];
                    for (int i = 0; i < f.length; i++) {
                        f[i] = (float) rows[i];
                    }
                    if (!monitor.ingest().offer(ActivationBatch.train(new LayerKey("trained", "h" + h), step,
                            NpyArray.ofFloats(f, BATCH, d))).ok()) {
                        throw new IllegalStateException("the monitor refused a batch");
                    }
                }
            }
        }
        int falseAlarms = 0;
        List<String> kinds = new ArrayList<>();
        long delay = -1;
        String caughtBy = "-";
        for (int i = 0; i < alerts.size(); i++) {
            Alert a = alerts.get(i);
            long step = alertSteps.get(i);
            if (event == Event.NONE || step < eventStep) {
                falseAlarms++;
                kinds.add(a.kind().label() + " " + a.layer());
            } else if (delay < 0) {
                delay = (step + 1 - eventStep) * (long) BATCH;
                caughtBy = a.kind().label() + " (" + String.join(", ", a.evidence().stream().map(Alert.Evidence::layer)
                        .toList()) + ")";
            }
        }
        return new Outcome(event, (long) total * BATCH, falseAlarms, String.join("; ", kinds), delay, caughtBy, window);
    }

    public static String header() {
        return "| trained network, after " + PRETRAIN + " steps | samples | false alarms | caught after (samples; w = "
                + "windows of h0) | by |\n|---|---|---|---|---|";
    }

    public static String row(Outcome o) {
        return String.format(Locale.ROOT, "| %s | %d | %d%s | %s | %s |", o.event().describe(), o.samples(),
                o.falseAlarms(), o.falseAlarms() > 0 ? " (" + o.falseAlarmKinds() + ")" : "",
                o.event() == Event.NONE ? "-" : o.delaySamples() < 0 ? "missed"
                        : String.format(Locale.ROOT, "%d (%.1f w)", o.delaySamples(), o.delaySamples() / (double) o.window()),
                o.event() == Event.NONE ? "-" : o.caughtBy());
    }
}
