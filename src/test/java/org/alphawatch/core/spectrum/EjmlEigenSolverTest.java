package org.alphawatch.core.spectrum;

class EjmlEigenSolverTest extends EigenSolverContract {
    @Override
    EigenSolver solver() {
        return new EjmlEigenSolver();
    }
}
