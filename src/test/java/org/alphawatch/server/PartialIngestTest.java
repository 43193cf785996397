package org.alphawatch.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.zip.CRC32;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.io.NpyWriter;
import org.alphawatch.pipeline.MonitorConfig;
import org.alphawatch.io.PartialMoments;
import org.alphawatch.testing.Dense;
import org.alphawatch.testing.Http;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Test;

/**
 * Partial accumulators (a trainer's own count, mean and co-moment of many rows) merge exactly:
 * the same rows sent as rows to one layer and as partials to another give the same spectrum, to
 * 1e-10 relative (both sum the same float64 moments, in another order); repeat pairs aggregated
 * by the sender give the same cvPCA spectrum as row pairs. Malformed partials are refused and
 * change nothing.
 */
class PartialIngestTest {
    static final int D = 12;

    /** Moments of rows x[from, to) as a sender computes them (two-pass, float64). */
    static PartialMoments moments(double[] x, int from, int to, long step) {
        int n = to - from;
        double[] rows = java.util.Arrays.copyOfRange(x, from * D, to * D);
        double[] mean = Dense.exactMean(rows, n, D);
        double[] upper = new double[D * (D + 1) / 2];
        int k = 0;
        for (int i = 0; i < D; i++) {
            for (int j = i; j < D; j++) {
                double s = 0;
                for (int r = 0; r < n; r++) {
                    s += (rows[r * D + i] - mean[i]) * (rows[r * D + j] - mean[j]);
                }
                upper[k++] = s;
            }
        }
        return PartialMoments.of(D, n, step, step, mean, upper);
    }

    static double[] eigen(JsonNode s) {
        return eigen(s, "eigenvalues");
    }

    static double[] eigen(JsonNode s, String field) {
        double[] v = new double[s.get(field).size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = s.get(field).get(i).asDouble();
        }
        return v;
    }

    @Test
    void partialsMergeExactlyLikeTheirRows() throws Exception {
        double[] x = Dense.powerLawSamples(new Random(5), 2000, D, 1.3);
        for (int i = 0; i < x.length; i++) {
            x[i] += 3 * (i % D); // offsets: the merge must centre correctly
        }
        try (MonitorService service = TestServers.start(TestServers.manualRefresh(WindowMode.CUMULATIVE, 0))) {
            Http http = new Http(service.server().baseUrl());
            int[] cuts = {0, 300, 301, 950, 1400, 2000}; // partials of very different sizes, one of a single row
            for (int c = 0; c + 1 < cuts.length; c++) {
                double[] rows = java.util.Arrays.copyOfRange(x, cuts[c] * D, cuts[c + 1] * D);
                assertThat(http.post("/v1/runs/p/layers/rows/batches?step=" + c, NpyWriter.toBytes(rows,
                        cuts[c + 1] - cuts[c], D)).status()).isEqualTo(202);
                Http.Response r = http.post("/v1/runs/p/layers/merged/partials?source=rank0",
                        moments(x, cuts[c], cuts[c + 1], c).encode());
                assertThat(r.status()).as(r.body()).isEqualTo(202);
                assertThat(r.json().get("kind").asText()).isEqualTo("partial");
                assertThat(r.json().get("rows").asLong()).isEqualTo(cuts[c + 1] - cuts[c]);
            }
            TestServers.settle(service);
            JsonNode rows = http.get("/v1/runs/p/layers/rows/spectrum").json();
            JsonNode merged = http.get("/v1/runs/p/layers/merged/spectrum").json();
            assertThat(merged.get("samples").asLong()).isEqualTo(2000);
            assertThat(merged.get("step_range").toString()).isEqualTo("[0,4]");
            assertThat(Dense.relativeError(eigen(merged), eigen(rows))).isLessThan(1e-10);
            assertThat(merged.get("alpha").asDouble()).isCloseTo(rows.get("alpha").asDouble(),
                    org.assertj.core.data.Offset.offset(1e-9));
            assertThat(merged.get("sources").get("rank0").asLong()).isEqualTo(2000);
        }
    }

    @Test
    void severalPartialsInOneBodyMergeInOrderAndADefectAnywhereRefusesThemAll() throws Exception {
        double[] x = Dense.powerLawSamples(new Random(7), 900, D, 1.3);
        byte[] first = moments(x, 0, 300, 1).encode();
        byte[] second = moments(x, 300, 900, 2).encode();
        byte[] both = java.util.Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, both, first.length, second.length);
        try (MonitorService service = TestServers.start(TestServers.manualRefresh(WindowMode.SLIDING, 900))) {
            Http http = new Http(service.server().baseUrl());
            byte[] damaged = both.clone();
            damaged[first.length + 50] ^= 4; // inside the second partial
            Http.Response refused = http.post("/v1/runs/p/layers/h/partials", damaged);
            assertThat(refused.status()).isEqualTo(400);
            assertThat(refused.json().get("detail").asText()).contains("(partial 2)", "checksum mismatch");
            Http.Response r = http.post("/v1/runs/p/layers/h/partials", both);
            assertThat(r.status()).as(r.body()).isEqualTo(202);
            assertThat(http.post("/v1/runs/p/layers/rows/batches?step=1", NpyWriter.toBytes(x, 900, D)).status())
                    .isEqualTo(202);
            assertThat(r.json().get("partials").asInt()).isEqualTo(2);
            assertThat(r.json().get("rows").asLong()).isEqualTo(900);
            TestServers.settle(service);
            JsonNode doc = http.get("/v1/runs/p/layers/h/spectrum").json();
            assertThat(doc.get("total_samples").asLong()).isEqualTo(900); // the refused body added nothing
            assertThat(doc.get("step_range").toString()).isEqualTo("[1,2]");
            assertThat(Dense.relativeError(eigen(doc), eigen(http.get("/v1/runs/p/layers/rows/spectrum").json())))
                    .isLessThan(1e-10);
        }
    }

    @Test
    void malformedPartialsAreRefusedAndChangeNothing() throws Exception {
        double[] x = Dense.powerLawSamples(new Random(6), 400, D, 1.3);
        byte[] good = moments(x, 0, 400, 1).encode();
        try (MonitorService service = TestServers.start(TestServers.manualRefresh(WindowMode.CUMULATIVE, 0))) {
            Http http = new Http(service.server().baseUrl());
            String path = "/v1/runs/p/layers/h/partials";
            assertThat(http.post(path, good).status()).isEqualTo(202);
            TestServers.settle(service);
            JsonNode before = http.get("/v1/runs/p/layers/h/spectrum").json();

            byte[] flipped = good.clone();
            flipped[100] ^= 1;
            byte[] wrongDims = moments(java.util.Arrays.copyOf(x, 400 * D), 0, 400, 2).encode();
            ByteBuffer.wrap(wrongDims).order(ByteOrder.LITTLE_ENDIAN).putInt(8, D - 1);
            recrc(wrongDims);
            byte[] notPsd = good.clone();
            ByteBuffer b = ByteBuffer.wrap(notPsd).order(ByteOrder.LITTLE_ENDIAN);
            b.putDouble(36 + 8 * D + 8, 1e9); // M[0][1] far beyond sqrt(M[0][0] M[1][1])
            recrc(notPsd);
            byte[] negative = good.clone();
            ByteBuffer.wrap(negative).order(ByteOrder.LITTLE_ENDIAN).putDouble(36 + 8 * D, -1);
            recrc(negative);
            Object[][] cases = {
                {path, flipped, 400, "bad_npy", "checksum mismatch"},
                {path, java.util.Arrays.copyOf(good, good.length - 20), 400, "bad_npy", "checksum"},
                {path, wrongDims, 400, "bad_npy", "take"},
                {path, notPsd, 400, "bad_npy", "not positive semi-definite"},
                {path, negative, 400, "bad_npy", "negative variance at unit 0"},
                {path, NpyWriter.toBytes(x, 400, D), 415, "unsupported_media_type", "not a partial accumulator"},
                {path + "?step=3", good, 400, "bad_parameter", "step is not a parameter of partials"},
                {path + "?source=a%20b", good, 400, "bad_parameter", "source 'a b'"},
                {"/v1/runs/p/layers/h/batches?step=1", NpyWriter.toBytes(java.util.Arrays.copyOf(x, 40 * 3), 40, 3),
                    400, "dims_mismatch", "has 12 units"},
            };
            for (Object[] c : cases) {
                Http.Response r = http.post((String) c[0], (byte[]) c[1]);
                assertThat(r.status()).as(c[4].toString()).isEqualTo(c[2]);
                assertThat(r.json().get("error").asText()).as(c[4].toString()).isEqualTo(c[3]);
                assertThat(r.json().get("detail").asText()).as(c[4].toString()).contains((String) c[4]);
            }
            TestServers.settle(service);
            JsonNode after = http.get("/v1/runs/p/layers/h/spectrum").json();
            assertThat(after.get("samples")).isEqualTo(before.get("samples"));
            assertThat(after.get("eigenvalues")).isEqualTo(before.get("eigenvalues"));
        }
    }

    /** Rows x[from, to) of a D-wide row-major array. */
    static double[] rows(double[] x, int from, int to) {
        return java.util.Arrays.copyOfRange(x, from * D, to * D);
    }

    /** A pairs-only partial (0 samples) of repeat passes a and b, n rows each, as a sender encodes it. */
    static byte[] pairsOnly(double[] a, double[] b, int n, long step) {
        double[] ma = Dense.exactMean(a, n, D);
        double[] mb = Dense.exactMean(b, n, D);
        int tri = D * (D + 1) / 2;
        ByteBuffer buf = ByteBuffer.allocate(36 + 8 * D + 8 * tri + 8 + 16 * D + 8 * tri + 8 * D * D + 4)
                .order(ByteOrder.LITTLE_ENDIAN);
        buf.putInt(PartialMoments.MAGIC).putShort(PartialMoments.VERSION).putShort((short) 1).putInt(D).putLong(0)
                .putLong(step).putLong(step);
        for (int i = 0; i < D + tri; i++) {
            buf.putDouble(0); // no samples: mean and co-moment are zeros
        }
        buf.putLong(n);
        for (double v : ma) {
            buf.putDouble(v);
        }
        for (double v : mb) {
            buf.putDouble(v);
        }
        for (int i = 0; i < D; i++) {
            for (int j = i; j < D; j++) {
                buf.putDouble(comoment(a, ma, i, a, ma, j, n));
            }
        }
        for (int i = 0; i < D; i++) {
            for (int j = 0; j < D; j++) {
                buf.putDouble(comoment(a, ma, i, b, mb, j, n));
            }
        }
        byte[] body = buf.array();
        recrc(body);
        return body;
    }

    static double comoment(double[] x, double[] mx, int i, double[] y, double[] my, int j, int n) {
        double s = 0;
        for (int r = 0; r < n; r++) {
            s += (x[r * D + i] - mx[i]) * (y[r * D + j] - my[j]);
        }
        return s;
    }

    @Test
    void repeatPairsAggregatedBySendersEqualRowPairsAndNeverMixSenders() throws Exception {
        double[] x = Dense.powerLawSamples(new Random(8), 1200, D, 1.5);
        double[] noise = Dense.gaussian(new Random(9), 1200, D);
        double[] pass1 = x.clone();
        for (int i = 0; i < pass1.length; i++) {
            pass1[i] += 0.05 * noise[i];
        }
        try (MonitorService service = TestServers.start(TestServers.manualRefresh(WindowMode.CUMULATIVE, 0))) {
            Http http = new Http(service.server().baseUrl());
            // The same ordinary rows to both layers.
            assertThat(http.post("/v1/runs/p/layers/rows/batches?step=0", NpyWriter.toBytes(x, 1200, D)).status())
                    .isEqualTo(202);
            assertThat(http.post("/v1/runs/p/layers/merged/partials", moments(x, 0, 1200, 0).encode()).status())
                    .isEqualTo(202);
            // Two senders' repeat passes, interleaved: rank0 has pairs [0, 600), rank1 [600, 1200).
            String[] senders = {"rank0", "rank1"};
            for (int pass = 0; pass < 2; pass++) {
                for (int s = 0; s < 2; s++) {
                    double[] values = rows(pass == 0 ? x : pass1, 600 * s, 600 * (s + 1));
                    assertThat(http.post("/v1/runs/p/layers/rows/batches?step=1&repeat=" + pass + "&source="
                            + senders[s], NpyWriter.toBytes(values, 600, D)).status()).isEqualTo(202);
                }
            }
            for (int s = 0; s < 2; s++) {
                Http.Response r = http.post("/v1/runs/p/layers/merged/partials?source=" + senders[s],
                        pairsOnly(rows(x, 600 * s, 600 * (s + 1)), rows(pass1, 600 * s, 600 * (s + 1)), 600, 1));
                assertThat(r.status()).as(r.body()).isEqualTo(202);
            }
            TestServers.settle(service);
            JsonNode rowsDoc = http.get("/v1/runs/p/layers/rows/spectrum").json();
            JsonNode merged = http.get("/v1/runs/p/layers/merged/spectrum").json();
            assertThat(merged.get("samples").asLong()).isEqualTo(1200); // pairs are not samples
            double cvRows = rowsDoc.get("cvpca").get("alpha").asDouble();
            assertThat(merged.get("cvpca").get("alpha").asDouble()).isCloseTo(cvRows,
                    org.assertj.core.data.Offset.offset(1e-9));
            assertThat(Dense.relativeError(eigen(merged.get("cvpca"), "shared_variance"),
                    eigen(rowsDoc.get("cvpca"), "shared_variance"))).isLessThan(1e-9);
            assertThat(cvRows).isBetween(1.3, 1.7); // the population 1.5, seen through a little noise
            assertThat(TestServers.rejected(service, "bad_parameter")).isZero();
        }
    }

    @Test
    void sendersAreBoundedByTheServerNotByClients() throws Exception {
        double[] x = Dense.powerLawSamples(new Random(10), 40, D, 1.3);
        byte[] one = NpyWriter.toBytes(rows(x, 0, 4), 4, D);
        try (MonitorService service = TestServers.start(TestServers.manualRefresh(WindowMode.CUMULATIVE, 0))) {
            Http http = new Http(service.server().baseUrl());
            int senders = MonitorConfig.MAX_SOURCES_PER_LAYER + 20;
            for (int s = 0; s < senders; s++) {
                assertThat(http.post("/v1/runs/p/layers/h/batches?step=0&source=s" + s, one).status()).isEqualTo(202);
            }
            for (int s = 0; s < MonitorConfig.MAX_WAITING_REPEAT_SENDERS + 3; s++) {
                assertThat(http.post("/v1/runs/p/layers/h/batches?step=1&repeat=0&source=s" + s, one).status())
                        .isEqualTo(202);
            }
            TestServers.settle(service);
            JsonNode sources = http.get("/v1/runs/p/layers/h/spectrum").json().get("sources");
            assertThat(sources.size()).isEqualTo(MonitorConfig.MAX_SOURCES_PER_LAYER + 1);
            assertThat(sources.get("s0").asLong()).isEqualTo(4);
            assertThat(sources.get("(other)").asLong()).isEqualTo(4L * 20);
            assertThat(TestServers.rejected(service, "bad_parameter")).isEqualTo(3); // repeat 0s beyond the bound
        }
    }

    static void recrc(byte[] body) {
        CRC32 crc = new CRC32();
        crc.update(body, 0, body.length - 4);
        ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN).putInt(body.length - 4, (int) crc.getValue());
    }
}
