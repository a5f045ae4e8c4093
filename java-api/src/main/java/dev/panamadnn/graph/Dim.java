package dev.panamadnn.graph;

/**
 * One dimension of a {@link Shape}: a fixed size, or a multiple of a named symbol such as the
 * batch {@code N} ({@code factor * symbol}; a Flatten of {@code [N, 3, 4]} from axis 0 gives
 * {@code 12*N}). Symbols are bound to sizes when a plan is built ({@link Shape#bind}).
 *
 * @param factor the size of a fixed dimension, or the multiple of {@code symbol} (>= 1)
 * @param symbol the symbol's name, or null for a fixed dimension
 */
public record Dim(long factor, String symbol) {
    /**
     * A dimension of {@code factor} (a fixed size) or {@code factor * symbol}.
     *
     * @throws IllegalArgumentException if a fixed size is negative, a symbol's factor is below 1,
     *                                  or the symbol not a name (a letter or '_', then letters,
     *                                  digits or '_')
     */
    public Dim {
        if (factor < (symbol == null ? 0 : 1)) {
            throw new IllegalArgumentException("Dim: expected a size >= " + (symbol == null ? 0 : 1) + ", got " + factor
                    + (symbol == null ? "" : " * " + symbol));
        }
        if (symbol != null && !isName(symbol)) {
            throw new IllegalArgumentException("Dim: a symbol must be a name (a letter or '_', then letters, digits or '_'), got '" + symbol + "'");
        }
    }

    // equals and hashCode by hand (as a record's, over both components): a record's own are bootstrapped through
    // java.lang.runtime.ObjectMethods at first use, 2-4 ms of a cold import or compile for this class alone.
    @Override
    public boolean equals(Object o) {
        return o instanceof Dim d && d.factor == factor && java.util.Objects.equals(d.symbol, symbol);
    }

    @Override
    public int hashCode() {
        return 31 * Long.hashCode(factor) + java.util.Objects.hashCode(symbol);
    }

    private static boolean isName(String s) {
        if (s.isEmpty() || !(Character.isLetter(s.charAt(0)) || s.charAt(0) == '_')) return false;
        for (int i = 1; i < s.length(); i++) if (!(Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_')) return false;
        return true;
    }

    /**
     * {@return a fixed dimension of {@code size}}
     *
     * @param size the size, at least 0
     */
    public static Dim of(long size) {
        return new Dim(size, null);
    }

    /**
     * {@return the symbolic dimension {@code name} (e.g. the batch, "N")}
     *
     * @param name the symbol, e.g. {@code N}
     */
    public static Dim symbol(String name) {
        return new Dim(1, name);
    }

    /** {@return whether this is a fixed size (no symbol)} */
    public boolean isFixed() {
        return symbol == null;
    }

    /** {@return the size of a fixed dimension. @throws IllegalStateException if it is symbolic} */
    public long size() {
        if (symbol != null) throw new IllegalStateException("Dim " + this + " is symbolic: bind " + symbol + " first");
        return factor;
    }

    /**
     * This dimension times {@code k} ({@code k >= 0}; 0 gives the fixed size 0).
     *
     * @param k the factor, at least 0
     * @throws IllegalArgumentException if {@code k < 0}
     * @throws ArithmeticException      if the factor overflows a long
     * @return this dimension times {@code k}
     */
    public Dim times(long k) {
        if (k == 0) return of(0);
        return new Dim(Math.multiplyExact(factor, k), symbol);
    }

    /**
     * {@return the product of two dimensions, or null when both are symbolic (not representable)}
     *
     * @param other the other dimension
     */
    public Dim times(Dim other) {
        if (other.symbol == null) return times(other.factor);
        if (symbol == null) return other.times(factor);
        return null;
    }

    /** {@code 12}, {@code N} or {@code 12*N}. */
    @Override
    public String toString() {
        if (symbol == null) return Long.toString(factor);
        return factor == 1 ? symbol : factor + "*" + symbol;
    }
}
