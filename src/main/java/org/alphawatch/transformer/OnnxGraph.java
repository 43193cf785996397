package org.alphawatch.transformer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Exposes the residual stream of a BERT-style ONNX model: each LayerNorm's output (the pattern
 * {@code Add(Mul(Div(x - mean, Sqrt(var + eps)), gamma), beta)} the exporters write) becomes a
 * graph output. Works on the protobuf wire format directly (ModelProto.graph = field 7;
 * GraphProto.node = 1, output = 12; NodeProto.input = 1, output = 2, op_type = 4), copying every
 * other byte as it is: no ONNX library needed at run or build time.
 */
final class OnnxGraph {
    private OnnxGraph() {}

    /** The edited model and the LayerNorm outputs in graph order (embeddings first). */
    record Exposed(byte[] model, List<String> layerNorms) {}

    private record Field(int number, int wireType, byte[] raw, int payloadStart, int payloadEnd) {}

    private record Node(String opType, List<String> inputs, List<String> outputs) {}

    static Exposed exposeLayerNorms(byte[] model) {
        List<Field> top = fields(model, 0, model.length);
        Field graphField = top.stream().filter(f -> f.number == 7 && f.wireType == 2).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("not an ONNX model: no graph"));
        byte[] graph = java.util.Arrays.copyOfRange(model, graphField.payloadStart, graphField.payloadEnd);
        List<Node> nodes = new ArrayList<>();
        Set<String> outputs = new HashSet<>();
        for (Field f : fields(graph, 0, graph.length)) {
            if (f.number == 1 && f.wireType == 2) {
                nodes.add(node(graph, f.payloadStart, f.payloadEnd));
            } else if (f.number == 12 && f.wireType == 2) {
                outputs.add(firstString(graph, f.payloadStart, f.payloadEnd, 1));
            }
        }
        Map<String, List<Node>> consumers = new HashMap<>();
        for (Node n : nodes) {
            for (String in : n.inputs) {
                consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
            }
        }
        List<String> norms = new ArrayList<>();
        for (Node n : nodes) {
            if (!n.opType.equals("Sqrt")) {
                continue;
            }
            String out = follow(consumers, n.outputs.get(0), "Div");
            out = out == null ? null : follow(consumers, out, "Mul");
            out = out == null ? null : follow(consumers, out, "Add");
            if (out != null) {
                norms.add(out);
            }
        }
        if (norms.isEmpty()) {
            throw new IllegalArgumentException("no LayerNorm pattern found in the graph");
        }
        ByteArrayOutputStream g = new ByteArrayOutputStream(graph.length + 1024);
        g.writeBytes(graph);
        for (String name : norms) {
            if (!outputs.contains(name)) {
                g.writeBytes(lengthDelimited(12, valueInfo(name)));
            }
        }
        ByteArrayOutputStream m = new ByteArrayOutputStream(model.length + 1024);
        for (Field f : top) {
            m.writeBytes(f == graphField ? lengthDelimited(7, g.toByteArray()) : f.raw);
        }
        return new Exposed(m.toByteArray(), norms);
    }

    /** The output of the only {@code opType} node consuming {@code tensor}, or null. */
    private static String follow(Map<String, List<Node>> consumers, String tensor, String opType) {
        List<Node> next = consumers.getOrDefault(tensor, List.of()).stream().filter(n -> n.opType.equals(opType)).toList();
        return next.size() == 1 ? next.get(0).outputs.get(0) : null;
    }

    /** ValueInfoProto { name, type: TypeProto { tensor_type: { elem_type: FLOAT } } }. */
    private static byte[] valueInfo(String name) {
        ByteArrayOutputStream v = new ByteArrayOutputStream();
        v.writeBytes(lengthDelimited(1, name.getBytes(StandardCharsets.UTF_8)));
        byte[] tensor = concat(tag(1, 0), varint(1));
        v.writeBytes(lengthDelimited(2, lengthDelimited(1, tensor)));
        return v.toByteArray();
    }

    private static Node node(byte[] b, int from, int to) {
        String op = "";
        List<String> in = new ArrayList<>();
        List<String> out = new ArrayList<>();
        for (Field f : fields(b, from, to)) {
            if (f.wireType != 2) {
                continue;
            }
            String s = new String(b, f.payloadStart, f.payloadEnd - f.payloadStart, StandardCharsets.UTF_8);
            switch (f.number) {
                case 1 -> in.add(s);
                case 2 -> out.add(s);
                case 4 -> op = s;
                default -> { }
            }
        }
        return new Node(op, in, out);
    }

    private static String firstString(byte[] b, int from, int to, int number) {
        for (Field f : fields(b, from, to)) {
            if (f.number == number && f.wireType == 2) {
                return new String(b, f.payloadStart, f.payloadEnd - f.payloadStart, StandardCharsets.UTF_8);
            }
        }
        return "";
    }

    /** The fields of a message in b[from, to), each with its raw bytes (tag included). */
    private static List<Field> fields(byte[] b, int from, int to) {
        List<Field> out = new ArrayList<>();
        int[] at = {from};
        while (at[0] < to) {
            int start = at[0];
            long key = readVarint(b, at);
            int number = (int) (key >>> 3);
            int wire = (int) (key & 7);
            int payloadStart;
            int payloadEnd;
            switch (wire) {
                case 0 -> {
                    payloadStart = at[0];
                    readVarint(b, at);
                    payloadEnd = at[0];
                }
                case 1 -> {
                    payloadStart = at[0];
                    at[0] += 8;
                    payloadEnd = at[0];
                }
                case 2 -> {
                    long len = readVarint(b, at);
                    payloadStart = at[0];
                    at[0] += (int) len;
                    payloadEnd = at[0];
                }
                case 5 -> {
                    payloadStart = at[0];
                    at[0] += 4;
                    payloadEnd = at[0];
                }
                default -> throw new IllegalArgumentException("unsupported protobuf wire type " + wire + " at " + start);
            }
            if (at[0] > to) {
                throw new IllegalArgumentException("truncated protobuf field " + number + " at " + start);
            }
            out.add(new Field(number, wire, java.util.Arrays.copyOfRange(b, start, at[0]), payloadStart, payloadEnd));
        }
        return out;
    }

    private static long readVarint(byte[] b, int[] at) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte x = b[at[0]++];
            v |= (long) (x & 0x7f) << shift;
            if ((x & 0x80) == 0) {
                return v;
            }
        }
        throw new IllegalArgumentException("malformed varint");
    }

    private static byte[] varint(long v) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        while ((v & ~0x7fL) != 0) {
            o.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        o.write((int) v);
        return o.toByteArray();
    }

    private static byte[] tag(int number, int wire) {
        return varint(((long) number << 3) | wire);
    }

    private static byte[] lengthDelimited(int number, byte[] payload) {
        return concat(tag(number, 2), varint(payload.length), payload);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }
}
