package dev.panamadnn.benchmarks;

/**
 * The one intra-op thread count every implementation gets (OpenBLAS through FFM and JNI, the
 * Vector API GEMM's pool, EJML's concurrency, the C harness): {@code -Dpanamadnn.threads}, the
 * property our ThreadControl reads, else every core.
 */
public final class BenchThreads {
    private BenchThreads() {}

    public static int get() {
        String v = System.getProperty("panamadnn.threads");
        return v == null || v.isBlank() ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(v.strip());
    }
}
