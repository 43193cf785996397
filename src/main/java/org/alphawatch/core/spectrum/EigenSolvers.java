package org.alphawatch.core.spectrum;

import org.alphawatch.core.linalg.LinearAlgebra;

/** The eigen-solver of the process-wide back-end ({@link LinearAlgebra#backend()}). */
public final class EigenSolvers {
    private EigenSolvers() {}

    public static EigenSolver selected() {
        return LinearAlgebra.backend() == LinearAlgebra.Backend.OPENBLAS ? new OpenBlasEigenSolver()
                : new EjmlEigenSolver();
    }
}
