package org.alphawatch.core.projection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ProjectionTest {
    @ParameterizedTest
    @ValueSource(doubles = {1.5, 2, 4, 5})
    void energySlopeOfTheCircleCode(double alpha) {
        int modes = 2048;
        RandomProjection p = RandomProjection.create(2 * modes, 3, 81);
        int[] densities = {16, 32, 64, 128};
        double[] energies = new double[densities.length];
        for (int i = 0; i < densities.length; i++) {
            double[] proj = p.project(CircleCode.sample(alpha, modes, densities[i]), densities[i] + 1);
            energies[i] = RandomProjection.trajectoryEnergy(proj, densities[i] + 1, 3);
        }
        EnergySlope slope = EnergySlope.fit(densities, energies);
        assertThat(slope.slope()).isCloseTo(Math.max(-1, 2 - alpha), within(0.1));
        assertThat(slope.smooth()).isEqualTo(alpha > 3);
    }

    @Test
    void projectionIsSeededAndScaled() {
        RandomProjection a = RandomProjection.create(500, 3, 7);
        RandomProjection b = RandomProjection.create(500, 3, 7);
        double[] x = new double[500];
        x[3] = 1;
        assertThat(a.project(x, 1)).containsExactly(b.project(x, 1));
        assertThat(RandomProjection.seedFor("run", "layer")).isEqualTo(RandomProjection.seedFor("run", "layer"))
                .isNotEqualTo(RandomProjection.seedFor("run", "layer2"));
        // Entries N(0, 1/m): a unit vector's projection has expected squared norm k/m... summed over
        // the m basis vectors, k = 3 exactly in expectation; the sample sits within 10%.
        double total = 0;
        for (int i = 0; i < 500; i++) {
            double[] e = new double[500];
            e[i] = 1;
            double[] y = a.project(e, 1);
            total += y[0] * y[0] + y[1] * y[1] + y[2] * y[2];
        }
        assertThat(total).isCloseTo(3, within(0.3));
    }

    @Test
    void readoutR2SeesALinearCodeAndNotNoise() {
        Random random = new Random(82);
        int n = 400;
        double[] latent = new double[n * 2];
        double[] code = new double[n * 3];
        double[] noise = new double[n * 3];
        for (int t = 0; t < n; t++) {
            double theta = 2 * Math.PI * t / n;
            latent[2 * t] = Math.cos(theta);
            latent[2 * t + 1] = Math.sin(theta);
            code[3 * t] = 2 * latent[2 * t] + 0.01 * random.nextGaussian();
            code[3 * t + 1] = -latent[2 * t + 1] + 0.01 * random.nextGaussian();
            code[3 * t + 2] = random.nextGaussian();
            for (int c = 0; c < 3; c++) {
                noise[3 * t + c] = random.nextGaussian();
            }
        }
        assertThat(LinearReadout.crossValidatedR2(code, n, 3, latent, 2, 5)).isGreaterThan(0.99);
        assertThat(LinearReadout.crossValidatedR2(noise, n, 3, latent, 2, 5)).isLessThan(0.05);
    }
}
