package org.alphawatch.pipeline;

import org.alphawatch.core.format.Records;
import java.util.Arrays;
import org.alphawatch.core.projection.EnergySlope;

/**
 * The latest probe sweeps of a layer at one step, seen through its fixed random projection:
 * trajectory energy per sampling density, the E(N) slope when two or more densities were sent,
 * the cross-validated read-out R^2 of the input latent (NaN without latent values) and the
 * projected trajectory of the densest sweep (row-major N x k).
 */
public record ProjectionSnapshot(long step, int[] densities, double[] energies, EnergySlope slope, double readoutR2,
                                 double[] trajectory, int k) {
    public ProjectionSnapshot {
        densities = densities.clone();
        energies = energies.clone();
        trajectory = trajectory.clone();
    }

    @Override
    public int[] densities() {
        return densities.clone();
    }

    @Override
    public double[] energies() {
        return energies.clone();
    }

    @Override
    public double[] trajectory() {
        return trajectory.clone();
    }

    public double slopeOrNaN() {
        return slope == null ? Double.NaN : slope.slope();
    }

    @Override
    public boolean equals(Object o) {
        return Records.equal(this, o); // every component, arrays by content
    }

    @Override
    public int hashCode() {
        return Records.hash(this);
    }
}
