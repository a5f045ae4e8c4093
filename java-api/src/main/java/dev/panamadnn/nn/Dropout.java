package dev.panamadnn.nn;

/**
 * PyTorch's {@code nn.Dropout(p, inplace)} at inference ({@code eval()}): the identity, {@code y = x}
 * (inverted dropout scales at training time only). It exists so a model holds its place: in a
 * {@link Sequential} it takes an index like in PyTorch, so the state_dict names of the layers after
 * it ({@code "3.weight"}) match a PyTorch checkpoint. No parameters; lowers to {@code Identity}.
 * Thread-safe (see {@link Layer}).
 */
public final class Dropout extends Identity {
    private final double p;
    private final boolean inplace;

    /** {@code Dropout(p=0.5)}. */
    public Dropout() {
        this(0.5, false);
    }

    /**
     * Dropout with probability {@code p}: an identity at inference (kept so that Sequential indices match PyTorch's).
     * @param p the drop probability, in [0, 1]
     * @throws IllegalArgumentException if {@code p} is outside [0, 1]
     */
    public Dropout(double p) {
        this(p, false);
    }

    /**
     * A {@code Dropout} with PyTorch's arguments of the same names.
     *
     * @param p the drop probability, in [0, 1]
     * @param inplace kept for the repr only: the output is always a new tensor
     * @throws IllegalArgumentException if {@code p} is not in [0, 1] (PyTorch's check)
     */
    public Dropout(double p, boolean inplace) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("Dropout: dropout probability has to be between 0 and 1, but got " + p);
        this.p = p;
        this.inplace = inplace;
    }

    /** {@return the {@code p} setting this layer was built with (PyTorch's name)} */
    public double p() {
        return p;
    }

    /** PyTorch's repr: {@code Dropout(p=0.5, inplace=False)}. */
    @Override
    public String toString() {
        return "Dropout(p=" + Modules.pyFloat(p) + ", inplace=" + (inplace ? "True" : "False") + ")";
    }
}
