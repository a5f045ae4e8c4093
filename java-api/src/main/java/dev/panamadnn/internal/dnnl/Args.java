package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.*;

import java.lang.foreign.MemorySegment;

/**
 * The argument vocabulary of every primitive execution in the project: each {@code DNNL_ARG_*}
 * id used anywhere is read from the bindings here and nowhere else, and {@link Arg}s are made
 * through the factories below so a call site reads {@code Args.src(md, x), Args.dst(md, y)}.
 * A null descriptor makes an absent argument (see {@link Arg}).
 */
public final class Args {
    private Args() {}

    public static final int SRC = DNNL_ARG_SRC();
    /** The second source of a binary primitive ({@code dnnl_binary_*}). */
    public static final int SRC_1 = DNNL_ARG_SRC_1();
    public static final int DST = DNNL_ARG_DST();
    public static final int WEIGHTS = DNNL_ARG_WEIGHTS();
    public static final int BIAS = DNNL_ARG_BIAS();
    /** A reorder's source (oneDNN's alias of {@link #SRC}). */
    public static final int FROM = DNNL_ARG_FROM();
    /** A reorder's destination (oneDNN's alias of {@link #DST}). */
    public static final int TO = DNNL_ARG_TO();
    public static final int MEAN = DNNL_ARG_MEAN();
    public static final int VARIANCE = DNNL_ARG_VARIANCE();
    public static final int SCALE = DNNL_ARG_SCALE();
    public static final int SHIFT = DNNL_ARG_SHIFT();
    /** RNN arguments: the layer input/output are {@link #SRC}/{@link #DST} ({@code SRC_LAYER}, {@code DST_LAYER}), its weights {@link #WEIGHTS}. */
    public static final int SRC_ITER = DNNL_ARG_SRC_ITER();
    public static final int SRC_ITER_C = DNNL_ARG_SRC_ITER_C();
    public static final int WEIGHTS_ITER = DNNL_ARG_WEIGHTS_ITER();
    public static final int WEIGHTS_PROJECTION = DNNL_ARG_WEIGHTS_PROJECTION();
    public static final int WEIGHTS_PEEPHOLE = DNNL_ARG_WEIGHTS_PEEPHOLE();
    public static final int DST_ITER = DNNL_ARG_DST_ITER();
    public static final int DST_ITER_C = DNNL_ARG_DST_ITER_C();
    /** The per-slice factors a reorder applies to its source ({@link PrimitiveAttributes#withSourceScales}). */
    public static final int SRC_SCALES = DNNL_ARG_ATTR_SCALES() | DNNL_ARG_SRC();
    /** Appended by {@link Primitive} and {@link Execution} themselves: callers never pass it. */
    public static final int SCRATCHPAD = DNNL_ARG_SCRATCHPAD();
    private static final int FIRST_DST = DNNL_ARG_DST_0(), LAST_DST = DNNL_ARG_DST_2();
    private static final int POST_OP_BASE = DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE();

    /** The id of source {@code i} of a primitive with several (concat, sum). */
    public static int multipleSrc(int i) {
        if (i < 0) throw new IllegalArgumentException("source index must be >= 0, got " + i);
        return DNNL_ARG_MULTIPLE_SRC() + i;
    }

    /** The id of the second source of the binary post-op at {@code index} in its post-op list. */
    public static int postOpSrc1(int index) {
        if (index < 0) throw new IllegalArgumentException("post-op index must be >= 0, got " + index);
        return POST_OP_BASE * (index + 1) | SRC_1;
    }

    /** Whether oneDNN writes the argument: the destinations ({@code DNNL_ARG_DST_0..2}, alias TO, DST_LAYER/ITER/ITER_C). */
    public static boolean isWriteTarget(int id) {
        return id >= FIRST_DST && id <= LAST_DST;
    }

    /** A readable name for messages, e.g. {@code weights} or {@code post-op 0 src1}. */
    public static String name(int id) {
        if (id == SRC) return "src";
        if (id == SRC_1) return "src1";
        if (id == DST) return "dst";
        if (id == WEIGHTS) return "weights";
        if (id == BIAS) return "bias";
        if (id == MEAN) return "mean";
        if (id == VARIANCE) return "variance";
        if (id == SCALE) return "scale";
        if (id == SHIFT) return "shift";
        if (id == SCRATCHPAD) return "scratchpad";
        if (id == SRC_SCALES) return "src scales";
        if (id == SRC_ITER) return "src_iter";
        if (id == SRC_ITER_C) return "src_iter_c";
        if (id == WEIGHTS_ITER) return "weights_iter";
        if (id == WEIGHTS_PROJECTION) return "weights_projection";
        if (id == WEIGHTS_PEEPHOLE) return "weights_peephole";
        if (id == DST_ITER) return "dst_iter";
        if (id == DST_ITER_C) return "dst_iter_c";
        if (id >= POST_OP_BASE && id % POST_OP_BASE == SRC_1) return "post-op " + (id / POST_OP_BASE - 1) + " src1";
        return "argument " + id;
    }

    public static Arg src(MemoryDescriptor md, MemorySegment buf) {
        return new Arg(SRC, md, buf);
    }

    public static Arg src1(MemoryDescriptor md, MemorySegment buf) {
        return new Arg(SRC_1, md, buf);
    }

    public static Arg dst(MemoryDescriptor md, MemorySegment buf) {
        return new Arg(DST, md, buf);
    }

    public static Arg weights(MemoryDescriptor md, MemorySegment buf) {
        return new Arg(WEIGHTS, md, buf);
    }

    /** The bias; {@code bias(null, null)} for a primitive created without one. */
    public static Arg bias(MemoryDescriptor md, MemorySegment buf) {
        return new Arg(BIAS, md, buf);
    }

    public static Arg from(MemoryDescriptor md, MemorySegment buf) {
        return new Arg(FROM, md, buf);
    }

    public static Arg to(MemoryDescriptor md, MemorySegment buf) {
        return new Arg(TO, md, buf);
    }

    public static Arg mean(MemoryDescriptor md, MemorySegment buf) {
        return new Arg(MEAN, md, buf);
    }

    public static Arg variance(MemoryDescriptor md, MemorySegment buf) {
        return new Arg(VARIANCE, md, buf);
    }

    public static Arg scale(MemoryDescriptor md, MemorySegment buf) {
        return new Arg(SCALE, md, buf);
    }

    public static Arg shift(MemoryDescriptor md, MemorySegment buf) {
        return new Arg(SHIFT, md, buf);
    }

    /** Any argument by its id (the RNN family's iteration states and weights: {@link #SRC_ITER}, ...). */
    public static Arg of(int id, MemoryDescriptor md, MemorySegment buf) {
        return new Arg(id, md, buf);
    }

    /** The second source of the binary post-op at {@code index} (see {@link PostOps#add}). */
    public static Arg postOpSrc1(int index, MemoryDescriptor md, MemorySegment buf) {
        return new Arg(postOpSrc1(index), md, buf);
    }
}
