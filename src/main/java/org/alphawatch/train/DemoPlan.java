package org.alphawatch.train;

import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How long the autoencoder demo will take on this machine, and how many steps fit a time budget.
 * A short calibration trains throwaway copies of the demo's models on as many threads as the demo
 * will use (on a busy machine that is the share of the cores it will get) and counts their steps;
 * the demo's duration is predicted from that rate, with the costs of monitoring and of the final
 * measurement measured once (constants below). Immutable.
 *
 * @param steps           training steps per model
 * @param expectedSeconds predicted duration of the training and the report (not the build)
 * @param stepsPerSecond  the calibration's rate: training steps per second, all threads together
 */
public record DemoPlan(int steps, double expectedSeconds, double stepsPerSecond) {
    /** The default run's target: well inside the 5 minutes a first run may take, leaving room for a busy machine. */
    public static final double BUDGET_SECONDS = 180;
    /** Fewer steps leave the autoencoders visibly undertrained (eval MSE still falling) and the event uncaught. */
    public static final int MIN_STEPS = 1500;
    /** The full sweep ({@code --full}). */
    public static final int MAX_STEPS = 12000;
    private static final int ROUND_TO = 500;
    /**
     * The demo's wall time per calibrated step: streaming to the monitor (a forward pass every 5
     * steps, repeat passes, probes) and the monitor's refreshes on the same cores. Measured on 2
     * cores: see docs/reproduction.md.
     */
    static final double MONITORED_COST = 1.35;
    /** The final held-out measurement and report of one model, in training steps (measured with it). */
    static final double FINAL_STEPS = 150;
    /** JVM start, server start, calibration, report writing. */
    static final double FIXED_SECONDS = 8;

    /** Calibration: steps are counted in slices of this length ... */
    static final double SLICE_SECONDS = 0.4;
    /** ... until two slices agree within this fraction (the JIT has compiled the training step), not before ... */
    static final double STEADY = 0.1;
    /** ... this (two interpreted slices agreed once, at 0.8 s: 40 steps/s against 63 in a full calibration) ... */
    static final double MIN_CALIBRATION_SECONDS = 2.4;
    /** ... or for at most this long. Measured: 2-4 s on 2 cores shared with other builds. */
    public static final double CALIBRATION_SECONDS = 6;

    /**
     * Training steps per second of the demo's models on this machine, all threads together, once
     * the training step is compiled (the first second or two run interpreted and would make the
     * machine look several times slower: 14 steps/s measured that way against about 45 in the run).
     */
    public static double calibrate(AutoencoderDemo.Settings s) throws InterruptedException {
        int threads = Math.max(1, Math.min(s.parallel(), s.dropouts().length));
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "alphawatch-calibration");
            t.setDaemon(true);
            return t;
        });
        AtomicLong steps = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        try {
            for (int i = 0; i < threads; i++) {
                double dropout = s.dropouts()[i % s.dropouts().length];
                long seed = s.seed() + 31L * i;
                pool.submit(() -> train(s, dropout, seed, steps, stop));
            }
            long start = System.nanoTime();
            long last = System.nanoTime();
            long lastCount = 0;
            double previous = Double.NaN;
            double rate = Double.NaN;
            while ((System.nanoTime() - start) / 1e9 < CALIBRATION_SECONDS) {
                Thread.sleep((long) (SLICE_SECONDS * 1000));
                long now = System.nanoTime();
                long count = steps.get();
                double current = (count - lastCount) / ((now - last) / 1e9);
                last = now;
                lastCount = count;
                rate = Double.isNaN(previous) ? current : (previous + current) / 2;
                if (current > 0 && (now - start) / 1e9 >= MIN_CALIBRATION_SECONDS
                        && Math.abs(current - previous) <= STEADY * Math.max(current, previous)) {
                    break;
                }
                previous = current;
            }
            return Math.max(rate, 1e-3);
        } finally {
            stop.set(true);
            pool.shutdownNow();
            pool.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static void train(AutoencoderDemo.Settings s, double dropout, long seed, AtomicLong steps, AtomicBoolean stop) {
        ImageData data = new ImageData(16);
        Mlp net = new Mlp(s.sizes(), s.activation(), dropout, s.batch(), seed);
        Optimizer adam = Optimizer.adam(s.learningRate());
        Rng rng = new Rng(seed + 1);
        double[] x = new double[s.batch() * data.pixels()];
        while (!stop.get()) {
            data.fill(x, s.batch(), rng);
            net.trainStep(x, x, s.batch(), Loss.MSE, adam);
            steps.incrementAndGet();
        }
    }

    /** Predicted duration of a demo with {@code steps} per model at the calibrated rate. */
    public static double expectedSeconds(AutoencoderDemo.Settings s, int steps, double stepsPerSecond) {
        return FIXED_SECONDS + s.dropouts().length * (steps * MONITORED_COST + FINAL_STEPS) / stepsPerSecond;
    }

    /** A fixed number of steps (--steps, --quick, --full) with its predicted duration. */
    public static DemoPlan fixed(AutoencoderDemo.Settings s, int steps, double stepsPerSecond) {
        return new DemoPlan(steps, expectedSeconds(s, steps, stepsPerSecond), stepsPerSecond);
    }

    /** The most steps (a multiple of {@value #ROUND_TO}) that fit the budget, within [MIN_STEPS, MAX_STEPS]. */
    public static DemoPlan sized(AutoencoderDemo.Settings s, double budgetSeconds, double stepsPerSecond) {
        double perModel = ((budgetSeconds - FIXED_SECONDS) * stepsPerSecond / s.dropouts().length - FINAL_STEPS)
                / MONITORED_COST;
        int steps = (int) Math.max(MIN_STEPS, Math.min(MAX_STEPS, Math.floor(perModel / ROUND_TO) * ROUND_TO));
        return fixed(s, steps, stepsPerSecond);
    }

    /** "2 min 40 s" or "45 s". */
    public static String duration(double seconds) {
        long s = Math.round(seconds);
        return s < 60 ? s + " s" : String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
    }
}
