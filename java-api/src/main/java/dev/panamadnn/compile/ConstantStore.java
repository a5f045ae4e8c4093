package dev.panamadnn.compile;

/**
 * A store of constant blocks that plans share: a model's weights in the layouts their primitives read, held once however
 * many plans read the same bytes. Every {@link PlanSet} has one for its plans of each batch size; plans of one model at
 * other sizes of its other dims (a text model at several sequence lengths, an image model at several image sizes) can
 * be given one store ({@link PlanSet#of(dev.panamadnn.graph.Graph, CompileOptions, int, ConstantStore)}, {@link
 * CompiledModel#compile(dev.panamadnn.graph.Graph, CompileOptions, java.util.Map, ConstantStore)}), so that the weights,
 * the same bytes at every length, are held about once rather than once per length.
 *
 * <p>Blocks are matched by their full bytes (size and CRC32C, then compared), so sharing never changes a result: a
 * plan computes bit for bit what it computes alone. A block is freed by the last plan, of any set, that reads it; the
 * store itself holds no memory of its own and needs no closing. Thread-safe.
 */
public final class ConstantStore {
    final SharedConstants shared;

    /** An empty store. */
    public ConstantStore() {
        this.shared = new SharedConstants(this);
    }

    ConstantStore(SharedConstants shared) {
        this.shared = shared;
    }

    /** {@return the bytes of native memory the blocks in this store take now (0 once no plan reads any)} */
    public long bytes() {
        return shared.bytes();
    }

    /** {@return the blocks in this store now} */
    public int blocks() {
        return shared.blocks();
    }

    @Override
    public String toString() {
        return "ConstantStore(" + blocks() + " blocks, " + bytes() + " bytes)";
    }
}
