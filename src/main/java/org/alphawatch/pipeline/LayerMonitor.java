package org.alphawatch.pipeline;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.alphawatch.core.analysis.AnalysisOptions;
import org.alphawatch.core.analysis.SpectrumAnalyzer;
import org.alphawatch.core.analysis.SpectrumReport;
import org.alphawatch.core.projection.EnergySlope;
import org.alphawatch.core.projection.LinearReadout;
import org.alphawatch.core.projection.RandomProjection;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.core.stat.CrossCovarianceAccumulator;
import org.alphawatch.io.NpyArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.scheduler.Scheduler;

/**
 * The state of one (run, layer): its window's accumulators (one per jackknife group), the
 * cross-covariance of repeat passes, the latest probe sweeps, and the snapshots computed from them.
 *
 * <p>Threading: {@link #apply} and {@link #tick} run on the layer's single pipeline worker (the
 * accumulators have one writer). A refresh copies the accumulators on that worker and runs the
 * eigen-decompositions on the compute scheduler; refreshes are coalesced, so at most one is queued
 * per layer and a newer one replaces it. Snapshots and history are safe to read from any thread.
 */
final class LayerMonitor {
    private static final Logger LOG = LoggerFactory.getLogger(LayerMonitor.class);
    private static final int READOUT_FOLDS = 5;

    private final LayerKey key;
    private final int dims;
    private final MonitorConfig config;
    private final AnalysisOptions options;
    private final Scheduler compute;
    private final MonitorObserver observer;
    private final Consumer<LayerSnapshot> publisher;
    private final RandomProjection projection;

    // Writer-thread state.
    private final CovarianceAccumulator[] shards;
    private int nextShard;
    private CrossCovarianceAccumulator cross;
    private ActivationBatch pendingRepeat;
    private long windowSamples;
    private long totalSamples;
    private long stepMin = Long.MAX_VALUE;
    private long stepMax = -1;
    private long samplesSinceRefresh;
    private boolean projectionChanged;
    private long probeStep = -1;
    private final TreeMap<Integer, Double> probeEnergies = new TreeMap<>();
    private double[] probeTrajectory;
    private int probeTrajectoryRows;
    private double probeReadout = Double.NaN;
    private ProjectionSnapshot projectionSnapshot;

    // Refresh coalescing.
    private final AtomicReference<RefreshJob> pending = new AtomicReference<>();
    private final AtomicBoolean inFlight = new AtomicBoolean();
    private long sequence;

    // Read side.
    private volatile LayerSnapshot latest;
    private final ArrayDeque<HistoryPoint> history = new ArrayDeque<>();
    private volatile boolean closed;
    private volatile long lastAppliedMillis = -1;
    private volatile long lastAppliedSeq;
    private final java.util.function.LongSupplier clock;
    private final AtomicBoolean tickQueued = new AtomicBoolean();

    private record RefreshJob(List<CovarianceAccumulator> shards, CrossCovarianceAccumulator cross, long stepMin,
                              long stepMax, long windowSamples, long totalSamples, ProjectionSnapshot projection) {}

    LayerMonitor(LayerKey key, int dims, MonitorConfig config, AnalysisOptions options, Scheduler compute,
                 MonitorObserver observer, Consumer<LayerSnapshot> publisher, java.util.function.LongSupplier clock) {
        this.clock = clock;
        this.key = key;
        this.dims = dims;
        this.config = config;
        this.options = options;
        this.compute = compute;
        this.observer = observer;
        this.publisher = publisher;
        this.projection = RandomProjection.create(dims, RandomProjection.DEFAULT_K,
                RandomProjection.seedFor(key.run(), key.layer()));
        this.shards = new CovarianceAccumulator[config.shards()];
        for (int i = 0; i < shards.length; i++) {
            shards[i] = CovarianceAccumulator.create(dims);
        }
    }

    LayerKey key() {
        return key;
    }

    int dims() {
        return dims;
    }

    long lastAppliedSeq() {
        return lastAppliedSeq;
    }

    private static final int STATE_VERSION = 1;

    /**
     * The layer's durable state (writer thread): counters, accumulators, the repeat
     * cross-covariance and the history. Probe sweeps and a half-received repeat pair are not kept:
     * the next probes and repeats rebuild them.
     */
    byte[] serialize() {
        try {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
            out.writeInt(STATE_VERSION);
            out.writeUTF(key.run());
            out.writeUTF(key.layer());
            out.writeInt(dims);
            out.writeLong(lastAppliedSeq);
            out.writeLong(windowSamples);
            out.writeLong(totalSamples);
            out.writeLong(stepMin);
            out.writeLong(stepMax);
            out.writeLong(samplesSinceRefresh);
            out.writeInt(nextShard);
            out.writeInt(shards.length);
            for (CovarianceAccumulator s : shards) {
                byte[] b = s.toByteArray();
                out.writeInt(b.length);
                out.write(b);
            }
            byte[] c = cross == null ? new byte[0] : cross.toByteArray();
            out.writeInt(c.length);
            out.write(c);
            List<HistoryPoint> h = history();
            out.writeInt(h.size());
            for (HistoryPoint p : h) {
                out.writeLong(p.step());
                out.writeLong(p.timeMillis());
                for (double v : new double[] {p.alpha(), p.alphaLo(), p.alphaHi(), p.r2(), p.effectiveRank(),
                    p.participationRatio(), p.stableRank(), p.energySlope(), p.cvAlpha()}) {
                    out.writeDouble(v);
                }
                out.writeLong(p.windowSamples());
            }
            out.flush();
            return bytes.toByteArray();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Rebuilds a layer from {@link #serialize} bytes; every accumulator is validated by its own format. */
    static LayerMonitor restore(byte[] state, MonitorConfig config, AnalysisOptions options, Scheduler compute,
                                MonitorObserver observer, Consumer<LayerSnapshot> publisher,
                                java.util.function.LongSupplier clock) throws java.io.IOException {
        java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(state));
        int version = in.readInt();
        if (version != STATE_VERSION) {
            throw new java.io.IOException("layer state version " + version + " is not " + STATE_VERSION);
        }
        LayerKey key = new LayerKey(in.readUTF(), in.readUTF());
        int dims = in.readInt();
        LayerMonitor m = new LayerMonitor(key, dims, config, options, compute, observer, publisher, clock);
        m.lastAppliedSeq = in.readLong();
        m.windowSamples = in.readLong();
        m.totalSamples = in.readLong();
        m.stepMin = in.readLong();
        m.stepMax = in.readLong();
        m.samplesSinceRefresh = in.readLong();
        m.nextShard = in.readInt();
        int shards = in.readInt();
        if (shards != m.shards.length) {
            throw new java.io.IOException(key + ": checkpoint has " + shards + " accumulator shards, the configuration "
                    + m.shards.length + " (ci-groups changed?)");
        }
        for (int i = 0; i < shards; i++) {
            byte[] b = new byte[in.readInt()];
            in.readFully(b);
            m.shards[i].reset();
            m.shards[i].merge(CovarianceAccumulator.fromByteArray(b));
        }
        byte[] c = new byte[in.readInt()];
        in.readFully(c);
        if (c.length > 0) {
            m.cross = CrossCovarianceAccumulator.fromByteArray(c);
        }
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            long step = in.readLong();
            long time = in.readLong();
            double[] v = new double[9];
            for (int j = 0; j < v.length; j++) {
                v[j] = in.readDouble();
            }
            long window = in.readLong();
            m.history.addLast(new HistoryPoint(step, time, v[0], v[1], v[2], v[3], v[4], v[5], v[6], window, v[7], v[8]));
        }
        m.nextShard %= m.shards.length;
        // A restored layer has no snapshot yet: make the next tick refresh it.
        m.samplesSinceRefresh = Math.max(m.samplesSinceRefresh, m.windowSamples);
        return m;
    }

    /** Time (monitor clock) of the last applied batch, -1 before the first. */
    long lastAppliedMillis() {
        return lastAppliedMillis;
    }

    LayerSnapshot latest() {
        return latest;
    }

    List<HistoryPoint> history() {
        synchronized (history) {
            return new ArrayList<>(history);
        }
    }

    /** A tick or a refresh is queued or running. */
    boolean busy() {
        return tickQueued.get() || inFlight.get() || pending.get() != null;
    }

    /** True when the caller should queue a tick (none is queued yet); cleared when the tick runs. */
    boolean markTickQueued() {
        return tickQueued.compareAndSet(false, true);
    }

    void close() {
        closed = true;
    }

    boolean closed() {
        return closed;
    }

    /** Applies a validated batch with its admission sequence number. Writer thread only. */
    void apply(ActivationBatch batch, long seq) {
        if (closed) {
            return;
        }
        lastAppliedSeq = Math.max(lastAppliedSeq, seq);
        lastAppliedMillis = clock.getAsLong();
        if (batch.kind() == BatchKind.PROBE) {
            applyProbe(batch);
        } else if (batch.repeat() != ActivationBatch.NO_REPEAT) {
            applyRepeat(batch);
        } else {
            applyTrain(batch);
        }
    }

    private void applyTrain(ActivationBatch batch) {
        int rows = batch.rows();
        int from = 0;
        CovarianceAccumulator shard = shards[nextShard];
        nextShard = (nextShard + 1) % shards.length;
        while (from < rows) {
            int take = rows - from;
            if (config.window() == WindowMode.TUMBLING) {
                take = (int) Math.min(take, config.windowSamples() - windowSamples);
            } else if (config.window() == WindowMode.DECAY) {
                double factor = Math.pow(0.5, (double) take / config.windowSamples());
                for (CovarianceAccumulator s : shards) {
                    s.decay(factor);
                }
                if (cross != null) {
                    // The cross-covariance has no decay: it is restarted once its data is one half-life old.
                    if (cross.count() > config.windowSamples()) {
                        cross.reset();
                    }
                }
            }
            update(shard, batch.values(), from, take);
            windowSamples += take;
            totalSamples += take;
            samplesSinceRefresh += take;
            stepMin = Math.min(stepMin, batch.step());
            stepMax = Math.max(stepMax, batch.step());
            from += take;
            if (config.window() == WindowMode.TUMBLING && windowSamples == config.windowSamples()) {
                requestRefresh();
                resetWindow();
            }
        }
        if (config.refreshSamples() > 0 && samplesSinceRefresh >= config.refreshSamples() && windowSamples >= 2) {
            requestRefresh();
        }
    }

    private static void update(CovarianceAccumulator acc, NpyArray values, int fromRow, int rows) {
        if (values.floats() != null) {
            acc.update(values.floats(), fromRow * values.cols(), rows);
        } else {
            acc.update(values.doubles(), fromRow * values.cols(), rows);
        }
    }

    private void resetWindow() {
        for (CovarianceAccumulator s : shards) {
            s.reset();
        }
        if (cross != null) {
            cross.reset();
        }
        windowSamples = 0;
        stepMin = Long.MAX_VALUE;
        stepMax = -1;
        samplesSinceRefresh = 0;
    }

    private void applyRepeat(ActivationBatch batch) {
        if (batch.repeat() == 0) {
            pendingRepeat = batch;
            return;
        }
        ActivationBatch first = pendingRepeat;
        pendingRepeat = null;
        if (first == null || first.step() != batch.step() || first.rows() != batch.rows()) {
            LOG.debug("{}: repeat 1 at step {} has no matching repeat 0; dropped", key, batch.step());
            observer.rejected(RejectReason.BAD_PARAMETER);
            return;
        }
        if (cross == null) {
            cross = CrossCovarianceAccumulator.create(dims);
        }
        NpyArray a = first.values();
        NpyArray b = batch.values();
        if (a.floats() != null && b.floats() != null) {
            cross.update(a.floats(), b.floats(), a.rows());
        } else {
            cross.update(a.toDoubles(), b.toDoubles(), a.rows());
        }
        samplesSinceRefresh += a.rows();
    }

    private void applyProbe(ActivationBatch batch) {
        int n = batch.rows();
        if (n < 3) {
            observer.rejected(RejectReason.BAD_SHAPE);
            return;
        }
        if (batch.step() != probeStep) {
            probeStep = batch.step();
            probeEnergies.clear();
            probeTrajectory = null;
            probeTrajectoryRows = 0;
            probeReadout = Double.NaN;
        }
        NpyArray v = batch.values();
        double[] projected = v.floats() != null ? projection.project(v.floats(), n) : projection.project(v.doubles(), n);
        int k = projection.k();
        probeEnergies.put(n, RandomProjection.trajectoryEnergy(projected, n, k));
        if (n >= probeTrajectoryRows) {
            probeTrajectory = projected;
            probeTrajectoryRows = n;
            NpyArray latent = batch.latent();
            probeReadout = latent != null && n >= 2 * READOUT_FOLDS
                    ? LinearReadout.crossValidatedR2(projected, n, k, latent.toDoubles(), latent.cols(), READOUT_FOLDS)
                    : Double.NaN;
        }
        int[] densities = new int[probeEnergies.size()];
        double[] energies = new double[densities.length];
        int i = 0;
        for (Map.Entry<Integer, Double> e : probeEnergies.entrySet()) {
            densities[i] = e.getKey();
            energies[i++] = e.getValue();
        }
        EnergySlope slope = null;
        if (densities.length >= 2) {
            try {
                slope = EnergySlope.fit(densities, energies);
            } catch (IllegalArgumentException e) {
                LOG.debug("{}: no energy slope at step {}: {}", key, probeStep, e.getMessage());
            }
        }
        projectionSnapshot = new ProjectionSnapshot(probeStep, densities, energies, slope, probeReadout, probeTrajectory, k);
        projectionChanged = true;
    }

    /** Time-based refresh. Writer thread only. */
    void tick() {
        try {
            if (!closed && (samplesSinceRefresh > 0 || projectionChanged) && windowSamples >= 2) {
                requestRefresh();
            }
        } finally {
            // Cleared only after the refresh is queued, so that "no tick queued and no refresh pending"
            // never holds in between (awaitIdle relies on it).
            tickQueued.set(false);
        }
    }

    private void requestRefresh() {
        List<CovarianceAccumulator> copies = new ArrayList<>(shards.length);
        for (CovarianceAccumulator s : shards) {
            copies.add(s.copy());
        }
        CrossCovarianceAccumulator crossCopy = null;
        if (cross != null && cross.count() >= 3) {
            crossCopy = CrossCovarianceAccumulator.create(dims);
            crossCopy.merge(cross);
        }
        long samples = config.window() == WindowMode.DECAY ? Math.round(weight()) : windowSamples;
        RefreshJob job = new RefreshJob(copies, crossCopy, stepMin, stepMax, samples, totalSamples, projectionSnapshot);
        samplesSinceRefresh = 0;
        projectionChanged = false;
        if (pending.getAndSet(job) != null) {
            observer.refreshCoalesced(key);
        }
        if (inFlight.compareAndSet(false, true)) {
            compute.schedule(this::drain);
        }
    }

    private double weight() {
        double w = 0;
        for (CovarianceAccumulator s : shards) {
            w += s.weight();
        }
        return w;
    }

    private void drain() {
        try {
            RefreshJob job;
            while ((job = pending.getAndSet(null)) != null) {
                if (!closed) {
                    refresh(job);
                }
            }
        } finally {
            inFlight.set(false);
        }
        if (pending.get() != null && inFlight.compareAndSet(false, true)) {
            compute.schedule(this::drain);
        }
    }

    private void refresh(RefreshJob job) {
        long t0 = System.nanoTime();
        try {
            SpectrumReport report = SpectrumAnalyzer.analyze(job.shards(), options);
            if (job.cross() != null) {
                report = report.withCrossValidated(SpectrumAnalyzer.crossValidated(job.cross().snapshot(), options));
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            LayerSnapshot snap = new LayerSnapshot(key, dims, ++sequence, job.stepMax(), job.stepMin(), job.stepMax(),
                    config.window(), config.windowSamples(), job.windowSamples(), job.totalSamples(),
                    System.currentTimeMillis(), seconds, report, job.projection());
            latest = snap;
            synchronized (history) {
                history.addLast(snap.toHistoryPoint());
                while (history.size() > config.historySize()) {
                    history.removeFirst();
                }
            }
            publisher.accept(snap);
        } catch (RuntimeException e) {
            LOG.error("{}: refresh failed: {}", key, e.toString(), e);
        }
    }
}
