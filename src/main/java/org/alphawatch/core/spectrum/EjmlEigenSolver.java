package org.alphawatch.core.spectrum;

import java.util.Arrays;
import java.util.Comparator;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;

/** The EJML symmetric QR-algorithm back-end. Allocates its own workspace per call; thread-safe. */
public final class EjmlEigenSolver implements EigenSolver {
    @Override
    public String name() {
        return "ejml";
    }

    @Override
    public boolean eigenvalues(double[] a, int n, double[] values) {
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(n, false, true);
        if (!eig.decompose(new DMatrixRMaj(n, n, true, Arrays.copyOf(a, n * n)))) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            values[i] = eig.getEigenvalue(i).real;
        }
        Arrays.sort(values, 0, n);
        for (int i = 0, j = n - 1; i < j; i++, j--) {
            double t = values[i];
            values[i] = values[j];
            values[j] = t;
        }
        return true;
    }

    @Override
    public boolean decompose(double[] a, int n, double[] values, double[] vectors) {
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(n, true, true);
        if (!eig.decompose(new DMatrixRMaj(n, n, true, Arrays.copyOf(a, n * n)))) {
            return false;
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> eig.getEigenvalue(i).real).reversed());
        for (int k = 0; k < n; k++) {
            int src = order[k];
            values[k] = eig.getEigenvalue(src).real;
            DMatrixRMaj v = eig.getEigenVector(src);
            if (v == null) {
                return false;
            }
            for (int i = 0; i < n; i++) {
                vectors[i * n + k] = v.data[i];
            }
        }
        return true;
    }
}
