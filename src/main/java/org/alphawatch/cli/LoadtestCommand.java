package org.alphawatch.cli;

import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.alphawatch.attach.RetryAfter;
import org.alphawatch.core.linalg.LinearAlgebra;
import org.alphawatch.core.spectrum.EigenSolver;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.server.MonitorService;
import org.alphawatch.server.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import org.alphawatch.report.JsonFields;

/**
 * {@code alphawatch loadtest}: N concurrent producers POST .npy batches over loopback for a fixed
 * time; reports sustained batches/s and MB/s, client latency percentiles, 429s, where the
 * server's time goes (decode, queue wait, apply, refresh), checks that every acknowledged sample
 * is in the accumulators, and reports the rate applied end to end (which, against a scale-out
 * ingest node, is not the rate Kafka acknowledged).
 */
@Command(name = "loadtest", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Drive concurrent producers against a server (in-process on loopback, or --url) and report",
            "throughput, latency, 429s, the server's time per stage, and whether every acknowledged sample arrived."})
final class LoadtestCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--url", paramLabel = "URL", description = "a running server (default: start one in-process)")
    String url;
    @Option(names = "--producers", paramLabel = "N", defaultValue = "4", description = "concurrent producers (default ${DEFAULT-VALUE})")
    int producers;
    @Option(names = "--layers", paramLabel = "N", defaultValue = "4", description = "layers, producers spread over them (default ${DEFAULT-VALUE})")
    int layers;
    @Option(names = "--dims", paramLabel = "d", defaultValue = "1024", description = "units per layer (default ${DEFAULT-VALUE})")
    int dims;
    @Option(names = "--rows", paramLabel = "b", defaultValue = "256", description = "rows per batch (default ${DEFAULT-VALUE})")
    int rows;
    @Option(names = "--seconds", paramLabel = "S", defaultValue = "20", description = "duration (default ${DEFAULT-VALUE})")
    int seconds;
    @Option(names = "--run", paramLabel = "NAME", defaultValue = "loadtest", description = "run name (default ${DEFAULT-VALUE})")
    String run;

    private final EigenSolver solver;

    public LoadtestCommand(EigenSolver solver) {
        this.solver = solver;
    }

    private record ProducerResult(long accepted, long acceptedRows, long acceptedBytes, long throttled, long failed,
                                  long[] latencies, int latencyCount, Map<String, Long> failures) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (producers < 1 || layers < 1 || dims < 2 || rows < 1 || seconds < 1) {
            throw new UserInputException("--producers, --layers, --rows and --seconds must be >= 1 and --dims >= 2");
        }
        MonitorService local = null;
        String base = url;
        if (base == null) {
            ServerConfig config = ServeSettings.defaults().set("port", 0).build(Map.of());
            local = MonitorService.create(config, solver).start();
            base = local.server().baseUrl();
        }
        try {
            return drive(out, base, local);
        } finally {
            if (local != null) {
                local.close();
            }
        }
    }

    private int drive(PrintWriter out, String base, MonitorService local) throws Exception {
        String token = System.getenv(ServeSettings.TOKEN_ENV);
        byte[][] bodies = new byte[producers][];
        for (int p = 0; p < producers; p++) {
            Random random = new Random(p);
            float[] x = new float[rows * dims];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (random.nextGaussian() / Math.sqrt(1 + i % dims));
            }
            bodies[p] = NpyWriter.toBytes(x, rows, dims);
        }
        out.printf(Locale.ROOT, "loadtest: %d producers -> %s, %d layers of %d units, %d-row float32 batches (%.2f MB), %d s%n",
                producers, base, layers, dims, rows, bodies[0].length / 1e6, seconds);
        out.flush();
        double perBatch = updateSeconds(rows, dims);
        double roofline = Runtime.getRuntime().availableProcessors() / perBatch;
        Map<String, Double> before = scrape(base, token);
        long samplesBefore = runSamples(base, token, run);
        ExecutorService pool = Executors.newFixedThreadPool(producers);
        long start = System.nanoTime();
        long deadline = start + Duration.ofSeconds(seconds).toNanos();
        List<Future<ProducerResult>> futures = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            final int producer = p;
            final String target = base;
            futures.add(pool.submit(() -> produce(target, token, producer, bodies[producer], deadline)));
        }
        long accepted = 0;
        long acceptedRows = 0;
        long bytes = 0;
        long throttled = 0;
        long failed = 0;
        long[] all = new long[0];
        Map<String, Long> failures = new java.util.TreeMap<>();
        for (Future<ProducerResult> f : futures) {
            ProducerResult r = f.get();
            r.failures().forEach((k, v) -> failures.merge(k, v, Long::sum));
            accepted += r.accepted();
            acceptedRows += r.acceptedRows();
            bytes += r.acceptedBytes();
            throttled += r.throttled();
            failed += r.failed();
            long[] merged = Arrays.copyOf(all, all.length + r.latencyCount());
            System.arraycopy(r.latencies(), 0, merged, all.length, r.latencyCount());
            all = merged;
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        if (local != null) {
            local.monitor().awaitIdle(Duration.ofSeconds(120));
        }
        // The run's samples as the server (or, in scale-out, the whole cluster) reports them: wait
        // until every acknowledged sample is in, or a minute passes without progress.
        long target = samplesBefore + acceptedRows;
        long inAccumulators = runSamples(base, token, run);
        long lastProgress = System.nanoTime();
        while (inAccumulators < target && System.nanoTime() - lastProgress < Duration.ofSeconds(60).toNanos()) {
            Thread.sleep(250);
            long now = runSamples(base, token, run);
            if (now != inAccumulators) {
                lastProgress = System.nanoTime();
            }
            inAccumulators = now;
        }
        double drained = (System.nanoTime() - start) / 1e9;
        Arrays.sort(all);
        out.printf(Locale.ROOT, "sent for %.1f s: %d batches accepted (%.1f batches/s, %.1f MB/s, %.0f samples/s), "
                        + "%d answered 429, %d failed%s%n", elapsed, accepted, accepted / elapsed, bytes / elapsed / 1e6,
                acceptedRows / elapsed, throttled, failed, failures.isEmpty() ? "" : " " + failures);
        out.printf(Locale.ROOT, "ingest latency (request to 202): p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
                percentile(all, 0.50), percentile(all, 0.99), all.length == 0 ? 0 : all[all.length - 1] / 1e6);
        Map<String, Double> after = scrape(base, token);
        out.println("server time per batch:");
        for (String stage : new String[] {"decode", "queue_wait", "apply"}) {
            double s = delta(before, after, "alphawatch_ingest_stage_seconds_sum{stage=\"" + stage + "\"}");
            double n = delta(before, after, "alphawatch_ingest_stage_seconds_count{stage=\"" + stage + "\"}");
            out.printf(Locale.ROOT, "  %-10s %8.2f ms mean over %.0f batches%n", stage, n == 0 ? 0 : 1e3 * s / n, n);
        }
        double refreshSeconds = sumMatching(after, "alphawatch_spectrum_refresh_seconds_sum", run)
                - sumMatching(before, "alphawatch_spectrum_refresh_seconds_sum", run);
        double refreshes = sumMatching(after, "alphawatch_spectrum_refresh_seconds_count", run)
                - sumMatching(before, "alphawatch_spectrum_refresh_seconds_count", run);
        out.printf(Locale.ROOT, "  refresh    %8.2f s mean over %.0f refreshes (on the compute pool)%n",
                refreshes == 0 ? 0 : refreshSeconds / refreshes, refreshes);
        out.printf(Locale.ROOT, "roofline: %.1f batches/s (the covariance update alone: %.2f ms per batch on one core, "
                + "%.1f GFLOP/s, on all %d cores); achieved %.0f%%%n", roofline, 1e3 * perBatch,
                (double) rows * dims * (dims + 1) / perBatch / 1e9, Runtime.getRuntime().availableProcessors(),
                100 * accepted / elapsed / roofline);
        long served = inAccumulators - samplesBefore;
        boolean complete = served == acceptedRows;
        out.printf(Locale.ROOT, "acknowledged samples %d, in the accumulators %d (after %.1f s): %s%n", acceptedRows,
                served, drained, complete ? "all there" : served > acceptedRows ? "EXTRA " + (served - acceptedRows)
                        : "MISSING " + (acceptedRows - served));
        // What a user gets: rows applied per second end to end (acknowledged is not applied: in
        // scale-out a 202 is Kafka's acknowledgement, and workers may be behind).
        out.printf(Locale.ROOT, "end to end: %.1f batches/s applied (%.0f samples/s; the last acknowledged row was "
                + "applied %.1f s after the last 202), against %.1f batches/s acknowledged%n",
                served / (double) rows / drained, served / drained, drained - elapsed, accepted / elapsed);
        out.flush();
        return complete && failed == 0 ? ExitCodes.OK : ExitCodes.FAILURE;
    }

    /**
     * Seconds one covariance update of a rows x dims float32 batch takes on one core, as the server
     * runs it (one OpenBLAS thread per call): the roofline is the cores' worth of these.
     */
    static double updateSeconds(int rows, int dims) {
        float[] x = new float[rows * dims];
        Random random = new Random(7);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        LinearAlgebra.setNativeThreads(1);
        CovarianceAccumulator acc = CovarianceAccumulator.create(dims);
        acc.update(x, rows); // warm-up
        int n = 0;
        long start = System.nanoTime();
        do {
            acc.update(x, rows);
            n++;
        } while (System.nanoTime() - start < 1_000_000_000L || n < 3);
        return (System.nanoTime() - start) / 1e9 / n;
    }

    private ProducerResult produce(String base, String token, int producer, byte[] body, long deadline)
            throws InterruptedException {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        String layer = "L" + (producer % layers);
        long[] lat = new long[1 << 16];
        int n = 0;
        long accepted = 0;
        long throttled = 0;
        long failed = 0;
        long step = 0;
        Map<String, Long> failures = new java.util.TreeMap<>();
        while (System.nanoTime() < deadline) {
            HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base + "/v1/runs/" + run + "/layers/" + layer
                    + "/batches?step=" + step)).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/octet-stream").POST(HttpRequest.BodyPublishers.ofByteArray(body));
            if (token != null) {
                req.header("Authorization", "Bearer " + token);
            }
            long t0 = System.nanoTime();
            try {
                HttpResponse<Void> r = client.send(req.build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 202) {
                    if (n == lat.length) {
                        lat = Arrays.copyOf(lat, 2 * n);
                    }
                    lat[n++] = System.nanoTime() - t0;
                    accepted++;
                    step++;
                } else if (r.statusCode() == 429) {
                    throttled++;
                    Thread.sleep(RetryAfter.parse(r.headers().firstValue("Retry-After"), java.time.Clock.systemUTC())
                            .toMillis());
                } else {
                    failed++;
                    failures.merge("HTTP " + r.statusCode(), 1L, Long::sum);
                }
            } catch (java.io.IOException e) {
                failed++;
                failures.merge(e.getClass().getSimpleName(), 1L, Long::sum);
            }
        }
        return new ProducerResult(accepted, accepted * rows, accepted * body.length, throttled, failed, lat, n, failures);
    }

    private static double percentile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1e6;
    }

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*(\\{[^}]*})?) (\\S+)$");

    /** The run's total samples from GET /v1/runs/{run} (the whole cluster's, in scale-out); 0 when absent. */
    static long runSamples(String base, String token, String run) throws Exception {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base + "/v1/runs/" + run)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            req.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> r = HttpClient.newHttpClient().send(req.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 404) {
            return 0;
        }
        long total = 0;
        for (com.fasterxml.jackson.databind.JsonNode layer : new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(r.body()).get(JsonFields.LAYERS)) {
            total += layer.get(JsonFields.TOTAL_SAMPLES).asLong();
        }
        return total;
    }

    static Map<String, Double> scrape(String base, String token) throws Exception {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base + "/metrics")).timeout(Duration.ofSeconds(10));
        if (token != null) {
            req.header("Authorization", "Bearer " + token);
        }
        String text = HttpClient.newHttpClient().send(req.build(), HttpResponse.BodyHandlers.ofString()).body();
        Map<String, Double> values = new java.util.HashMap<>();
        for (String line : text.split("\n")) {
            Matcher m = SAMPLE.matcher(line.trim());
            if (m.matches()) {
                try {
                    values.put(m.group(1), Double.parseDouble(m.group(3)));
                } catch (NumberFormatException e) {
                    // NaN and friends parse; anything else is not a sample
                }
            }
        }
        return values;
    }

    private static double delta(Map<String, Double> before, Map<String, Double> after, String key) {
        return after.getOrDefault(key, 0.0) - before.getOrDefault(key, 0.0);
    }

    private static double sumMatching(Map<String, Double> values, String name, String run) {
        double s = 0;
        for (Map.Entry<String, Double> e : values.entrySet()) {
            if (e.getKey().startsWith(name + "{") && e.getKey().contains("run=\"" + run + "\"")) {
                s += e.getValue();
            }
        }
        return s;
    }
}
