package org.alphawatch.train;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.alphawatch.core.analysis.AnalysisOptions;
import org.alphawatch.core.analysis.SpectrumAnalyzer;
import org.alphawatch.core.analysis.SpectrumReport;
import org.alphawatch.core.projection.EnergySlope;
import org.alphawatch.core.projection.LinearReadout;
import org.alphawatch.core.projection.RandomProjection;
import org.alphawatch.core.stat.CovarianceAccumulator;

/**
 * The end-of-training measurements of a code, shared by the autoencoder demo and the claims run:
 * its spectrum on held-out images (with a jackknife over groups of them), and the probe test (the
 * spectrum of its responses to a 1-D input path, and the trajectory energy of a fixed random
 * projection as the path is sampled more densely; Stringer et al. 2019). Stateless.
 */
final class CodeMeasurement {
    /** Points on the probe path; the densest also gives the probe spectrum. */
    static final int[] DENSITIES = {16, 32, 64, 128, 256};
    static final int JACKKNIFE_GROUPS = 10;

    private CodeMeasurement() {}

    /** The probe test of one code. */
    record Probe(SpectrumReport report, EnergySlope slope, double readoutR2, double[] trajectory) {
        /** NaN when the code does not respond to the probe. */
        double slopeOrNaN() {
            return slope == null ? Double.NaN : slope.slope();
        }
    }

    /** Held-out spectra of every hidden layer of {@code net}, from {@code samples} fresh images. */
    static List<SpectrumReport> heldOut(Mlp net, ImageData data, int samples, int batch, long seed,
                                        AnalysisOptions options) {
        int hiddenLayers = net.hiddenLayers();
        List<List<CovarianceAccumulator>> shards = new ArrayList<>();
        for (int h = 0; h < hiddenLayers; h++) {
            List<CovarianceAccumulator> s = new ArrayList<>();
            for (int g = 0; g < JACKKNIFE_GROUPS; g++) {
                s.add(CovarianceAccumulator.create(net.hiddenSize(h)));
            }
            shards.add(s);
        }
        Rng rng = new Rng(seed);
        double[] x = new double[batch * data.pixels()];
        int chunks = samples / batch;
        for (int c = 0; c < chunks; c++) {
            data.fill(x, batch, rng);
            net.forward(x, batch, false);
            for (int h = 0; h < hiddenLayers; h++) {
                shards.get(h).get(c * JACKKNIFE_GROUPS / chunks).update(net.hidden(h), batch);
            }
        }
        List<SpectrumReport> reports = new ArrayList<>();
        for (int h = 0; h < hiddenLayers; h++) {
            reports.add(SpectrumAnalyzer.analyze(shards.get(h), options));
        }
        return reports;
    }

    /**
     * The probe test of a code of {@code units} units.
     *
     * @param responses for n points, the code at t = 0..n along the closed path, (n + 1) x units
     * @param latent    for n points, the path's coordinates (cos, sin), (n + 1) x 2
     */
    static Probe probe(IntFunction<double[]> responses, IntFunction<double[]> latent, int units, long projectionSeed,
                       AnalysisOptions probeOptions) {
        RandomProjection projection = RandomProjection.create(units, RandomProjection.DEFAULT_K, projectionSeed);
        double[] energies = new double[DENSITIES.length];
        double[] densest = null;
        for (int i = 0; i < DENSITIES.length; i++) {
            int n = DENSITIES[i];
            double[] acts = responses.apply(n);
            energies[i] = RandomProjection.trajectoryEnergy(projection.project(acts, n + 1), n + 1,
                    RandomProjection.DEFAULT_K);
            densest = acts;
        }
        int n = DENSITIES[DENSITIES.length - 1] + 1;
        CovarianceAccumulator cov = CovarianceAccumulator.create(units);
        cov.update(densest, n);
        SpectrumReport report = SpectrumAnalyzer.analyze(cov.snapshot(), probeOptions);
        double[] projected = projection.project(densest, n);
        double readout = LinearReadout.crossValidatedR2(projected, n, RandomProjection.DEFAULT_K,
                latent.apply(n - 1), 2, 5);
        // A code that does not respond to the probe has zero energy: no slope to fit.
        EnergySlope slope = java.util.Arrays.stream(energies).allMatch(e -> e > 0)
                ? EnergySlope.fit(DENSITIES, energies) : null;
        return new Probe(report, slope, readout, projected);
    }

    /** Hidden layer h's evaluation-mode code for any number of rows (processed in batches of {@code batch}). */
    static double[] hiddenOf(Mlp net, double[] x, int rows, int h, int batch) {
        int in = net.sizes()[0];
        int units = net.hiddenSize(h);
        double[] out = new double[rows * units];
        double[] chunk = new double[batch * in];
        for (int r = 0; r < rows; r += batch) {
            int n = Math.min(batch, rows - r);
            System.arraycopy(x, r * in, chunk, 0, n * in);
            net.forward(chunk, n, false);
            System.arraycopy(net.hidden(h), 0, out, r * units, n * units);
        }
        return out;
    }

    /** The probe test of hidden layer h of a network: the dot on the circle of {@link ImageData#probe}. */
    static Probe probe(Mlp net, ImageData data, int h, int batch, long projectionSeed, AnalysisOptions probeOptions) {
        return probe(n -> hiddenOf(net, data.probe(n, new double[(n + 1) * 2]), n + 1, h, batch), n -> {
            double[] latent = new double[(n + 1) * 2];
            data.probe(n, latent);
            return latent;
        }, net.hiddenSize(h), projectionSeed, probeOptions);
    }
}
