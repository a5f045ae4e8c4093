package dev.panamadnn.compile;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.graph.Node;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The reductions and selections over values {@link LowerCarried} holds at run time, as Java steps over plain
 * buffers: ReduceSum and CumSum of integers (an attention mask's lengths, position ids), every sum checked to stay
 * an exact F32 value; ArgMax/ArgMin and TopK, whose indices are held as exact F32 values (an axis of at most 2^24).
 */
final class LowerCarriedSelect {
    private LowerCarriedSelect() {}

    /** ReduceSum of integer values computed at run time (an attention mask's lengths), over constant axes; sums checked exact. */
    static Value reduceSum(Compiler plan, Node n) {
        long[] x = LowerIndex.shape(plan, n.input(0)), y = LowerIndex.out(plan, n, 0);
        int rank = x.length;
        boolean[] reduced = new boolean[rank];
        long[] axes = n.inputs().size() > 1 && n.input(1) != null && !n.input(1).isEmpty() ? LowerIndex.constant(plan, n, 1)
                : n.attributes().integers("axes", null);
        if (axes == null || axes.length == 0) {
            if (n.attributes().integer("noop_with_empty_axes", 0) != 0) return null;   // an identity: as before
            java.util.Arrays.fill(reduced, true);
        } else {
            for (long a : axes) reduced[(int) (a < 0 ? a + rank : a)] = true;
        }
        long total = LowerIndex.prod(x, 0, rank);
        int outSize = Math.toIntExact(LowerIndex.prod(y, 0, y.length));
        long[] target = new long[Math.toIntExact(total)];   // each input element's output position
        long[] at = new long[rank];
        for (int i = 0; i < target.length; i++) {
            long o = 0;
            for (int d = 0; d < rank; d++) if (!reduced[d]) o = o * x[d] + at[d];
            target[i] = o;
            for (int d = rank - 1; d >= 0; d--) {
                if (++at[d] < x[d]) break;
                at[d] = 0;
            }
        }
        String label = n.label();
        return PlanOutputs.javaStep(plan, List.of(LowerIndex.input(plan, n, 0)), List.of(y), (src, dst) -> {
            long[] sum = new long[outSize];
            for (int i = 0; i < target.length; i++) sum[(int) target[i]] += (long) src[0].getAtIndex(JAVA_FLOAT, i);
            for (int o = 0; o < outSize; o++) dst[0].setAtIndex(JAVA_FLOAT, o, LowerCarried.held(label, sum[o]));
        }, "java integer reducesum " + n.name()).get(0);
    }

    /** CumSum of integer values computed at run time along a constant axis (exclusive and reverse as ONNX); sums checked exact. */
    static Value cumSum(Compiler plan, Node n) {
        long[] x = LowerIndex.shape(plan, n.input(0));
        long a = LowerIndex.constant(plan, n, 1)[0];
        int axis = (int) (a < 0 ? a + x.length : a);
        long outer = LowerIndex.prod(x, 0, axis), len = x[axis], inner = LowerIndex.prod(x, axis + 1, x.length);
        boolean exclusive = n.attributes().integer("exclusive", 0) != 0, reverse = n.attributes().integer("reverse", 0) != 0;
        String label = n.label();
        return PlanOutputs.javaStep(plan, List.of(LowerIndex.input(plan, n, 0)), List.of(x), (src, dst) -> {
            for (long p = 0; p < outer; p++) {
                for (long q = 0; q < inner; q++) {
                    long s = 0;
                    for (long k = 0; k < len; k++) {
                        long i = reverse ? len - 1 - k : k, at = (p * len + i) * inner + q;
                        long v = (long) src[0].getAtIndex(JAVA_FLOAT, at);
                        if (!exclusive) s += v;
                        dst[0].setAtIndex(JAVA_FLOAT, at, LowerCarried.held(label, s));
                        if (exclusive) s += v;
                    }
                }
            }
        }, "java integer cumsum " + n.name() + " on axis " + axis).get(0);
    }

    static Value argMinMax(Compiler plan, Node n) {
        long[] x = LowerIndex.shape(plan, n.input(0));
        int axis = (int) Math.floorMod(n.attributes().integer("axis", 0), (long) x.length);
        long outer = LowerIndex.prod(x, 0, axis), size = x[axis], inner = LowerIndex.prod(x, axis + 1, x.length);
        if (size > LowerCarried.MAX_EXACT) throw Compiler.unsupported(n, "an axis of " + size + " elements (a plan holds indices as exact F32 values, up to 2^24)");
        boolean max = n.op().equals("ArgMax"), last = n.attributes().integer("select_last_index", 0) != 0;
        // numpy.argmax/argmin (ONNX's reference): the first (or last) extreme, a NaN counting as the extreme.
        return PlanOutputs.javaStep(plan, List.of(LowerIndex.input(plan, n, 0)), List.of(LowerIndex.out(plan, n, 0)), (src, dst) -> {
            for (long a = 0; a < outer; a++) {
                for (long b = 0; b < inner; b++) {
                    long base = a * size * inner + b;
                    long best = 0;
                    float bv = src[0].getAtIndex(JAVA_FLOAT, base);
                    for (long i = 1; i < size; i++) {
                        float v = src[0].getAtIndex(JAVA_FLOAT, base + i * inner);
                        boolean take;
                        if (Float.isNaN(bv)) take = last && Float.isNaN(v);
                        else if (Float.isNaN(v)) take = true;
                        else take = max ? (last ? v >= bv : v > bv) : (last ? v <= bv : v < bv);
                        if (take) {
                            best = i;
                            bv = v;
                        }
                    }
                    dst[0].setAtIndex(JAVA_FLOAT, a * inner + b, best);
                }
            }
        }, "java " + n.op().toLowerCase(java.util.Locale.ROOT) + " " + n.name() + " on axis " + axis + (last ? " (last index)" : "")).get(0);
    }

    /**
     * TopK: per line along {@code axis}, the K extremes and their indices (held as exact F32 values: the axis is below
     * 2^24), always sorted (ONNX leaves the order free for sorted = 0). Equal values keep the lower index first (ONNX's
     * rule; torch.topk's order of ties varies, torch.sort(stable=True)'s is this one); a NaN counts as larger than every
     * number (PyTorch). A binary heap of the K best so far in a plan scratch buffer of K floats (their indices): O(n log K),
     * no allocation per run.
     */
    static List<Value> topK(Compiler plan, Node n) {
        long[] x = LowerIndex.shape(plan, n.input(0)), y = LowerIndex.out(plan, n, 0);
        int axis = (int) Math.floorMod(n.attributes().integer("axis", -1), (long) x.length);
        long outer = LowerIndex.prod(x, 0, axis), size = x[axis], inner = LowerIndex.prod(x, axis + 1, x.length);
        int k = Math.toIntExact(y[axis]);
        if (size > LowerCarried.MAX_EXACT) throw Compiler.unsupported(n, "an axis of " + size + " elements (a plan holds indices as exact F32 values, up to 2^24)");
        if (k > size) throw Compiler.unsupported(n, "K = " + k + " is larger than dim " + axis + " (" + size + ") of the input");
        boolean largest = n.attributes().integer("largest", 1) != 0;
        TopK top = new TopK(largest, size, inner, k);
        List<long[]> outs = n.outputs().size() == 1 ? List.of(y, new long[] {k}) : List.of(y, y, new long[] {k});
        List<Value> r = PlanOutputs.javaStep(plan, List.of(LowerIndex.input(plan, n, 0)), outs, (src, dst) -> {
            MemorySegment heap = dst[dst.length - 1];
            for (long a = 0; a < outer; a++) {
                for (long b = 0; b < inner; b++) top.line(src[0], a * size * inner + b, heap, dst[0], dst.length > 2 ? dst[1] : null, a * k * inner + b);
            }
        }, "java topk " + n.name() + " on axis " + axis + " (k " + k + (largest ? ", largest)" : ", smallest)"));
        return r.subList(0, n.outputs().size());
    }

    /** TopK over one line: {@code size} elements {@code inner} apart. */
    private record TopK(boolean largest, long size, long inner, int k) {
        /** Whether element {@code i} (value {@code a}) goes before element {@code j} (value {@code b}): NaN the largest, ties by index. */
        boolean before(float a, long i, float b, long j) {
            boolean na = Float.isNaN(a), nb = Float.isNaN(b);
            if (na || nb) {
                if (na && nb) return i < j;
                return largest == na;   // NaN first when largest, last when smallest
            }
            if (a != b) return largest ? a > b : a < b;
            return i < j;   // equal (-0 == 0 as well): the lower index first
        }

        /** Whether heap entry {@code p} goes before entry {@code q} (the heap's root is the entry that goes last). */
        private boolean before(MemorySegment x, long base, MemorySegment heap, int p, int q) {
            long i = (long) heap.getAtIndex(JAVA_FLOAT, p), j = (long) heap.getAtIndex(JAVA_FLOAT, q);
            return before(x.getAtIndex(JAVA_FLOAT, base + i * inner), i, x.getAtIndex(JAVA_FLOAT, base + j * inner), j);
        }

        void line(MemorySegment x, long base, MemorySegment heap, MemorySegment values, MemorySegment indices, long to) {
            for (int h = 0; h < k; h++) {   // the first k elements, sifted up: the root is the one that goes last
                heap.setAtIndex(JAVA_FLOAT, h, h);
                for (int c = h; c > 0 && before(x, base, heap, (c - 1) / 2, c); c = (c - 1) / 2) swap(heap, c, (c - 1) / 2);
            }
            for (long i = k; i < size; i++) {
                long root = (long) heap.getAtIndex(JAVA_FLOAT, 0);
                if (!before(x.getAtIndex(JAVA_FLOAT, base + i * inner), i, x.getAtIndex(JAVA_FLOAT, base + root * inner), root)) continue;
                heap.setAtIndex(JAVA_FLOAT, 0, i);
                siftDown(x, base, heap, k);
            }
            for (int end = k - 1; end >= 0; end--) {   // pop the last-going entry to the end: best first
                long i = (long) heap.getAtIndex(JAVA_FLOAT, 0);
                values.setAtIndex(JAVA_FLOAT, to + end * inner, x.getAtIndex(JAVA_FLOAT, base + i * inner));
                if (indices != null) indices.setAtIndex(JAVA_FLOAT, to + end * inner, i);
                swap(heap, 0, end);
                siftDown(x, base, heap, end);
            }
        }

        private void siftDown(MemorySegment x, long base, MemorySegment heap, int count) {
            for (int p = 0; ; ) {
                int c = 2 * p + 1;
                if (c >= count) return;
                if (c + 1 < count && before(x, base, heap, c, c + 1)) c++;   // the child that goes later
                if (!before(x, base, heap, p, c)) return;
                swap(heap, p, c);
                p = c;
            }
        }

        private static void swap(MemorySegment heap, int p, int q) {
            float t = heap.getAtIndex(JAVA_FLOAT, p);
            heap.setAtIndex(JAVA_FLOAT, p, heap.getAtIndex(JAVA_FLOAT, q));
            heap.setAtIndex(JAVA_FLOAT, q, t);
        }
    }
}
