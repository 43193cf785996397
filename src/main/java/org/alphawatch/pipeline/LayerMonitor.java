package org.alphawatch.pipeline;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.alphawatch.core.analysis.AnalysisWorkspace;
import org.alphawatch.core.analysis.SpectrumAnalyzer;
import org.alphawatch.core.analysis.SpectrumReport;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.core.stat.CrossCovarianceAccumulator;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.core.window.WindowSpec;
import org.alphawatch.core.window.WindowView;
import org.alphawatch.core.window.WindowedCovariance;
import org.alphawatch.io.NpyArray;
import org.alphawatch.io.PartialMoments;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One (run, layer): its window, repeat pairs and probe sweeps (written by the layer's single
 * writer, {@link LayerMailbox}), and the refresh that turns a view of the window into a
 * {@link LayerSnapshot} on the compute threads.
 *
 * <p>Refreshes: at most one runs per layer. A request while one runs marks the layer dirty and the
 * finished refresh re-requests (coalescing: only the newest data matters). The refresh reads a
 * {@link WindowView} (panes are shared, not copied) and publishes; only mature snapshots reach the
 * publisher (history, metrics, detector, events).
 */
final class LayerMonitor {
    private static final Logger LOG = LoggerFactory.getLogger(LayerMonitor.class);

    /** Work for the layer's writer, in the order it was posted. */
    sealed interface Event permits Apply, Failed, Tick, RefreshDone, Capture, Remove {}

    /** An admitted (and, with a log, durable) batch. */
    record Apply(ActivationBatch batch, long seq, Ticket ticket, long admittedNanos) implements Event {}

    /** An admitted batch that could not be made durable: release it (and the samples it reserved), apply nothing. */
    record Failed(Ticket ticket, long samples, long pairs) implements Event {}

    record Tick() implements Event {}

    record RefreshDone(long version) implements Event {}

    /** Serialize the layer's state (checkpoints). */
    record Capture(CompletableFuture<byte[]> result) implements Event {}

    record Remove() implements Event {}

    final LayerKey key;
    final int dims;
    final LayerMailbox<Event> mailbox;
    final RefreshScheduler.Account account;
    /** Admitted batches not yet applied or failed (a new layer stays hidden until one applies). */
    final AtomicInteger pendingAdmissions = new AtomicInteger();
    final AtomicBoolean tickQueued = new AtomicBoolean();
    /** Memory charged to this layer by the registry. */
    long chargedBytes;
    boolean repeatsCharged;
    /** Samples and repeat pairs admitted (applied or on their way): what the 2^53 cap is checked against. */
    final AtomicLong admittedSamples = new AtomicLong();
    final AtomicLong admittedPairs = new AtomicLong();

    /** The newest request admitted from a sender: its number, sequence number and durability. */
    record Admitted(long number, long seq, CompletableFuture<Void> durable) {}

    /** Newest admitted request per sender (admission lock); the least recently used is forgotten first. */
    private final Map<String, Admitted> admittedBySender = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Admitted> eldest) {
            return size() > MonitorConfig.MAX_SENDERS_PER_LAYER;
        }
    };

    private final LayerContext ctx;
    private final WindowedCovariance window;
    private final long minSamples;
    private final long chosenMinSamples;
    private final ProbeSweeps probes;
    private final LayerSnapshots snapshots;

    // Writer-thread state.
    /** Last request number applied per sender: saved with the layer, so exactly-once survives restarts. */
    private final Map<String, Long> appliedBySender = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > MonitorConfig.MAX_SENDERS_PER_LAYER;
        }
    };
    private RepeatPairs repeats;
    private long lastAppliedSeq;
    /** The last sequence number in the state this layer was restored from (recovery skips older records). */
    final long restoredSeq;
    private long samplesSinceRefresh;
    private boolean projectionChanged;
    private boolean refreshing;
    private boolean dirty;
    private long refreshedVersion = -1;
    /** Set by the writer when the layer is removed, read by its refresh on a compute thread. */
    private volatile boolean closed;

    // Read by any thread.
    /** Where samples of senders beyond {@link MonitorConfig#MAX_SOURCES_PER_LAYER} are counted. */
    static final String OTHER_SOURCES = "(other)";
    /** Samples applied per sender (rank or process) that named itself; not saved in checkpoints. */
    private final ConcurrentHashMap<String, Long> sources = new ConcurrentHashMap<>();
    private volatile boolean visible;
    /** Its sender said the run is over (until its next batch): not stale, shown as ended. */
    volatile boolean ended;
    /** Rebuilt from saved state (a restart, a partition taken over): its first spectrum is on its way. */
    private volatile boolean restored;
    private volatile long lastAppliedMillis = -1;
    private volatile long totalSamples;
    private long sequence; // refresh jobs only, one at a time
    private AnalysisWorkspace workspace; // refresh jobs only: reused, so a refresh allocates no d x d array

    LayerMonitor(LayerKey key, int dims, LayerContext ctx, LayerOptions options) {
        this(key, dims, ctx, WindowedCovariance.create(dims, ctx.config().forLayer(options).windowSpec(dims)), null, 0,
                List.of(), Map.of(), ctx.config().forLayer(options).minSamples(dims),
                options == null ? 0 : options.minSamples());
    }

    /**
     * @param minSamples       the maturity threshold this layer uses
     * @param chosenMinSamples what its sender chose (0: the server's setting), saved with the layer
     */
    private LayerMonitor(LayerKey key, int dims, LayerContext ctx, WindowedCovariance window, RepeatPairs repeats,
                         long lastAppliedSeq, List<HistoryPoint> history, Map<String, Long> applied, long minSamples,
                         long chosenMinSamples) {
        this.key = key;
        this.dims = dims;
        this.ctx = ctx;
        this.window = window;
        this.repeats = repeats;
        this.lastAppliedSeq = lastAppliedSeq;
        this.restoredSeq = lastAppliedSeq;
        this.minSamples = minSamples;
        this.chosenMinSamples = chosenMinSamples;
        this.probes = new ProbeSweeps(key, dims);
        this.snapshots = new LayerSnapshots(ctx.config().historySize());
        this.snapshots.restoreHistory(history);
        this.mailbox = new LayerMailbox<>(ctx.ingest(), this::handle);
        this.account = new RefreshScheduler.Account(1e-9 * Math.pow(dims, 3) * (1 + window.spec().groups()));
        this.totalSamples = window.totalSamples();
        this.admittedSamples.set(window.totalSamples());
        this.admittedPairs.set(repeats == null ? 0 : repeats.pairs());
        this.appliedBySender.putAll(applied);
        applied.forEach((sender, number) -> admittedBySender.put(sender,
                new Admitted(number, lastAppliedSeq, Admission.DONE)));
    }

    /** A layer rebuilt from saved state: visible, with its window, repeat pairs, history and senders. */
    static LayerMonitor restore(LayerState.Restored s, LayerContext ctx) {
        long min = s.minSamples() > 0 ? s.minSamples() : ctx.config().minSamples(s.dims());
        LayerMonitor m = new LayerMonitor(s.key(), s.dims(), ctx, s.window(), s.repeats(), s.lastAppliedSeq(),
                s.history(), s.senders(), min, s.minSamples());
        m.visible = true;
        m.restored = s.window().windowSamples() >= 2; // otherwise there is no spectrum to wait for
        // A restored layer has no snapshot yet: the registry asks for a refresh at once.
        m.refreshedVersion = -1;
        return m;
    }

    /** The newest request admitted from {@code sender}, or null (admission lock held). */
    Admitted admitted(String sender) {
        return admittedBySender.get(sender);
    }

    /** Records an admitted numbered request (admission lock held). */
    void admit(Delivery d, long seq, CompletableFuture<Void> durable) {
        admittedBySender.put(d.sender(), new Admitted(d.seq(), seq, durable));
    }

    boolean hasRepeats() {
        return repeats != null;
    }

    /** Posts an event; the caller has counted it as outstanding work ({@link LayerContext#posted()}). */
    void post(Event e) {
        ctx.posted();
        mailbox.post(e);
    }

    private void handle(Event event) {
        try {
            if (event instanceof Apply a) {
                apply(a);
            } else if (event instanceof Failed f) {
                failed(f);
            } else if (event instanceof Tick) {
                tickQueued.set(false);
                requestRefresh();
            } else if (event instanceof RefreshDone d) {
                refreshDone(d);
            } else if (event instanceof Capture c) {
                capture(c);
            } else {
                closed = true;
            }
        } catch (RuntimeException e) {
            LOG.error("{}: {} failed: {}", key, event.getClass().getSimpleName(), e.toString(), e);
        } finally {
            ctx.handled();
        }
    }

    private void apply(Apply a) {
        try {
            if (closed) {
                // Cannot happen for logged batches (they precede the delete in the mailbox); kept safe.
                LOG.warn("{}: batch {} arrived after the layer was removed; dropped", key, a.seq());
                return;
            }
            long start = System.nanoTime();
            ctx.observer().timed(MonitorObserver.Stage.QUEUE_WAIT, start - a.admittedNanos());
            ActivationBatch batch = a.batch();
            Delivery d = batch.delivery();
            if (d != null) {
                Long last = appliedBySender.get(d.sender());
                if (last != null && d.seq() <= last) {
                    // Two copies of one request admitted (two ingest nodes published a retry): apply one.
                    ctx.observer().duplicate(key);
                    releaseReserved(batch);
                    return;
                }
                appliedBySender.put(d.sender(), d.seq());
            }
            lastAppliedSeq = Math.max(lastAppliedSeq, a.seq());
            lastAppliedMillis = ctx.clock().getAsLong();
            if (batch.partials() != null) {
                batch.partials().forEach(p -> applyPartial(p, batch.source()));
            } else if (batch.kind() == BatchKind.PROBE) {
                probes.add(batch);
                projectionChanged = true;
            } else if (batch.repeat() != ActivationBatch.NO_REPEAT) {
                if (!repeatPairs().add(batch, batch.source())) {
                    LOG.debug("{}: repeat 1 at step {} has no matching repeat 0; dropped", key, batch.step());
                    ctx.observer().rejected(RejectReason.BAD_PARAMETER);
                }
            } else {
                NpyArray v = batch.values();
                if (v.floats() != null) {
                    window.update(v.floats(), 0, v.rows(), batch.step());
                } else {
                    window.update(v.doubles(), 0, v.rows(), batch.step());
                }
                samplesSinceRefresh += v.rows();
                totalSamples = window.totalSamples();
                countSource(batch.source(), v.rows());
            }
            visible = true;
            ctx.observer().timed(MonitorObserver.Stage.APPLY, System.nanoTime() - start);
            ctx.observer().batchApplied(key, batch.rows(), batch.bytes());
            long every = ctx.config().refreshSamples();
            if (every > 0 && samplesSinceRefresh >= every) {
                requestRefresh();
            }
        } catch (RuntimeException e) {
            // Admission checked everything the window needs, so this is a bug: loud and counted, never silent.
            LOG.error("{}: admitted batch {} could not be applied: {}", key, a.seq(), e.toString(), e);
            ctx.observer().rejected(RejectReason.APPLY_FAILED);
        } finally {
            pendingAdmissions.decrementAndGet();
            a.ticket().release();
        }
    }

    /** A batch that will not be applied gives back the samples it reserved against the cap. */
    private void releaseReserved(ActivationBatch batch) {
        admittedSamples.addAndGet(-batch.windowSamples());
        admittedPairs.addAndGet(-batch.repeatPairs());
    }

    /** A trainer's partial accumulator: merged whole into the window (and its repeat pairs into the pairs). */
    private void applyPartial(PartialMoments p, String source) {
        if (p.samples() > 0) {
            window.merge(CovarianceAccumulator.fromMoments(dims, p.samples(), p.mean(), p.comomentUpper()),
                    p.firstStep(), p.lastStep());
        }
        if (p.hasPairs()) {
            repeatPairs().merge(CrossCovarianceAccumulator.fromMoments(dims, p.pairs(), p.meanA(), p.meanB(),
                    p.comomentAUpper(), p.crossComoment()));
        }
        samplesSinceRefresh += p.samples();
        totalSamples = window.totalSamples();
        countSource(source, p.samples());
    }

    /** The layer's repeat pairs, created with the first repeat pass; they span the window's samples. */
    private RepeatPairs repeatPairs() {
        if (repeats == null) {
            repeats = new RepeatPairs(dims, window.spec().mode() == WindowMode.CUMULATIVE ? 0
                    : Math.max(minSamples, window.spec().samples()));
        }
        return repeats;
    }

    private void countSource(String source, long rows) {
        if (source != null) {
            String key = sources.size() >= MonitorConfig.MAX_SOURCES_PER_LAYER && !sources.containsKey(source) ? OTHER_SOURCES : source;
            sources.merge(key, rows, Long::sum);
        }
    }

    private void failed(Failed f) {
        admittedSamples.addAndGet(-f.samples());
        admittedPairs.addAndGet(-f.pairs());
        pendingAdmissions.decrementAndGet();
        f.ticket().release();
        if (!visible) {
            ctx.dropIfUnused(this);
        }
    }

    private void capture(Capture c) {
        if (!visible) {
            c.result().complete(null); // every batch of it failed: nothing to save
            return;
        }
        try {
            c.result().complete(LayerState.write(key, dims, lastAppliedSeq, window, repeats, snapshots.history(),
                    appliedBySender, chosenMinSamples));
        } catch (RuntimeException e) {
            c.result().completeExceptionally(e);
        }
    }

    private void requestRefresh() {
        if (closed) {
            return;
        }
        if (refreshing) {
            ctx.observer().refreshCoalesced(key);
            dirty = true;
            return;
        }
        boolean windowChanged = window.version() != refreshedVersion;
        LayerSnapshot previous = snapshots.newest();
        if (!windowChanged && !(projectionChanged && previous != null)) {
            return;
        }
        if (windowChanged && window.windowSamples() < 2) {
            return; // nothing to decompose yet; probes wait for the first spectrum
        }
        WindowView view = windowChanged ? window.view() : null;
        CrossCovarianceAccumulator cross = repeats == null ? null : repeats.forRefresh();
        ProjectionSnapshot projection = probes.snapshot();
        long version = window.version();
        long total = totalSamples;
        refreshing = true;
        projectionChanged = false;
        samplesSinceRefresh = 0;
        ctx.posted(); // the refresh counts as outstanding work until its RefreshDone is handled
        ctx.refresher().submit(account, () -> refresh(view, cross, projection, previous, version, total));
    }

    private void refreshDone(RefreshDone d) {
        ctx.handled(); // the refresh itself
        refreshing = false;
        refreshedVersion = d.version();
        if (dirty) {
            dirty = false;
            requestRefresh();
        }
    }

    /** Compute thread: analyze the view (or reuse the previous spectrum when only probes changed). */
    private void refresh(WindowView view, CrossCovarianceAccumulator cross, ProjectionSnapshot projection,
                         LayerSnapshot previous, long version, long total) {
        long t0 = System.nanoTime();
        try {
            if (closed) {
                return;
            }
            LayerSnapshot snap;
            if (view == null) {
                snap = previous.withProjection(++sequence, ctx.clock().getAsLong(), projection,
                        (System.nanoTime() - t0) / 1e9);
            } else {
                if (workspace == null) {
                    workspace = new AnalysisWorkspace(dims, ctx.options());
                }
                SpectrumReport report = SpectrumAnalyzer.analyze(view.groups(), ctx.options(), workspace);
                if (cross != null) {
                    report = report.withCrossValidated(SpectrumAnalyzer.crossValidated(cross.snapshot(), ctx.options()));
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                snap = LayerSnapshot.builder(key, dims).sequence(++sequence).steps(view.stepMin(), view.stepMax())
                        .window(view.spec(), view.samples(), view.firstSample(), view.endSample())
                        .minSamples(minSamples).totalSamples(total).refreshed(ctx.clock().getAsLong(), seconds)
                        .report(report).projection(projection).build();
                account.lastCostSeconds = seconds;
                ctx.observer().refreshed(key, seconds);
            }
            if (snapshots.accept(snap)) {
                ctx.publisher().accept(snap);
            }
        } catch (RuntimeException e) {
            LOG.error("{}: refresh failed: {}", key, e.toString());
            snapshots.failed(ctx.clock().getAsLong(), e.getMessage() == null ? e.toString() : e.getMessage());
            ctx.observer().refreshFailed(key);
        } finally {
            if (view != null) {
                view.close();
            }
            post(new RefreshDone(version));
        }
    }

    // ---- read side (any thread) ----------------------------------------------------------------

    boolean visible() {
        return visible;
    }

    /** Restored from saved state and not refreshed since: data is there, its spectrum is being computed. */
    boolean restoring() {
        return restored && snapshots.current() == null && snapshots.failures() == 0;
    }

    long lastAppliedMillis() {
        return lastAppliedMillis;
    }

    long totalSamples() {
        return totalSamples;
    }

    long minSamples() {
        return minSamples;
    }

    /** The window's shape (fixed for the layer's life, so any thread may read it). */
    WindowSpec windowSpec() {
        return window.spec();
    }

    Map<String, Long> sources() {
        return new TreeMap<>(sources);
    }

    LayerSnapshots snapshots() {
        return snapshots;
    }
}
