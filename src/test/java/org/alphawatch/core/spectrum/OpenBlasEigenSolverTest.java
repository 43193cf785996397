package org.alphawatch.core.spectrum;

import org.alphawatch.core.linalg.LinearAlgebra;
import org.alphawatch.testing.ExternalTools;
import org.junit.jupiter.api.BeforeAll;

/** The same known-answer suite on the native LAPACK back-end. */
class OpenBlasEigenSolverTest extends EigenSolverContract {
    @BeforeAll
    static void nativeLibraryLoads() {
        ExternalTools.requireThat(LinearAlgebra.nativeAvailable(), "the bundled OpenBLAS did not load");
    }

    @Override
    EigenSolver solver() {
        return new OpenBlasEigenSolver();
    }
}
