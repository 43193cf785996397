package org.alphawatch.core.spectrum;

/**
 * Eigen-decomposition of a real symmetric matrix. Implementations share one known-answer test
 * suite; outputs are caller-owned; a numerical failure is a {@code false} result, not an exception.
 */
public interface EigenSolver {
    /** Short name for logs and benchmarks. */
    String name();

    /**
     * Eigenvalues of the symmetric {@code n x n} row-major matrix {@code a}, written to
     * {@code values[0..n)} in descending order. {@code a}: not modified.
     *
     * @return false when the solver did not converge ({@code values} is then unspecified)
     */
    boolean eigenvalues(double[] a, int n, double[] values);

    /**
     * Eigenvalues (descending) and unit eigenvectors: column k of the row-major {@code n x n}
     * {@code vectors} belongs to {@code values[k]}. {@code a}: not modified.
     */
    boolean decompose(double[] a, int n, double[] values, double[] vectors);
}
