package org.alphawatch.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.alphawatch.core.spectrum.EigenSolver;
import org.alphawatch.core.spectrum.EjmlEigenSolver;
import org.alphawatch.core.spectrum.OpenBlasEigenSolver;
import org.alphawatch.core.spectrum.PartialEigenSolver;
import org.alphawatch.core.stat.CoMomentKernel;
import org.alphawatch.core.stat.CovarianceAccumulator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH benchmarks of the two kernels behind {@code bench} (see docs/performance.md for how to run):
 * one covariance update per back-end, and the eigenvalues per solver.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class KernelBenchmark {
    @State(Scope.Thread)
    public static class Update {
        @Param({"256", "1024"})
        int dims;
        @Param({"64", "512"})
        int rows;
        @Param({"JAVA", "OPENBLAS"})
        CoMomentKernel.Kind kernel;
        CovarianceAccumulator acc;
        float[] batch;

        @Setup(Level.Trial)
        public void setUp() {
            acc = CovarianceAccumulator.create(dims, kernel);
            batch = new float[rows * dims];
            Random r = new Random(1);
            for (int i = 0; i < batch.length; i++) {
                batch[i] = (float) r.nextGaussian();
            }
        }
    }

    @Benchmark
    public long covarianceUpdate(Update s) {
        s.acc.update(s.batch, s.rows);
        return s.acc.count();
    }

    @State(Scope.Thread)
    public static class Eigen {
        @Param({"256", "1024"})
        int dims;
        @Param({"ejml", "openblas", "partial"})
        String solver;
        double[] covariance;
        double[] values;
        EigenSolver full;
        PartialEigenSolver partial;

        @Setup(Level.Trial)
        public void setUp() {
            CovarianceAccumulator acc = CovarianceAccumulator.create(dims);
            double[] x = new double[2 * dims * dims];
            Random r = new Random(2);
            for (int i = 0; i < x.length; i++) {
                x[i] = r.nextGaussian() / (1 + i % dims);
            }
            acc.update(x, 2 * dims);
            covariance = acc.snapshot().covariance();
            values = new double[dims];
            full = solver.equals("ejml") ? new EjmlEigenSolver() : new OpenBlasEigenSolver();
            partial = PartialEigenSolver.defaults();
        }
    }

    @Benchmark
    public double eigenvalues(Eigen s) {
        if (s.solver.equals("partial")) {
            s.partial.topEigenvalues(s.covariance, s.dims, Math.min(s.dims / 4, 502), s.values);
        } else {
            s.full.eigenvalues(s.covariance, s.dims, s.values);
        }
        return s.values[0];
    }
}
