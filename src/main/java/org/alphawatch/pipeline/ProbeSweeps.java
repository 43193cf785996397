package org.alphawatch.pipeline;

import java.util.Map;
import java.util.TreeMap;
import org.alphawatch.core.projection.EnergySlope;
import org.alphawatch.core.projection.LinearReadout;
import org.alphawatch.core.projection.RandomProjection;
import org.alphawatch.io.NpyArray;

/**
 * A layer's probe sweeps at the latest probe step, seen through its fixed random projection:
 * trajectory energy per density, the E(N) slope, and the read-out of the input latent from the
 * densest sweep. A new step starts a new set. Writer thread only; not saved in checkpoints (the
 * next sweep rebuilds it).
 */
final class ProbeSweeps {
    private static final int READOUT_FOLDS = 5;

    private final RandomProjection projection;
    private long step = -1;
    private final TreeMap<Integer, Double> energies = new TreeMap<>();
    private double[] trajectory;
    private int trajectoryRows;
    private double readout = Double.NaN;
    private ProjectionSnapshot snapshot;

    ProbeSweeps(LayerKey key, int dims) {
        projection = RandomProjection.create(dims, RandomProjection.DEFAULT_K,
                RandomProjection.seedFor(key.run(), key.layer()));
    }

    /** Adds one sweep (at least 3 rows along the input path; the caller checked). */
    void add(ActivationBatch batch) {
        int n = batch.rows();
        if (batch.step() != step) {
            step = batch.step();
            energies.clear();
            trajectory = null;
            trajectoryRows = 0;
            readout = Double.NaN;
        }
        NpyArray v = batch.values();
        double[] projected = v.floats() != null ? projection.project(v.floats(), n) : projection.project(v.doubles(), n);
        int k = projection.k();
        energies.put(n, RandomProjection.trajectoryEnergy(projected, n, k));
        if (n >= trajectoryRows) {
            trajectory = projected;
            trajectoryRows = n;
            NpyArray latent = batch.latent();
            readout = latent != null && n >= 2 * READOUT_FOLDS
                    ? LinearReadout.crossValidatedR2(projected, n, k, latent.toDoubles(), latent.cols(), READOUT_FOLDS)
                    : Double.NaN;
        }
        int[] densities = new int[energies.size()];
        double[] e = new double[densities.length];
        int i = 0;
        for (Map.Entry<Integer, Double> entry : energies.entrySet()) {
            densities[i] = entry.getKey();
            e[i++] = entry.getValue();
        }
        EnergySlope slope = null;
        if (densities.length >= 2) {
            try {
                slope = EnergySlope.fit(densities, e);
            } catch (IllegalArgumentException ignored) {
                // Energies that do not allow a fit (e.g. a silent layer) leave the slope undefined.
            }
        }
        snapshot = new ProjectionSnapshot(step, densities, e, slope, readout, trajectory, k);
    }

    /** The latest sweeps, or null before the first probe. */
    ProjectionSnapshot snapshot() {
        return snapshot;
    }
}
