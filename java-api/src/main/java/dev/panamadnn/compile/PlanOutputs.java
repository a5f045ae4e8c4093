package dev.panamadnn.compile;

import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.Reorder;
import java.util.ArrayList;
import java.util.List;

/**
 * The boundary of a plan being built: how each graph output reaches the caller's tensor (output
 * 0 written in place by its last step when the layout allows, every other through a reorder)
 * and the Java steps of several inputs and outputs ({@link LowerIndex}).
 */
final class PlanOutputs {
    private PlanOutputs() {}

    /** The steps that put output {@code k} into the caller's plain output: the last layer writing it directly (output 0), or a reorder. */
    static void write(Compiler c, int k) {
        dev.panamadnn.graph.Value o = c.outputs.get(k);
        Compiler.Value v = c.values.get(o.name());
        if (v == null && c.graph.isConstant(o.name()) && o.shape().isFixed()) {
            v = constantOutput(c, k, o);
            if (v == null) return;   // written to the caller's output in its own dtype
        }
        if (v == null) {
            throw new UnsupportedOperationException("CompiledModel: graph output " + o + (c.graph.isConstant(o.name())
                    ? " is a constant (known at compile time); a plan's outputs must be computed from its inputs"
                    : " is " + o.dtype() + "; a plan's outputs are F32 values computed from its inputs"));
        }
        if (o.dtype() != dev.panamadnn.DataType.F32) {   // an integer or bool value computed at run time, held as F32
            LowerCarried.writeOutput(c, k, o, v);
            return;
        }
        long[] shape = o.shape().sizes();
        Compiler.Value last = c.asShape(v, shape, "output " + o.name());
        MemoryDescriptor plainOut = c.own(MemoryDescriptor.f32(Ops.plain(shape.length), shape));
        if (k == 0 && last.buffer() >= 0 && last.md().sameLayoutAs(plainOut) && c.buffers.get(last.buffer()).bytes() <= plainOut.byteSize()
                && !c.customStepUses(last.buffer()) && writersReadOneInput(c, last.buffer()) && !otherOutputReads(c, last.buffer())) {
            c.outputAlias = last.buffer();   // the last layer writes straight into the caller's output
        } else {
            Primitive p = c.own(Reorder.primitive(last.md(), plainOut, "reorder to the plain output " + o.name()));
            c.emit(p, "reorder to the plain output " + o.name(), PlanArg.of(Args.FROM, last.md(), last.buffer()),
                    PlanArg.of(Args.TO, plainOut, PlanArg.outputId(k)));
        }
    }

    /**
     * A graph output known when compiling (ONNX Dropout's mask, a Shape of fixed dims): an integer or bool tensor copied
     * byte for byte into the caller's output by a Java step each run (exact at any magnitude; null returned), else (F32,
     * or values a rule folded, held as floats) its floats written into a plan buffer by a Java step each run, returned
     * for the usual way to the caller's output ({@link LowerCarried#writeOutput} for another dtype).
     */
    private static Compiler.Value constantOutput(Compiler c, int k, dev.panamadnn.graph.Value o) {
        long[] shape = o.shape().sizes();
        dev.panamadnn.Tensor t = c.graph.tensor(o.name());
        if (o.dtype() == dev.panamadnn.DataType.F32 || t == null || t.dtype() != o.dtype()) {
            java.lang.foreign.MemorySegment values = c.constant(c.graph.floats(o.name()));
            return javaStep(c, List.of(), List.of(shape), (src, dst) -> java.lang.foreign.MemorySegment.copy(values, 0, dst[0], 0, values.byteSize()),
                    "java constant output " + o.name()).get(0);
        }
        java.lang.foreign.MemorySegment bytes = c.constants.allocate(t.segment().byteSize());
        bytes.copyFrom(t.segment());
        c.steps.add(new PlanStep(null, List.of(), "java constant " + o.dtype() + " output " + o.name(), null,
                new JavaStep((src, dst) -> java.lang.foreign.MemorySegment.copy(bytes, 0, dst[0], 0, bytes.byteSize()), new int[0], new long[0][],
                        new int[] {PlanArg.outputId(k)}, new long[][] {shape})));
        return null;
    }

    /** Whether each step writing into plan buffer {@code b} reads at most one caller input (a run holds two caller buffers per step). */
    private static boolean writersReadOneInput(Compiler c, int b) {
        for (PlanStep st : c.steps) {
            boolean writes = false;   // loops, not lambdas, on the compile path (each lambda: a spun class in a cold JVM)
            java.util.Set<Integer> callers = new java.util.HashSet<>();
            for (PlanArg a : st.args()) {
                if (a.buffer() == b) writes = true;
                if (PlanArg.callerIndex(a.buffer(), c.inputs.size()) >= 0) callers.add(a.buffer());
            }
            if (writes && callers.size() > 1) return false;
        }
        return true;
    }

    /** Whether another graph output is the value in plan buffer {@code b} (it is then copied from there after the run's last step). */
    private static boolean otherOutputReads(Compiler c, int b) {
        for (int k = 1; k < c.outputs.size(); k++) {
            Compiler.Value v = c.values.get(c.outputs.get(k).name());
            if (v != null && v.buffer() == b) return true;
        }
        return false;
    }

    /**
     * A Java step reading {@code xs} (each plain, in a plan buffer: see {@link #javaInput}) and
     * writing new plain buffers of {@code outShapes}; returns those values.
     */
    static List<Compiler.Value> javaStep(Compiler c, List<Compiler.Value> xs, List<long[]> outShapes, JavaStep.MultiKernel kernel, String description) {
        int[] ins = new int[xs.size()], outs = new int[outShapes.size()];
        long[][] inShapes = new long[xs.size()][];
        List<Compiler.Value> result = new ArrayList<>();
        for (int i = 0; i < ins.length; i++) {
            ins[i] = xs.get(i).buffer();
            inShapes[i] = xs.get(i).shape();
            c.touch(ins[i]);
        }
        for (int o = 0; o < outs.length; o++) {
            long[] shape = outShapes.get(o);
            MemoryDescriptor dst = c.own(MemoryDescriptor.f32(Ops.plain(shape.length), shape));
            outs[o] = c.newBuffer(Math.max(4, dst.byteSize()));
            c.touch(outs[o]);
            result.add(new Compiler.Value(dst, outs[o], shape));
        }
        long[][] outs2 = outShapes.toArray(new long[0][]);
        c.steps.add(new PlanStep(null, List.of(), description, null, new JavaStep(kernel, ins, inShapes, outs, outs2)));
        return result;
    }

    /** {@code x} plain in a plan buffer (a copy when it is the caller's input), for a Java step of {@code what}. */
    static Compiler.Value javaInput(Compiler c, Compiler.Value x, String what) {
        if (x.buffer() < 0) {
            x = c.reorder(x, c.own(MemoryDescriptor.f32(Ops.plain(x.shape().length), x.shape())), "reorder (copy) of the input for " + what);
        }
        return c.plain(x, "reorder to plain for " + what);
    }
}
