package org.alphawatch.core.linalg;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the dense linear-algebra back-end once per process: OpenBLAS/LAPACK (bundled native
 * library, bytedeco presets) when it loads, pure Java otherwise. {@code -Dalphawatch.blas} or
 * {@code ALPHAWATCH_BLAS} = {@code auto} (default), {@code openblas} or {@code java} overrides.
 * The choice is logged once.
 */
public final class LinearAlgebra {
    private static final Logger LOG = LoggerFactory.getLogger(LinearAlgebra.class);

    /** The back-ends. */
    public enum Backend { JAVA, OPENBLAS }

    private static volatile Backend selected;
    private static volatile String reason = "";
    private static volatile Boolean nativeLoads;

    private LinearAlgebra() {}

    /** Whether the native library loads on this machine (tried once). */
    public static synchronized boolean nativeAvailable() {
        if (nativeLoads == null) {
            try {
                org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas.class);
                nativeLoads = true;
            } catch (Throwable t) {
                reason = t.toString();
                nativeLoads = false;
            }
        }
        return nativeLoads;
    }

    public static Backend backend() {
        Backend b = selected;
        if (b == null) {
            synchronized (LinearAlgebra.class) {
                if (selected == null) {
                    selected = choose();
                }
                b = selected;
            }
        }
        return b;
    }

    private static Backend choose() {
        String wanted = System.getProperty("alphawatch.blas", System.getenv().getOrDefault("ALPHAWATCH_BLAS", "auto"))
                .toLowerCase(Locale.ROOT);
        switch (wanted) {
            case "java" -> {
                LOG.info("linear algebra: pure Java (EJML eigen-solver, blocked co-moment kernel), as requested");
                return Backend.JAVA;
            }
            case "openblas", "auto" -> {
                if (nativeAvailable()) {
                    LOG.info("linear algebra: OpenBLAS/LAPACK native back-end (syrk updates, syevd eigenvalues)");
                    return Backend.OPENBLAS;
                }
                LOG.warn("linear algebra: pure Java; the OpenBLAS back-end did not load ({})", reason);
                return Backend.JAVA;
            }
            default -> {
                LOG.warn("linear algebra: unknown alphawatch.blas '{}', using auto", wanted);
                return nativeAvailable() ? Backend.OPENBLAS : Backend.JAVA;
            }
        }
    }

    /**
     * Threads OpenBLAS uses inside one call. The server parallelizes across layers (one ingest
     * worker per core), so one thread per call avoids oversubscription: measured with
     * {@code loadtest} (4 producers, d = 1024), 1 thread gave 74.5 batches/s against 41.7 with 2.
     */
    public static void setNativeThreads(int threads) {
        if (backend() == Backend.OPENBLAS) {
            // The preset's own entry point: no need for the 24 MB libjniopenblas_full for one call.
            org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(threads);
            LOG.info("OpenBLAS threads per call: {}", threads);
        }
    }

    /** A direct (off-heap, native-order) buffer of n doubles, as native calls need to avoid copies. */
    public static DoubleBuffer direct(long n) {
        if (n > Integer.MAX_VALUE / 8) {
            throw new IllegalArgumentException(n + " doubles exceed one direct buffer");
        }
        return ByteBuffer.allocateDirect((int) (8 * n)).order(ByteOrder.nativeOrder()).asDoubleBuffer();
    }
}
