package org.alphawatch.pipeline;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.alphawatch.core.format.BinaryReader;
import org.alphawatch.core.format.BinaryWriter;
import org.alphawatch.core.format.FormatException;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.core.stat.CrossCovarianceAccumulator;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.core.window.WindowSpec;
import org.alphawatch.core.window.WindowedCovariance;

/**
 * The saved state of one layer, as checkpoints hold it (docs/durability.md). Version 4 (written):
 *
 * <pre>
 * u32 magic "AWLS"   u16 version 4
 * string run         string layer        u32 dims      u64 last applied sequence number
 * block window state (WindowedCovariance, its own versioned and checksummed layout)
 * u8 has repeats     [i64 span, block cross state, block previous cross state (may be empty)]
 * u32 history points { i64 step, i64 time ms, i64 window samples, u8 n, n x {u8 metric id, f64 value} }
 * u32 senders        { string sender, u64 last request number applied }     (least recent first)
 * [u8 1, u64 min samples its sender chose]   (optional: absent when the server's setting applies)
 * u32 CRC32C of everything before
 * </pre>
 *
 * (little-endian; strings: u16 length + UTF-8; blocks: u32 length + bytes). History values carry
 * their {@link HistoryMetric} id, so a metric added later needs no new version (a reader skips ids
 * it does not know). Version 3 stores each history point as {@code i64 step, i64 time ms, 9 f64
 * (ids 0..8 in order), i64 window samples}; version 2 is version 3 without the senders. Version 1 (big-endian, written before the sliding window existed) is still
 * read: its accumulator shards become the groups of a cumulative window (a decay window when the
 * monitor is configured for decay).
 */
final class LayerState {
    private static final int MAGIC = 0x534c5741; // "AWLS" little-endian
    private static final int VERSION = 4;
    private static final int V3 = 3;
    private static final int V2 = 2;
    private static final int V1 = 1;

    /** A decoded layer state. */
    record Restored(LayerKey key, int dims, long lastAppliedSeq, WindowedCovariance window, RepeatPairs repeats,
                    List<HistoryPoint> history, Map<String, Long> senders, long minSamples) {}

    private LayerState() {}

    static byte[] write(LayerKey key, int dims, long lastAppliedSeq, WindowedCovariance window, RepeatPairs repeats,
                        List<HistoryPoint> history, Map<String, Long> senders, long chosenMinSamples) {
        BinaryWriter w = new BinaryWriter(256);
        w.i32(MAGIC).u16(VERSION).string(key.run()).string(key.layer()).i32(dims).i64(lastAppliedSeq);
        w.block(window.toByteArray());
        w.u8(repeats == null ? 0 : 1);
        if (repeats != null) {
            repeats.write(w);
        }
        w.i32(history.size());
        for (HistoryPoint p : history) {
            w.i64(p.step()).i64(p.timeMillis()).i64(p.windowSamples()).u8(HistoryMetric.values().length);
            for (HistoryMetric m : HistoryMetric.values()) {
                w.u8(m.id()).f64(p.value(m));
            }
        }
        w.i32(senders.size());
        for (Map.Entry<String, Long> e : senders.entrySet()) {
            w.string(e.getKey()).i64(e.getValue());
        }
        if (chosenMinSamples > 0) {
            w.u8(1).i64(chosenMinSamples);
        }
        return w.toByteArrayWithCrc();
    }

    /** A history point stored before metrics carried ids: nine values, ids 0..8 in order. */
    private static HistoryPoint point(long step, long time, double[] v, long window) {
        java.util.Map<HistoryMetric, Double> stored = new java.util.EnumMap<>(HistoryMetric.class);
        for (int id = 0; id < v.length; id++) {
            stored.put(HistoryMetric.fromId(id), v[id]);
        }
        return HistoryPoint.of(step, time, window, stored);
    }

    /** Decodes version 2, or version 1 with {@code config} deciding the window its shards become. */
    static Restored read(byte[] bytes, MonitorConfig config) {
        if (bytes.length >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0 && bytes[3] == V1) {
            return readV1(bytes, config);
        }
        String what = "layer state";
        BinaryReader r = BinaryReader.withCrc(bytes, what);
        if (r.i32("magic") != MAGIC) {
            throw new FormatException(what + ": bad magic (not a layer state)");
        }
        int version = r.u16("version");
        if (version != VERSION && version != V3 && version != V2) {
            throw new FormatException(what + ": version " + version + " is not supported (1..4)");
        }
        LayerKey key = key(r.string("run"), r.string("layer"));
        int dims = r.i32("dims", 1, MonitorConfig.MAX_DIMS_LIMIT);
        long seq = r.i64("last applied sequence number", 0, Long.MAX_VALUE);
        WindowedCovariance window = WindowedCovariance.fromByteArray(r.block("window"));
        if (window.dims() != dims) {
            throw new FormatException(what + ": " + key + " has " + dims + " units, its window " + window.dims());
        }
        RepeatPairs repeats = r.u8("has repeats") == 1 ? RepeatPairs.read(r, dims) : null;
        int n = r.i32("history points", 0, 1 << 24);
        List<HistoryPoint> history = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long step = r.i64("history step");
            long time = r.i64("history time");
            if (version >= VERSION) {
                long samples = r.i64("history window samples");
                int k = r.u8("history values");
                java.util.Map<HistoryMetric, Double> stored = new java.util.EnumMap<>(HistoryMetric.class);
                for (int j = 0; j < k; j++) {
                    HistoryMetric m = HistoryMetric.fromId(r.u8("history metric id"));
                    double v = r.f64("history value");
                    if (m != null) { // a metric of a newer version: skipped
                        stored.put(m, v);
                    }
                }
                history.add(HistoryPoint.of(step, time, samples, stored));
                continue;
            }
            double[] v = new double[9];
            for (int j = 0; j < v.length; j++) {
                v[j] = r.f64("history value");
            }
            history.add(point(step, time, v, r.i64("history window samples")));
        }
        Map<String, Long> senders = new LinkedHashMap<>();
        if (version >= V3) {
            int k = r.i32("senders", 0, MonitorConfig.MAX_SENDERS_PER_LAYER);
            for (int i = 0; i < k; i++) {
                String sender = r.string("sender");
                if (!Names.valid(sender)) {
                    throw new FormatException(what + ": sender name '" + sender + "' is invalid");
                }
                senders.put(sender, r.i64("sender's last request number", 1, Long.MAX_VALUE));
            }
        }
        long minSamples = 0;
        if (version >= V3 && r.remaining() > 0) {
            if (r.u8("has min samples") != 1) {
                throw new FormatException(what + ": unknown optional field");
            }
            minSamples = r.i64("min samples", 1, LayerOptions.MAX);
        }
        r.end();
        return new Restored(key, dims, seq, window, repeats, history, senders, minSamples);
    }

    /**
     * The "run/layer" a saved state names, read without trusting the rest (for naming a state that
     * does not decode); null when even the names cannot be read.
     */
    static String peekName(byte[] bytes) {
        try {
            if (bytes.length >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0 && bytes[3] == V1) {
                DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes, 4, bytes.length - 4));
                return new LayerKey(in.readUTF(), in.readUTF()).toString();
            }
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            if (b.getInt() != MAGIC) {
                return null;
            }
            b.getShort();
            return new LayerKey(peekString(b), peekString(b)).toString();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String peekString(java.nio.ByteBuffer b) {
        byte[] s = new byte[b.getShort() & 0xffff];
        b.get(s);
        return new String(s, java.nio.charset.StandardCharsets.UTF_8);
    }

    private static LayerKey key(String run, String layer) {
        try {
            return new LayerKey(run, layer);
        } catch (IllegalArgumentException e) {
            throw new FormatException("layer state: " + e.getMessage());
        }
    }

    /** Version 1: DataOutputStream (big-endian) fields, no checksum of its own (the checkpoint has one). */
    private static Restored readV1(byte[] bytes, MonitorConfig config) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            in.readInt(); // version
            LayerKey key = key(in.readUTF(), in.readUTF());
            int dims = in.readInt();
            if (dims < 1 || dims > MonitorConfig.MAX_DIMS_LIMIT) {
                throw new FormatException("layer state v1: dims " + dims);
            }
            long seq = in.readLong();
            in.readLong(); // window samples (the shards' counts)
            in.readLong(); // total samples
            long stepMin = in.readLong();
            long stepMax = in.readLong();
            in.readLong(); // samples since refresh
            in.readInt(); // next shard
            int shards = in.readInt();
            if (shards < 1 || shards > WindowSpec.MAX_GROUPS) {
                throw new FormatException("layer state v1: " + shards + " shards");
            }
            List<CovarianceAccumulator> groups = new ArrayList<>();
            for (int i = 0; i < shards; i++) {
                groups.add(CovarianceAccumulator.fromByteArray(lengthPrefixed(in, bytes.length, "shard")));
            }
            byte[] c = lengthPrefixed(in, bytes.length, "cross-covariance");
            RepeatPairs repeats = c.length == 0 ? null : RepeatPairs.cumulative(CrossCovarianceAccumulator.fromByteArray(c));
            int n = in.readInt();
            if (n < 0 || n > bytes.length / 88) {
                throw new FormatException("layer state v1: " + n + " history points");
            }
            List<HistoryPoint> history = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                long step = in.readLong();
                long time = in.readLong();
                double[] v = new double[9];
                for (int j = 0; j < v.length; j++) {
                    v[j] = in.readDouble();
                }
                history.add(point(step, time, v, in.readLong()));
            }
            if (in.available() != 0) {
                throw new FormatException("layer state v1: " + in.available() + " unexpected bytes");
            }
            WindowSpec spec = config.window() == WindowMode.DECAY
                    ? WindowSpec.decay(config.windowSpec(dims).samples(), shards) : WindowSpec.cumulative(shards);
            WindowedCovariance window = WindowedCovariance.ofGroups(dims, spec, groups, stepMin, stepMax);
            return new Restored(key, dims, seq, window, repeats, history, Map.of(), 0);
        } catch (IOException e) {
            throw new FormatException("layer state v1: truncated (" + e.getMessage() + ")");
        }
    }

    private static byte[] lengthPrefixed(DataInputStream in, int limit, String what) throws IOException {
        int len = in.readInt();
        if (len < 0 || len > limit) {
            throw new FormatException("layer state v1: " + what + " length " + len);
        }
        byte[] b = new byte[len];
        in.readFully(b);
        return b;
    }
}
