package dev.panamadnn.compile;

import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.ConvOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Reorder;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The values {@link ConcatInPlace} placed in a channel concat's buffer ({@link PlanGraph#concatRegions}), as the plan
 * being compiled lays them out: each root concat owns one blocked buffer; the values it concatenates are views of its
 * channels, which convolutions write directly; readers that cannot take a view get a dense copy ({@link #dense}).
 */
final class ConcatPlacement {
    private final Compiler plan;

    ConcatPlacement(Compiler plan) {
        this.plan = plan;
    }

    /** The buffer and full layout of each concat root ({@link PlanGraph#concatRegions}), by its output's name. */
    private final Map<String, Value> roots = new HashMap<>();
    /** The value in its region, per placed value (the same object each time: {@link Compiler#reordered} is by identity). */
    private final Map<String, Value> regions = new HashMap<>();
    /** The layouts that are views of part of a root's channels (by identity): only some readers take them. */
    private final Set<MemoryDescriptor> views = Collections.newSetFromMap(new IdentityHashMap<>());

    /**
     * {@code value} where {@link ConcatInPlace} placed it, in its root's blocked buffer: the root's own layout for the
     * root, a view of its channels for the rest; null if it has no place.
     */
    Value region(String value) {
        PlanGraph.Region r = plan.graph.concatRegions.get(value);
        if (r == null) return null;
        Value placed = regions.get(value);
        if (placed != null) return placed;
        Value root = roots.get(r.root());
        if (root == null) {
            long[] shape = plan.graph.value(r.root()).shape().sizes();
            MemoryDescriptor md = plan.own(MemoryDescriptor.f32(ConvOps.channelBlocked4d(), shape));
            root = new Value(md, plan.newBuffer(md.byteSize()), shape);
            roots.put(r.root(), root);
        }
        long[] shape = plan.graph.value(value).shape().sizes();
        if (Arrays.equals(shape, root.shape())) {
            placed = root;
        } else {
            MemoryDescriptor sub = plan.own(root.md().submemory(shape, new long[] {0, r.offset(), 0, 0}));
            views.add(sub);
            placed = new Value(sub, root.buffer(), shape);
        }
        regions.put(value, placed);
        return placed;
    }

    /** Whether {@code x} is a view of some of a concat root's channels, which most primitives cannot read. */
    boolean isView(Value x) {
        return views.contains(x.md());
    }

    /** {@code x} as a dense activation: itself, or for a view of a concat's channels a copy in the blocked layout (made once). */
    Value dense(Value x) {
        if (!isView(x)) return x;
        return plan.reorder(x, plan.own(MemoryDescriptor.f32(ConvOps.channelBlocked4d(), x.shape())), "copy of a concat's channels to a dense activation");
    }

    /** After {@code value} was computed as {@code v}: a copy into its place in a concat's buffer unless it was written there. */
    void placeInRegion(String value, Value v) {
        Value r = region(value);
        if (r == null || r == v || v.buffer() == r.buffer() && v.md().sameLayoutAs(r.md())) return;
        plan.emit(plan.own(Reorder.primitive(v.md(), r.md(), "copy into a concat")), "copy of " + value + " into its place in "
                + plan.graph.concatRegions.get(value).root(), PlanArg.of(Args.FROM, v.md(), v.buffer()), PlanArg.of(Args.TO, r.md(), r.buffer()));
    }
}
