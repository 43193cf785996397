package org.alphawatch.transformer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.nio.file.Path;
import java.util.List;
import org.alphawatch.attach.LayerStream;
import org.alphawatch.core.analysis.AnalysisOptions;
import org.alphawatch.core.analysis.SpectrumAnalyzer;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.alphawatch.core.window.WindowMode;
import org.alphawatch.pipeline.LayerKey;
import org.alphawatch.server.MonitorService;
import org.alphawatch.testing.Dense;
import org.alphawatch.testing.Resources;
import org.alphawatch.testing.TestServers;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The exposed residual stream of the real model: its last layer is the library's own embedding. */
@Tag("slow")
class MiniLmTest {
    static final List<String> TEXTS = List.of(
            "The quick brown fox jumps over the lazy dog.",
            "Permission is hereby granted, free of charge, to any person obtaining a copy of this software.",
            "Eigenvalues of the covariance of a layer's activations decay as a power law.");

    @Test
    void theLastExposedLayerMeanPooledIsTheLibrarysEmbedding() throws Exception {
        AllMiniLmL6V2EmbeddingModel library = new AllMiniLmL6V2EmbeddingModel();
        try (MiniLm model = new MiniLm()) {
            for (String text : TEXTS) {
                MiniLm.Pass pass = model.forward(List.of(text));
                float[] ours = pass.meanPooledLast();
                float[] theirs = library.embed(text).content().vector();
                double dot = 0;
                double a = 0;
                double b = 0;
                for (int i = 0; i < ours.length; i++) {
                    dot += ours[i] * theirs[i];
                    a += ours[i] * ours[i];
                    b += theirs[i] * theirs[i];
                }
                double cosine = dot / Math.sqrt(a * b);
                System.out.printf("cosine %.12f  %s%n", cosine, text);
                assertThat(cosine).as(text).isGreaterThan(0.9999);
                assertThat(pass.layers()).hasSize(7);
                assertThat(pass.layers().get(3).length).isEqualTo(pass.tokens() * MiniLm.HIDDEN);
                assertThat(pass.tokens()).isEqualTo(model.countTokens(text));
            }
        }
    }

    @Test
    void aLayersServedSpectrumIsAnalyzeOfTheSameTokens() throws Exception {
        Path text = Resources.path("text/prose.txt");
        try (MiniLm model = new MiniLm();
             MonitorService service = TestServers.start(TestServers.manualRefresh(WindowMode.CUMULATIVE, 0));
             LayerStream stream = LayerStream.inProcess(service.monitor(), "minilm")) {
            List<String> chunks = TransformerDemo.chunks(model, List.of(text), 0);
            CovarianceAccumulator exact = CovarianceAccumulator.create(MiniLm.HIDDEN);
            long tokens = 0;
            for (int i = 0; i < chunks.size(); i += TransformerDemo.BATCH) {
                MiniLm.Pass pass = model.forward(chunks.subList(i, Math.min(chunks.size(), i + TransformerDemo.BATCH)));
                float[] rows = pass.layers().get(4);
                assertThat(stream.send("layer4", i, rows, pass.tokens(), MiniLm.HIDDEN)).isTrue();
                double[] d = new double[pass.tokens() * MiniLm.HIDDEN];
                for (int k = 0; k < d.length; k++) {
                    d[k] = rows[k];
                }
                exact.update(d, pass.tokens());
                tokens += pass.tokens();
            }
            assertThat(tokens).isGreaterThan(1000);
            TestServers.settle(service);
            var snapshot = service.monitor().snapshot(new LayerKey("minilm", "layer4")).orElseThrow();
            assertThat(snapshot.totalSamples()).isEqualTo(tokens);
            double[] served = snapshot.report().spectrum().normalized();
            double[] reference = SpectrumAnalyzer.analyze(exact.snapshot(), AnalysisOptions.defaults(new EjmlEigenSolver()))
                    .spectrum().normalized();
            assertThat(Dense.relativeError(served, reference)).isLessThan(1e-9);
            // LayerNorm leaves every token in a 383-dimensional plane: one null direction.
            assertThat(snapshot.report().spectrum().numericalRank()).isLessThanOrEqualTo(MiniLm.HIDDEN - 1);
        }
    }
}
