package dev.panamadnn.benchmarks;

/**
 * A GEMM shape as the benchmarks and the C harness spell it: {@code "N"} (square) or
 * {@code "MxNxK"}, optionally {@code ":TN"}, {@code ":NT"}, {@code ":TT"} (transpose A / B).
 * C is {@code m x n}, op(A) {@code m x k}, op(B) {@code k x n}, all row-major.
 */
public record Shape(String spec, int m, int n, int k, boolean transA, boolean transB) {
    public static Shape parse(String spec) {
        String dims = spec, flags = "NN";
        int colon = spec.indexOf(':');
        if (colon >= 0) {
            dims = spec.substring(0, colon);
            flags = spec.substring(colon + 1);
        }
        String[] p = dims.split("x");
        if ((p.length != 1 && p.length != 3) || flags.length() != 2 || !flags.matches("[NT][NT]")) {
            throw new IllegalArgumentException("shape: expected N or MxNxK with an optional :NN/:NT/:TN/:TT, got " + spec);
        }
        int m = Integer.parseInt(p[0]);
        int n = p.length == 3 ? Integer.parseInt(p[1]) : m;
        int k = p.length == 3 ? Integer.parseInt(p[2]) : m;
        return new Shape(spec, m, n, k, flags.charAt(0) == 'T', flags.charAt(1) == 'T');
    }

    public int lda() { return transA ? m : k; }
    public int ldb() { return transB ? k : n; }
    public int ldc() { return n; }
    public double flop() { return 2.0 * m * n * k; }

    /** "n=256", "m=2048 n=64 k=2048", "n=1024 B^T". */
    public String label() {
        String s = m == n && n == k ? "n=" + m : "m=" + m + " n=" + n + " k=" + k;
        if (transA) s += " A^T";
        if (transB) s += " B^T";
        return s;
    }
}
