package org.alphawatch.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import org.alphawatch.core.analysis.AnalysisOptions;
import org.alphawatch.core.analysis.SpectrumAnalyzer;
import org.alphawatch.core.analysis.SpectrumReport;
import org.alphawatch.core.projection.EnergySlope;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.junit.jupiter.api.Test;

/**
 * The claims' decision rules on codes whose answers are known exactly (diagonal covariances with a
 * chosen spectrum, energy curves with a chosen slope): each verdict comes out as the rule says,
 * in both directions.
 */
class ClaimsDemoTest {
    private static final AnalysisOptions OPTIONS = AnalysisOptions.defaults(new EjmlEigenSolver());

    /** The report of a covariance with eigenvalues spectrum(r), r = 1..dims (exact: no sampling). */
    private static SpectrumReport report(int dims, DoubleUnaryOperator spectrum, AnalysisOptions options) {
        long n = 100_000;
        double[] upper = new double[dims * (dims + 1) / 2];
        for (int i = 0, at = 0; i < dims; at += dims - i, i++) {
            upper[at] = (n - 1) * spectrum.applyAsDouble(i + 1);
        }
        return SpectrumAnalyzer.analyze(CovarianceAccumulator.fromMoments(dims, n, new double[dims], upper).snapshot(),
                options);
    }

    private static SpectrumReport powerLaw(int dims, double alpha, AnalysisOptions options) {
        return report(dims, r -> Math.pow(r, -alpha), options);
    }

    /** Two seeds x three layers x five dropout rates; alpha(D) and the effective rank's fall set per test. */
    private static List<ClaimsDemo.TrainedLayer> layers(DoubleUnaryOperator alphaOfDropout, boolean powerLaws) {
        AnalysisOptions window = OPTIONS.withFitWindow(ClaimsDemo.CLAIM1_WINDOW);
        List<ClaimsDemo.TrainedLayer> out = new ArrayList<>();
        for (long seed : new long[] {1, 2}) {
            for (double d : new double[] {0, 0.2, 0.4, 0.6, 0.8}) {
                for (String layer : new String[] {"h1", "h2", "h3"}) {
                    double a = alphaOfDropout.applyAsDouble(d);
                    // Not a power law: flat to rank 40, then a cliff.
                    SpectrumReport r = powerLaws ? powerLaw(128, a, window)
                            : report(128, rank -> rank <= 40 ? 1 : 1e-6 * Math.pow(rank, -a), window);
                    out.add(new ClaimsDemo.TrainedLayer(seed, d, layer, 128, r, 0.01, null));
                }
            }
        }
        return out;
    }

    @Test
    void claimOneFollowsTheTrendOrSaysThereIsNoPowerLaw() {
        List<ClaimsDemo.TrainedLayer> rising = layers(d -> 1 + d, true);
        assertThat(rising.get(0).heldOut().alpha()).isCloseTo(1, within(1e-9));
        assertThat(rising.get(0).heldOut().fit().window().lo()).isEqualTo(5);
        assertThat(ClaimsDemo.claim1("alpha", rising, l -> l.heldOut().alpha(), true).outcome())
                .isEqualTo(ClaimsDemo.Verdict.REPRODUCED);
        // Faster decay concentrates variance: effective rank falls, redundancy 1 - erank/m rises with dropout.
        assertThat(ClaimsDemo.claim1("redundancy", rising, ClaimsDemo.TrainedLayer::redundancy, false).outcome())
                .isEqualTo(ClaimsDemo.Verdict.REPRODUCED);

        ClaimsDemo.Verdict falling = ClaimsDemo.claim1("alpha", layers(d -> 2 - d, true), l -> l.heldOut().alpha(), true);
        assertThat(falling.outcome()).isEqualTo(ClaimsDemo.Verdict.NOT_REPRODUCED);
        assertThat(falling.numbers()).contains("mean -1.00", "the opposite trend", "30 of 30 fits");
        // A peak in the middle: correlations near 0, not reproduced either way.
        ClaimsDemo.Verdict peak = ClaimsDemo.claim1("alpha", layers(d -> 2 - Math.abs(d - 0.4), true),
                l -> l.heldOut().alpha(), true);
        assertThat(peak.outcome()).isEqualTo(ClaimsDemo.Verdict.NOT_REPRODUCED);
        assertThat(peak.numbers()).doesNotContain("opposite");

        ClaimsDemo.Verdict cliff = ClaimsDemo.claim1("alpha", layers(d -> 1 + d, false), l -> l.heldOut().alpha(), true);
        assertThat(cliff.outcome()).isEqualTo(ClaimsDemo.Verdict.UNTESTABLE);
        assertThat(cliff.numbers()).contains("0 of 30 fits");
    }

    /** A code with probe alpha {@code alpha} and an energy curve of slope {@code slope} over 16..256 points. */
    private static ClaimsDemo.ProbeCode code(double alpha, double slope) {
        int[] n = CodeMeasurement.DENSITIES;
        double[] e = new double[n.length];
        for (int i = 0; i < n.length; i++) {
            e[i] = Math.pow(n[i], slope);
        }
        return new ClaimsDemo.ProbeCode("code", "h1", new CodeMeasurement.Probe(powerLaw(256, alpha, OPTIONS.withInputDim(1)),
                EnergySlope.fit(n, e), 0.5, new double[0]));
    }

    @Test
    void claimThreeNeedsCodesOnBothSidesAndBothTestsToAgree() {
        List<ClaimsDemo.ProbeCode> theory = new ArrayList<>();
        for (double a : new double[] {1.2, 1.6, 2.0, 2.2, 2.8, 3.5, 5, 6, 8}) {
            theory.add(code(a, Math.max(-1, 2 - a)));
        }
        assertThat(theory.get(0).alpha()).isCloseTo(1.2, within(1e-9));
        assertThat(theory.get(0).slope()).isCloseTo(0.8, within(1e-9));
        ClaimsDemo.Verdict held = ClaimsDemo.claim3(theory);
        assertThat(held.outcome()).isEqualTo(ClaimsDemo.Verdict.REPRODUCED);
        // 2.8 is rough by theory but its slope, -0.8, looks smooth at these densities: it is on neither side.
        assertThat(held.numbers()).contains("9 responsive codes (of 9): 4 with probe alpha < 2.5, 4 above 3",
                "= -0.96 over all 9", "calls 4 of 4 rough", "above 3 it calls 4 of 4 smooth"); // ties at -1 above 3

        // Smooth codes below the threshold break the claim, whatever the correlation.
        List<ClaimsDemo.ProbeCode> smoothBelow = theory.stream().map(c -> code(c.alpha(), -1 + 0.01 * c.alpha())).toList();
        ClaimsDemo.Verdict broken = ClaimsDemo.claim3(smoothBelow);
        assertThat(broken.outcome()).isEqualTo(ClaimsDemo.Verdict.NOT_REPRODUCED);
        assertThat(broken.numbers()).contains("calls 0 of 4 rough");
        // Rough codes above the threshold do not: the claim is a necessary condition ("only if").
        List<ClaimsDemo.ProbeCode> roughAbove = theory.stream()
                .map(c -> code(c.alpha(), c.alpha() < 3 ? 2 - c.alpha() : -0.40 - 0.01 * c.alpha())).toList();
        ClaimsDemo.Verdict onlyIf = ClaimsDemo.claim3(roughAbove);
        assertThat(onlyIf.outcome()).isEqualTo(ClaimsDemo.Verdict.REPRODUCED);
        assertThat(onlyIf.numbers()).contains("above 3 it calls 0 of 4 smooth");
        // No order: rough everywhere, the slope unrelated to alpha.
        List<ClaimsDemo.ProbeCode> flat = theory.stream().map(c -> code(c.alpha(), 0.3 + 0.01 * c.alpha())).toList();
        assertThat(ClaimsDemo.claim3(flat).outcome()).isEqualTo(ClaimsDemo.Verdict.NOT_REPRODUCED);

        List<ClaimsDemo.ProbeCode> oneSide = theory.stream().filter(c -> c.alpha() > 2.5).toList();
        ClaimsDemo.Verdict untestable = ClaimsDemo.claim3(oneSide);
        assertThat(untestable.outcome()).isEqualTo(ClaimsDemo.Verdict.UNTESTABLE);
        assertThat(untestable.numbers()).contains("0 with probe alpha < 2.5, 4 above 3");
    }
}
