package org.alphawatch.core.spectrum;

import org.alphawatch.core.format.Records;
import org.alphawatch.core.stat.CrossCovarianceSnapshot;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * Cross-validated PCA (Stringer et al. 2019): with {@code u_k} the eigenvectors of repeat A's
 * covariance (descending), {@code ss_k = u_k^T C12 u_k}. Noise independent across the repeats
 * cancels in expectation, so the signal spectrum is estimated without the noise floor. Values may
 * be negative where the signal is below the noise; fits use {@code |ss_k|}.
 *
 * @param shared     {@code ss_k} for k = 1..K, ranked by repeat A's eigenvalues
 * @param repeatA    repeat A's own (plain PCA) spectrum
 */
public record CrossValidatedSpectrum(double[] shared, Spectrum repeatA) {
    public CrossValidatedSpectrum {
        shared = shared.clone();
    }

    @Override
    public double[] shared() {
        return shared.clone();
    }

    public static CrossValidatedSpectrum compute(CrossCovarianceSnapshot snap, EigenSolver solver) {
        int m = snap.dims();
        double[] values = new double[m];
        double[] vectors = new double[m * m];
        if (!solver.decompose(snap.covarianceA(), m, values, vectors)) {
            throw new ArithmeticException(solver.name() + " eigen-solver did not converge on repeat A's covariance");
        }
        Spectrum plain = Spectrum.of(values, snap.count(), m);
        int k = plain.size();
        // W = C12 V once (blocked multiply), then ss_k = sum_i V[i,k] W[i,k].
        DMatrixRMaj v = DMatrixRMaj.wrap(m, m, vectors);
        DMatrixRMaj w = new DMatrixRMaj(m, m);
        CommonOps_DDRM.mult(DMatrixRMaj.wrap(m, m, snap.crossCovariance()), v, w);
        double[] ss = new double[k];
        for (int i = 0; i < m; i++) {
            int row = i * m;
            for (int col = 0; col < k; col++) {
                ss[col] += vectors[row + col] * w.data[row + col];
            }
        }
        return new CrossValidatedSpectrum(ss, plain);
    }

    @Override
    public boolean equals(Object o) {
        return Records.equal(this, o); // every component, arrays by content
    }

    @Override
    public int hashCode() {
        return Records.hash(this);
    }

    @Override
    public String toString() {
        return "CrossValidatedSpectrum[K=" + shared.length + "]";
    }
}
