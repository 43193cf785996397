package org.alphawatch.metrics;

/**
 * Every metric alphawatch exports, in one place: the Micrometer name here becomes the Prometheus
 * name in the comment (dots to underscores, {@code _total} for counters, the base unit appended).
 * Labels: {@code run} and {@code layer} (validated names, bounded by max-runs and
 * max-layers-per-run), {@code reason} (a fixed enum), {@code rank} ({@link #SPECTRUM_RANKS}: 28 fixed values).
 */
public final class MetricNames {
    /** alphawatch_spectrum_alpha{run,layer} */
    public static final String ALPHA = "alphawatch.spectrum.alpha";
    /** alphawatch_spectrum_alpha_r2{run,layer} */
    public static final String ALPHA_R2 = "alphawatch.spectrum.alpha.r2";
    /** alphawatch_spectrum_alpha_ci_lower{run,layer}, NaN without jackknife groups */
    public static final String ALPHA_CI_LOWER = "alphawatch.spectrum.alpha.ci.lower";
    /** alphawatch_spectrum_alpha_ci_upper{run,layer} */
    public static final String ALPHA_CI_UPPER = "alphawatch.spectrum.alpha.ci.upper";
    /** alphawatch_spectrum_effective_rank{run,layer} */
    public static final String EFFECTIVE_RANK = "alphawatch.spectrum.effective.rank";
    /** alphawatch_spectrum_participation_ratio{run,layer} */
    public static final String PARTICIPATION_RATIO = "alphawatch.spectrum.participation.ratio";
    /** alphawatch_spectrum_stable_rank{run,layer} */
    public static final String STABLE_RANK = "alphawatch.spectrum.stable.rank";
    /** alphawatch_spectrum_window_samples{run,layer} */
    public static final String WINDOW_SAMPLES = "alphawatch.spectrum.window.samples";
    /** alphawatch_spectrum_step{run,layer}: the last training step in the window */
    public static final String STEP = "alphawatch.spectrum.step";
    /** alphawatch_spectrum_cvpca_alpha{run,layer}, NaN without repeats */
    public static final String CVPCA_ALPHA = "alphawatch.spectrum.cvpca.alpha";
    /** alphawatch_spectrum_eigenvalue{run,layer,rank}: normalized eigenvalue at log-spaced ranks */
    public static final String EIGENVALUE = "alphawatch.spectrum.eigenvalue";
    /** alphawatch_projection_energy_slope{run,layer}, NaN without probes at two densities */
    public static final String ENERGY_SLOPE = "alphawatch.projection.energy.slope";
    /** alphawatch_projection_readout_r2{run,layer}, NaN without probe latents */
    public static final String READOUT_R2 = "alphawatch.projection.readout.r2";
    /** alphawatch_spectrum_refresh_seconds_{count,sum,max}{run,layer} */
    public static final String REFRESH = "alphawatch.spectrum.refresh";
    /** alphawatch_spectrum_refresh_failures_total{run,layer}: refreshes that threw (the spectrum shown is older) */
    public static final String REFRESH_FAILURES = "alphawatch.spectrum.refresh.failures";
    /** alphawatch_spectrum_refresh_coalesced_total{run,layer}: refresh requests merged into a running one's follow-up */
    public static final String REFRESH_COALESCED = "alphawatch.spectrum.refresh.coalesced";
    /** alphawatch_ingest_samples_total{run,layer} */
    public static final String INGEST_SAMPLES = "alphawatch.ingest.samples";
    /** alphawatch_ingest_batches_total{run,layer} */
    public static final String INGEST_BATCHES = "alphawatch.ingest.batches";
    /** alphawatch_ingest_bytes_total{run,layer} */
    public static final String INGEST_BYTES = "alphawatch.ingest.bytes";
    /** alphawatch_ingest_stage_seconds_{count,sum,max}{stage}: decode, queue_wait, apply */
    public static final String INGEST_STAGE = "alphawatch.ingest.stage";
    /** alphawatch_kafka_partitions_owned: partitions this worker owns */
    public static final String KAFKA_PARTITIONS_OWNED = "alphawatch.kafka.partitions.owned";
    /** alphawatch_kafka_partitions_refused: owned partitions paused because their checkpoint or offsets are unusable */
    public static final String KAFKA_PARTITIONS_REFUSED = "alphawatch.kafka.partitions.refused";
    /** alphawatch_kafka_partitions_without_live_owner: partitions no live node owns (every node exports it) */
    public static final String KAFKA_PARTITIONS_UNOWNED = "alphawatch.kafka.partitions.without.live.owner";
    /** alphawatch_kafka_unreachable_peers: owners that did not answer their last probe */
    public static final String KAFKA_UNREACHABLE_PEERS = "alphawatch.kafka.unreachable.peers";
    /** alphawatch_kafka_records_applied_total: records this worker handed to its monitor */
    public static final String KAFKA_RECORDS_APPLIED = "alphawatch.kafka.records.applied";
    /** alphawatch_kafka_records_refused_total{reason}: acknowledged records a worker refused (kept in the refused topic) */
    public static final String KAFKA_RECORDS_REFUSED = "alphawatch.kafka.records.refused";
    /** alphawatch_kafka_consumer_lag_records: records this worker's partitions are behind their ends */
    public static final String KAFKA_LAG = "alphawatch.kafka.consumer.lag.records";
    /** alphawatch_kafka_checkpoint_age_seconds: since this worker's last partition checkpoint */
    public static final String KAFKA_CHECKPOINT_AGE = "alphawatch.kafka.checkpoint.age.seconds";
    /** alphawatch_kafka_checkpoint_bytes: size of the last partition checkpoint written */
    public static final String KAFKA_CHECKPOINT_BYTES = "alphawatch.kafka.checkpoint.bytes";
    /** alphawatch_kafka_checkpoint_failures_total */
    public static final String KAFKA_CHECKPOINT_FAILURES = "alphawatch.kafka.checkpoint.failures";
    /** alphawatch_kafka_records_published_total: batches this ingest node had acknowledged by Kafka */
    public static final String KAFKA_PUBLISHED = "alphawatch.kafka.records.published";
    /** alphawatch_kafka_publish_errors_total: batches Kafka did not acknowledge (answered 503) */
    public static final String KAFKA_PUBLISH_ERRORS = "alphawatch.kafka.publish.errors";
    /** alphawatch_kafka_publish_seconds_mean: mean time from send to Kafka's acknowledgement */
    public static final String KAFKA_PUBLISH_SECONDS = "alphawatch.kafka.publish.seconds.mean";
    /** alphawatch_kafka_group_lag_records: the workers' lag as the ingest node sees it (committed vs ends) */
    public static final String KAFKA_GROUP_LAG = "alphawatch.kafka.group.lag.records";
    /** alphawatch_http_errors_total{error}: query-side error answers (not found, restoring, partition moving...) */
    public static final String HTTP_ERRORS = "alphawatch.http.errors";
    /** The label of {@link #HTTP_ERRORS}. */
    public static final String TAG_ERROR = "error";
    /** alphawatch_ingest_rejected_total{reason} */
    public static final String INGEST_REJECTED = "alphawatch.ingest.rejected";
    /** alphawatch_ingest_duplicates_total: numbered requests received again (retries) and not applied twice */
    public static final String INGEST_DUPLICATES = "alphawatch.ingest.duplicates";
    /** alphawatch_layer_ended{run,layer}: 1 when the run was ended by its sender */
    public static final String LAYER_ENDED = "alphawatch.layer.ended";
    /** alphawatch_layer_last_update_timestamp_seconds{run,layer} */
    public static final String LAST_UPDATE = "alphawatch.layer.last.update.timestamp";
    /** alphawatch_queue_batches: admitted batches not yet applied */
    public static final String QUEUE_BATCHES = "alphawatch.queue.batches";
    /** alphawatch_queue_bytes */
    public static final String QUEUE_BYTES = "alphawatch.queue";
    /** alphawatch_accumulator_memory_bytes: memory charged to layers */
    public static final String ACCUMULATOR_MEMORY = "alphawatch.accumulator.memory";
    /** alphawatch_layers */
    public static final String LAYERS = "alphawatch.layers";
    /** alphawatch_durability_healthy: 1 while the last checkpoint and the last log write succeeded */
    public static final String DURABILITY_HEALTHY = "alphawatch.durability.healthy";
    /** alphawatch_durability_last_checkpoint_timestamp_seconds: Unix time of the last successful checkpoint */
    public static final String DURABILITY_LAST_CHECKPOINT = "alphawatch.durability.last.checkpoint.timestamp";
    /** alphawatch_durability_checkpoint_failures_total */
    public static final String DURABILITY_CHECKPOINT_FAILURES = "alphawatch.durability.checkpoint.failures";
    /** alphawatch_durability_wal_failures_total: log writes (groups) or rotations that failed */
    public static final String DURABILITY_WAL_FAILURES = "alphawatch.durability.wal.failures";
    /** alphawatch_durability_wal_bytes: size of the log segments on disk */
    public static final String DURABILITY_WAL_BYTES = "alphawatch.durability.wal";
    /** alphawatch_durability_wal_written_bytes_total */
    public static final String DURABILITY_WAL_WRITTEN = "alphawatch.durability.wal.written";
    /** alphawatch_metrics_layers_omitted: layers beyond metrics-max-layers, without per-layer series */
    public static final String METRICS_LAYERS_OMITTED = "alphawatch.metrics.layers.omitted";
    /** alphawatch_alerts_total{run,layer,kind} */
    public static final String ALERTS = "alphawatch.alerts";

    public static final String TAG_RUN = "run";
    public static final String TAG_LAYER = "layer";
    public static final String TAG_REASON = "reason";
    public static final String TAG_RANK = "rank";
    public static final String TAG_KIND = "kind";
    public static final String TAG_STAGE = "stage";

    /** The fixed ranks exported for the spectrum: powers of sqrt(2), rounded (28 values). */
    public static final int[] SPECTRUM_RANKS = {1, 2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128, 181, 256, 362, 512,
        724, 1024, 1448, 2048, 2896, 4096, 5793, 8192, 11585, 16384};

    private MetricNames() {}
}
