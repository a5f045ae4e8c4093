package dev.panamadnn.nn;

import dev.panamadnn.DataType;
import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.internal.Sizes;
import dev.panamadnn.internal.lifetime.InFlightCalls;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * PyTorch's {@code nn.Embedding(num_embeddings, embedding_dim, padding_idx)} at inference: a table
 * {@code weight [num_embeddings, embedding_dim]} (state_dict "weight"; initially N(0, 1), the
 * {@code padding_idx} row zero) looked up by an integer tensor of indices of any shape {@code [*]}
 * (I64 as PyTorch's LongTensor, or I32), giving {@code [*, embedding_dim]}. {@code padding_idx}
 * only matters for training and the initial zero row; a negative one counts from the end, as in
 * PyTorch. {@link #fromPretrained} wraps a given table (copied).
 *
 * <p>Every index is checked to lie in {@code [0, num_embeddings)} before anything is written; an
 * out-of-range one fails with an {@link IndexOutOfBoundsException} naming the layer, the position
 * and the value (never a read outside the table). Native path: one bulk row copy per index (a gather;
 * oneDNN has no primitive for it). Reference: element-wise copy loop. Both are exact.
 * Thread-safe; {@link #close()} waits for calls in flight. Lowers to the graph op {@code Embedding} on its table (a
 * compiled plan looks the rows up by an integer graph input, checking every index the same way).
 */
public final class Embedding implements Module {
    private final long num, dim;
    private final Long paddingIdx;   // normalized to [0, num), or null
    private final Tensor weight;
    private final InFlightCalls calls = new InFlightCalls();

    /**
     * {@code Embedding(num_embeddings, embedding_dim)} without padding index.
     *
     * @param numEmbeddings the number of rows (vocabulary size)
     * @param embeddingDim the width of each row
     */
    public Embedding(long numEmbeddings, long embeddingDim) {
        this(numEmbeddings, embeddingDim, null);
    }

    /**
     * A {@code Embedding} with PyTorch's arguments of the same names.
     *
     * @param numEmbeddings the number of rows (vocabulary size)
     * @param embeddingDim the width of each row
     * @param paddingIdx null for none; else in {@code [-num_embeddings, num_embeddings)}
     * @throws IllegalArgumentException if a size is {@code < 1} or the table is too large, or {@code paddingIdx} is out of range
     */
    public Embedding(long numEmbeddings, long embeddingDim, Long paddingIdx) {
        this(numEmbeddings, embeddingDim, paddingIdx, null);
    }

    private Embedding(long numEmbeddings, long embeddingDim, Long paddingIdx, Tensor pretrained) {
        if (numEmbeddings < 1 || embeddingDim < 1) {
            throw new IllegalArgumentException("Embedding: num_embeddings and embedding_dim must be >= 1, got " + numEmbeddings + " and " + embeddingDim);
        }
        Sizes.f32Bytes("Embedding: weight", new long[] {numEmbeddings, embeddingDim});
        if (paddingIdx != null && (paddingIdx >= numEmbeddings || paddingIdx < -numEmbeddings)) {
            throw new IllegalArgumentException("Embedding: padding_idx must be within num_embeddings [" + -numEmbeddings + ", "
                    + numEmbeddings + "), got " + paddingIdx);
        }
        this.num = numEmbeddings;
        this.dim = embeddingDim;
        this.paddingIdx = paddingIdx == null ? null : paddingIdx < 0 ? paddingIdx + numEmbeddings : paddingIdx;
        if (pretrained != null) {
            weight = Tensor.of(pretrained.toFloatArray(), numEmbeddings, embeddingDim);
        } else {
            weight = Tensor.zeros(numEmbeddings, embeddingDim);
            SplittableRandom rnd = new SplittableRandom();
            MemorySegment w = weight.segment();
            for (long i = 0; i < numEmbeddings * embeddingDim; i++) w.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextGaussian());
            if (this.paddingIdx != null) w.asSlice(this.paddingIdx * embeddingDim * Float.BYTES, embeddingDim * Float.BYTES).fill((byte) 0);
        }
    }

    /**
     * PyTorch's {@code nn.Embedding.from_pretrained(embeddings, padding_idx=...)}: the table is a copy
     * of {@code embeddings} (2-D F32, rows = num_embeddings), its padding row kept as given.
     *
     * @param embeddings the table, [numEmbeddings, embeddingDim] (copied)
     * @param paddingIdx the padding row, or null for none
     * @throws IllegalArgumentException if {@code embeddings} is null, not F32 or not 2-D, or {@code paddingIdx} is out of range
     * @throws IllegalStateException    if its memory was freed
     * @return the layer
     */
    public static Embedding fromPretrained(Tensor embeddings, Long paddingIdx) {
        if (embeddings == null) throw new IllegalArgumentException("Embedding.from_pretrained: embeddings must not be null");
        if (!embeddings.isAlive()) throw new IllegalStateException("Embedding.from_pretrained: expected live embeddings, got " + embeddings);
        if (embeddings.dtype() != DataType.F32 || embeddings.rank() != 2) {
            throw new IllegalArgumentException("Embedding.from_pretrained: expected a 2-D F32 embeddings tensor, got " + embeddings);
        }
        return new Embedding(embeddings.dim(0), embeddings.dim(1), paddingIdx, embeddings);
    }

    /** {@return the {@code numEmbeddings} setting this layer was built with (PyTorch's name)} */
    public long numEmbeddings() {
        return num;
    }

    /** {@return the {@code embeddingDim} setting this layer was built with (PyTorch's name)} */
    public long embeddingDim() {
        return dim;
    }

    /** {@return the padding index in {@code [0, num_embeddings)}, or null} */
    public Long paddingIdx() {
        return paddingIdx;
    }

    /** {@return the embedding table, [numEmbeddings, embeddingDim] (the layer's own tensor: do not close it)} */
    public Tensor weight() {
        return weight;
    }

    @Override
    public Map<String, Tensor> parameters() {
        return Map.of("weight", weight);
    }

    /**
     * {@code [*] -> [*, embedding_dim]}.
     *
     * @param indexShape the shape of the indices
     * @throws IllegalArgumentException if the shape is null or has a size {@code < 1}
     * @return the output shape
     */
    public long[] outputShape(long... indexShape) {
        if (indexShape == null) throw new IllegalArgumentException(this + ": index shape must not be null");
        for (long d : indexShape) {
            if (d < 1) throw new IllegalArgumentException(this + ": expected sizes >= 1, got index shape " + Arrays.toString(indexShape));
        }
        long[] out = Arrays.copyOf(indexShape, indexShape.length + 1);
        out[indexShape.length] = dim;
        Sizes.f32Bytes(this + ": output", out);
        return out;
    }

    @Override
    public Tensor forward(Tensor indices) {
        return forward(indices, Backend.AUTO);
    }

    /**
     * Looks up {@code indices}; a new tensor the caller owns.
     *
     * @param indices the indices, I64 or I32
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException  if {@code indices} is null or not I64/I32, or {@code backend} is null
     * @throws IndexOutOfBoundsException if an index is outside {@code [0, num_embeddings)}
     * @throws IllegalStateException     if the indices' memory was freed or this layer is closed
     * @return a new tensor owned by the caller (close it)
     */
    public Tensor forward(Tensor indices, Backend backend) {
        if (backend == null) throw new IllegalArgumentException(this + ": backend must not be null");
        calls.enter(this);
        try {
            long[] out = checked(indices);
            long[] idx = read(indices);
            Tensor y = Tensor.zeros(out);
            try {
                lookUp(idx, y, backend);
                return y;
            } catch (RuntimeException | Error e) {
                y.close();
                throw e;
            }
        } finally {
            calls.exit();
        }
    }

    /**
     * {@link #forwardInto(Tensor, Tensor, Backend)} on {@link Backend#AUTO}.
     *
     * @param indices the indices, I64 or I32
     * @param out where the rows go (not closed by the call)
     */
    public void forwardInto(Tensor indices, Tensor out) {
        forwardInto(indices, out, Backend.AUTO);
    }

    /**
     * Looks up {@code indices} into {@code out}, a tensor the caller provides and keeps (no output
     * allocated): live, F32, contiguous, writable, of {@link #outputShape} and not overlapping the
     * indices. Every index and {@code out} are checked before anything is written.
     *
     * @param indices the indices, I64 or I32
     * @param out where the rows go (not closed by the call)
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException  if {@code indices} is null or not I64/I32, {@code backend} is null, or {@code out} does not fit
     * @throws IndexOutOfBoundsException if an index is outside {@code [0, num_embeddings)}
     * @throws IllegalStateException     if the indices' or {@code out}'s memory was freed or this layer is closed
     */
    public void forwardInto(Tensor indices, Tensor out, Backend backend) {
        if (backend == null) throw new IllegalArgumentException(this + ": backend must not be null");
        calls.enter(this);
        try {
            long[] shape = checked(indices);
            LayerOutputs.check(toString(), out, shape, indices);
            long[] idx = read(indices);
            LayerOutputs.into(toString(), out, y -> lookUp(idx, y, backend));
        } finally {
            calls.exit();
        }
    }

    private long[] checked(Tensor indices) {
        if (indices == null) throw new IllegalArgumentException(this + ": indices must not be null");
        if (!indices.isAlive()) throw new IllegalStateException(this + ": expected live indices, got " + indices + " whose memory was freed");
        if (indices.dtype() != DataType.I64 && indices.dtype() != DataType.I32) {
            throw new IllegalArgumentException(this + ": expected I64 or I32 indices (PyTorch's LongTensor or IntTensor), got "
                    + indices.dtype() + " (shape " + Arrays.toString(indices.shape()) + ")");
        }
        return outputShape(indices.shape());
    }

    private void lookUp(long[] idx, Tensor y, Backend backend) {
        MemorySegment w = weight.segment(), ys = y.segment();
        if (backend == Backend.REFERENCE) {
            Sizes.arrayLength(this, "the table", num * dim);
            float[] table = weight.toFloatArray();
            for (int i = 0; i < idx.length; i++) {
                for (long j = 0; j < dim; j++) ys.setAtIndex(ValueLayout.JAVA_FLOAT, i * dim + j, table[(int) (idx[i] * dim + j)]);
            }
        } else {
            long row = dim * Float.BYTES;
            for (int i = 0; i < idx.length; i++) MemorySegment.copy(w, idx[i] * row, ys, i * row, row);
        }
    }

    /** The indices in row-major order (any strides), each checked against the table. */
    private long[] read(Tensor t) {
        long[] shape = t.shape(), st = t.strides();
        int n = Sizes.arrayLength(this, "the indices " + Arrays.toString(shape), t.numel());
        long[] out = new long[n];
        long[] pos = new long[shape.length];
        MemorySegment s = t.segment();
        boolean i64 = t.dtype() == DataType.I64;
        for (int i = 0; i < n; i++) {
            long off = 0;
            for (int d = 0; d < shape.length; d++) off += pos[d] * st[d];
            // unaligned reads: a safetensors file places tensors at any byte offset
            long v = i64 ? s.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, off) : s.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, off);
            if (v < 0 || v >= num) {
                throw new IndexOutOfBoundsException(this + ": expected indices in [0, " + num + "), got " + v + " at position "
                        + Arrays.toString(pos) + " of indices " + Arrays.toString(shape));
            }
            out[i] = v;
            for (int d = shape.length - 1; d >= 0 && ++pos[d] == shape[d]; d--) pos[d] = 0;
        }
        return out;
    }

    /**
     * The graph op {@code Embedding} on this table (the graph's initializer {@code weight}, shared) and the integer
     * indices {@code input}; a compiled plan checks each run's indices against [0, num_embeddings) before reading.
     *
     * @throws dev.panamadnn.graph.GraphException if {@code input} is not an I64 or I32 value (naming this layer, expected and given)
     */
    @Override
    public String lower(GraphBuilder graph, String input, String path) {
        dev.panamadnn.graph.Value v = graph.value(input);
        if (v.dtype() != DataType.I64 && v.dtype() != DataType.I32) {
            throw new dev.panamadnn.graph.GraphException(Lowering.where(path) + ": " + this
                    + ": expected integer indices (i64 or i32), got " + v);
        }
        String w = graph.initializer(Lowering.join(path, "weight"), weight);
        return graph.node("Embedding", Lowering.join(path, "lookup"), dev.panamadnn.graph.Attributes.empty(), w, input);
    }

    /** Frees the table once calls in flight have returned; idempotent. */
    @Override
    public void close() {
        if (calls.close()) weight.close();
    }

    /** PyTorch's repr: {@code Embedding(10, 3, padding_idx=0)}. */
    @Override
    public String toString() {
        return "Embedding(" + num + ", " + dim + (paddingIdx == null ? "" : ", padding_idx=" + paddingIdx) + ")";
    }
}
