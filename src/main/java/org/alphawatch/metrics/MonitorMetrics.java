package org.alphawatch.metrics;

import static org.alphawatch.metrics.MetricNames.*;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.alphawatch.core.analysis.SpectrumReport;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.pipeline.LayerSnapshot;
import org.alphawatch.pipeline.Monitor;
import org.alphawatch.pipeline.MonitorObserver;
import org.alphawatch.pipeline.MonitorObserver.Stage;
import org.alphawatch.pipeline.RejectReason;
import org.alphawatch.pipeline.Removal;

/**
 * Publishes the monitor to Micrometer (Prometheus registry). Per-layer gauges read a value object
 * that each snapshot replaces; gauges are registered with strong references, so they live exactly
 * as long as the layer, and every series of a deleted run is removed. Thread-safe.
 */
public final class MonitorMetrics implements MonitorObserver {
    private final PrometheusMeterRegistry registry;
    private final Map<LayerKey, LayerMeters> layers = new ConcurrentHashMap<>();
    private final Map<RejectReason, Counter> rejected = new ConcurrentHashMap<>();
    private final Counter duplicates;
    private volatile Monitor monitor;
    private final Map<Stage, Timer> stages = new java.util.EnumMap<>(Stage.class);

    /** Latest values of one layer; a snapshot swaps the whole object. */
    private static final class LayerMeters {
        volatile LayerSnapshot snapshot;
        volatile double lastUpdateSeconds = Double.NaN;
        final List<Meter> meters = new ArrayList<>();
        Counter samples;
        Counter batches;
        Counter bytes;
        Counter coalesced;
        Counter failures;
        Timer refresh;
        int exportedRanks;
    }

    /** Layers with their own series by default: beyond, a layer is counted in {@code alphawatch_metrics_layers_omitted}. */
    public static final int DEFAULT_MAX_LAYERS = 1024;

    private final int maxLayers;
    private final java.util.concurrent.atomic.AtomicLong omitted = new java.util.concurrent.atomic.AtomicLong();

    public MonitorMetrics() {
        this(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), DEFAULT_MAX_LAYERS);
    }

    /**
     * @param maxLayers layers that get per-layer series (about 50 each); the exposition of 64 runs x
     *                  256 layers would otherwise be tens of MB per scrape
     */
    public MonitorMetrics(PrometheusMeterRegistry registry, int maxLayers) {
        this.registry = registry;
        this.maxLayers = maxLayers;
        Gauge.builder(METRICS_LAYERS_OMITTED, omitted, java.util.concurrent.atomic.AtomicLong::get).strongReference(true)
                .description("Layers without per-layer series (over metrics-max-layers)").register(registry);
        for (Stage stage : Stage.values()) {
            stages.put(stage, Timer.builder(INGEST_STAGE).tag(TAG_STAGE, stage.name().toLowerCase(java.util.Locale.ROOT))
                    .description("Time a batch spends in each ingest stage").register(registry));
        }
        for (RejectReason r : RejectReason.values()) {
            rejected.put(r, Counter.builder(INGEST_REJECTED).tag(TAG_REASON, r.label())
                    .description("Batches or requests refused, by reason").register(registry));
        }
        duplicates = Counter.builder(INGEST_DUPLICATES)
                .description("Numbered requests received again (client retries), acknowledged and not applied twice")
                .register(registry);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** Registers the monitor-wide gauges (queue, memory, layer count). */
    public void bind(Monitor monitor) {
        this.monitor = monitor;
        Gauge.builder(QUEUE_BATCHES, monitor, Monitor::queuedBatches).strongReference(true)
                .description("Admitted batches not yet applied").register(registry);
        Gauge.builder(QUEUE_BYTES, monitor, Monitor::queuedBytes).baseUnit("bytes").strongReference(true)
                .description("Bytes of admitted batches not yet applied").register(registry);
        Gauge.builder(ACCUMULATOR_MEMORY, monitor, Monitor::memoryChargedBytes).baseUnit("bytes")
                .strongReference(true).description("Accumulator memory charged to layers").register(registry);
        Gauge.builder(LAYERS, layers, Map::size).strongReference(true).description("Layers monitored")
                .register(registry);
    }

    /** The durable state's health (mode none: always healthy, no failures). */
    public void bindDurability(org.alphawatch.durability.DurabilityHealth health) {
        Gauge.builder(DURABILITY_HEALTHY, health, h -> h.healthy() ? 1 : 0).strongReference(true)
                .description("1 while the last checkpoint and the last write-ahead log write succeeded").register(registry);
        Gauge.builder(DURABILITY_LAST_CHECKPOINT, health, h -> h.status().lastCheckpointMillis() < 0 ? Double.NaN
                : h.status().lastCheckpointMillis() / 1000.0).baseUnit("seconds").strongReference(true)
                .description("Unix time of the last successful checkpoint").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder(DURABILITY_CHECKPOINT_FAILURES, health,
                h -> h.status().checkpointFailures()).description("Checkpoints that failed").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder(DURABILITY_WAL_FAILURES, health,
                h -> h.status().walFailures()).description("Write-ahead log writes or rotations that failed")
                .register(registry);
        Gauge.builder(DURABILITY_WAL_BYTES, health, h -> h.status().walBytesOnDisk()).baseUnit("bytes")
                .strongReference(true).description("Size of the write-ahead log segments on disk").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder(DURABILITY_WAL_WRITTEN, health,
                h -> h.status().walBytesWritten()).baseUnit("bytes").description("Bytes written to the write-ahead log")
                .register(registry);
    }

    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void layerCreated(LayerKey key, int dims, long costBytes) {
        if (!layers.containsKey(key) && layers.size() >= maxLayers) {
            omitted.incrementAndGet();
            return;
        }
        layers.computeIfAbsent(key, k -> {
            LayerMeters m = new LayerMeters();
            Tags tags = Tags.of(TAG_RUN, k.run(), TAG_LAYER, k.layer());
            m.samples = Counter.builder(INGEST_SAMPLES).tags(tags).description("Samples (rows) applied").register(registry);
            m.batches = Counter.builder(INGEST_BATCHES).tags(tags).description("Batches applied").register(registry);
            m.bytes = Counter.builder(INGEST_BYTES).tags(tags).baseUnit("bytes").description("Activation bytes applied")
                    .register(registry);
            m.coalesced = Counter.builder(REFRESH_COALESCED).tags(tags)
                    .description("Refresh requests merged into the follow-up of a running refresh").register(registry);
            m.failures = Counter.builder(REFRESH_FAILURES).tags(tags)
                    .description("Refreshes that failed; the spectrum shown is older").register(registry);
            m.refresh = Timer.builder(REFRESH).tags(tags).description("Wall time of a spectrum refresh")
                    .register(registry);
            m.meters.addAll(List.of(m.samples, m.batches, m.bytes, m.coalesced, m.failures, m.refresh));
            gauge(m, tags, ALPHA, "Power-law exponent alpha of the eigenspectrum", r -> r.alpha());
            gauge(m, tags, ALPHA_R2, "r^2 of the log-log power-law fit", r -> r.fit().r2());
            gauge(m, tags, ALPHA_CI_LOWER, "Lower end of the 95% jackknife interval of alpha",
                    r -> r.alphaInterval() == null ? Double.NaN : r.alphaInterval().lo());
            gauge(m, tags, ALPHA_CI_UPPER, "Upper end of the 95% jackknife interval of alpha",
                    r -> r.alphaInterval() == null ? Double.NaN : r.alphaInterval().hi());
            gauge(m, tags, EFFECTIVE_RANK, "Effective rank exp(entropy of normalized eigenvalues)",
                    r -> r.metrics().effectiveRank());
            gauge(m, tags, PARTICIPATION_RATIO, "Participation ratio (sum l)^2 / sum l^2",
                    r -> r.metrics().participationRatio());
            gauge(m, tags, STABLE_RANK, "Stable rank sum l / l_1", r -> r.metrics().stableRank());
            gauge(m, tags, CVPCA_ALPHA, "alpha of the cross-validated (cvPCA) spectrum",
                    r -> r.crossValidated() == null ? Double.NaN : r.crossValidated().fit().alpha());
            snapshotGauge(m, tags, WINDOW_SAMPLES, "Samples in the window the spectrum describes",
                    s -> s.windowSamples());
            snapshotGauge(m, tags, STEP, "Last training step in the window", s -> s.step());
            snapshotGauge(m, tags, ENERGY_SLOPE, "Slope of log trajectory energy vs log sampling density",
                    s -> s.projection() == null ? Double.NaN : s.projection().slopeOrNaN());
            snapshotGauge(m, tags, READOUT_R2, "Cross-validated R^2 of a linear read-out of the probe latent",
                    s -> s.projection() == null ? Double.NaN : s.projection().readoutR2());
            m.meters.add(Gauge.builder(LAST_UPDATE, m, x -> x.lastUpdateSeconds).tags(tags).baseUnit("seconds")
                    .strongReference(true).description("Unix time of the last applied batch").register(registry));
            m.meters.add(Gauge.builder(LAYER_ENDED, this, x -> x.monitor == null ? Double.NaN
                            : x.monitor.ended(k) ? 1 : 0).tags(tags).strongReference(true)
                    .description("1 when the layer's run was ended by its sender (no staleness alerts)").register(registry));
            return m;
        });
    }

    private void gauge(LayerMeters m, Tags tags, String name, String help, ToDoubleFunction<SpectrumReport> f) {
        snapshotGauge(m, tags, name, help, s -> f.applyAsDouble(s.report()));
    }

    private void snapshotGauge(LayerMeters m, Tags tags, String name, String help, ToDoubleFunction<LayerSnapshot> f) {
        m.meters.add(Gauge.builder(name, m, x -> x.snapshot == null ? Double.NaN : f.applyAsDouble(x.snapshot))
                .tags(tags).description(help).strongReference(true).register(registry));
    }

    @Override
    public void batchApplied(LayerKey key, int rows, long bytes) {
        LayerMeters m = layers.get(key);
        if (m != null) {
            m.samples.increment(rows);
            m.batches.increment();
            m.bytes.increment(bytes);
            m.lastUpdateSeconds = System.currentTimeMillis() / 1000.0;
        }
    }

    @Override
    public void timed(Stage stage, long nanos) {
        stages.get(stage).record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void rejected(RejectReason reason) {
        rejected.get(reason).increment();
    }

    private final Map<String, Counter> httpErrors = new ConcurrentHashMap<>();

    /** Registers the query-side error codes (the server's), each a series of alphawatch_http_errors_total. */
    public void registerHttpErrors(java.util.Collection<String> labels) {
        for (String label : labels) {
            httpErrors.computeIfAbsent(label, l -> Counter.builder(HTTP_ERRORS).tag(TAG_ERROR, l)
                    .description("Query-side error answers, by code").register(registry));
        }
    }

    public void httpError(String label) {
        Counter c = httpErrors.get(label);
        if (c != null) {
            c.increment();
        }
    }

    @Override
    public void duplicate(LayerKey key) {
        duplicates.increment();
    }

    @Override
    public void refreshCoalesced(LayerKey key) {
        LayerMeters m = layers.get(key);
        if (m != null) {
            m.coalesced.increment();
        }
    }

    @Override
    public void refreshFailed(LayerKey key) {
        LayerMeters m = layers.get(key);
        if (m != null) {
            m.failures.increment();
        }
    }

    @Override
    public void refreshed(LayerKey key, double seconds) {
        LayerMeters m = layers.get(key);
        if (m != null) {
            m.refresh.record((long) (seconds * 1e9), TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void snapshot(LayerSnapshot snapshot) {
        LayerMeters m = layers.get(snapshot.key());
        if (m == null) {
            return;
        }
        m.snapshot = snapshot;
        int k = snapshot.report().spectrum().size();
        synchronized (m) {
            Tags tags = Tags.of(TAG_RUN, snapshot.key().run(), TAG_LAYER, snapshot.key().layer());
            for (int rank : SPECTRUM_RANKS) {
                if (rank > k || rank <= m.exportedRanks) {
                    continue;
                }
                final int r = rank;
                m.meters.add(Gauge.builder(EIGENVALUE, m, x -> eigenvalueAt(x.snapshot, r))
                        .tags(tags.and(TAG_RANK, Integer.toString(rank))).strongReference(true)
                        .description("Normalized eigenvalue at a fixed log-spaced rank").register(registry));
                m.exportedRanks = rank;
            }
        }
    }

    private static double eigenvalueAt(LayerSnapshot s, int rank) {
        if (s == null || rank > s.report().spectrum().size() || s.report().spectrum().trace() <= 0) {
            return Double.NaN;
        }
        return s.report().spectrum().eigenvalue(rank) / s.report().spectrum().trace();
    }

    @Override
    public void layerRemoved(LayerKey key, Removal why) {
        LayerMeters m = layers.remove(key);
        if (m == null) {
            omitted.updateAndGet(n -> Math.max(0, n - 1));
        }
        if (m != null) {
            synchronized (m) {
                for (Meter meter : m.meters) {
                    registry.remove(meter);
                }
            }
        }
    }

    /** Records an alert (kind is a fixed enum label); a null key is a monitor-wide alert (run and layer "*"). */
    public void alert(LayerKey key, String kind) {
        String run = key == null ? "*" : key.run();
        String layer = key == null ? "*" : key.layer();
        Counter c = Counter.builder(ALERTS).tags(TAG_RUN, run, TAG_LAYER, layer, TAG_KIND, kind)
                .description("Spectrum-change alerts raised").register(registry);
        c.increment();
        LayerMeters m = key == null ? null : layers.get(key);
        if (m != null) {
            synchronized (m) {
                if (!m.meters.contains(c)) {
                    m.meters.add(c);
                }
            }
        }
    }
}
