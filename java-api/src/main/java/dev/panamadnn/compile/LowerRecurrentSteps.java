package dev.panamadnn.compile;

import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.compile.LowerRecurrent.Rnn;
import dev.panamadnn.compile.LowerRecurrent.State;
import dev.panamadnn.internal.dnnl.Arg;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.Chosen;
import dev.panamadnn.internal.dnnl.ConvOps;
import dev.panamadnn.internal.dnnl.Execution;
import dev.panamadnn.internal.dnnl.MathOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.PostOps;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import dev.panamadnn.internal.dnnl.RnnOps;
import dev.panamadnn.internal.dnnl.Stream;
import dev.panamadnn.natives.ThreadControl;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * PyTorch's GRU (ONNX {@code GRU} with {@code linear_before_reset = 1}) at batch 1 as two oneDNN convolutions a step
 * instead of oneDNN's GRU primitive, where that is faster (docs/benchmarks.md, "Where oneDNN's batch-1 GRU spends its
 * time"): at batch 1 the primitive's recurrent product is oneDNN's SSE4.1 matrix-vector kernel, while a 1x1
 * convolution over a 1x1 image in the channel-blocked layout (the same bytes as a plain vector when the hidden size is a
 * multiple of the block) runs oneDNN's AVX-512 (or AVX2) 1x1 kernel, each thread on its own slice of the weights.
 *
 * <p>One inner product first computes every step's input side, {@code gx[t] = [W_r x_t + b_ir + b_hr | -(W_z x_t +
 * b_iz + b_hz) | W_n x_t + b_in]} (per direction); then, per step and direction, with {@code h} the previous output
 * (the initial state at the first step):
 * <pre>
 *   [r | u] = logistic(gx_rz[t] + h [R_r | -R_z])          (u = logistic(-a_z) = 1 - z)
 *   h'      = ((h R_n + b_hn) * r + gx_n[t]) tanh'd = n, then n + u * (h - n)
 * </pre>
 * the second as post-ops (binary mul, add, eltwise tanh, binary sub, mul, add) of its convolution, which writes
 * {@code h'} straight into Y. {@code n + u (h - n)} is PyTorch's {@code (1 - z) n + z h} for any finite or NaN
 * {@code h} (an infinite one would give NaN here), so an initial state is taken only as a finite constant.
 *
 * <p>Chosen ({@link #eligible}) for batch 1, constant weights, no sequence_lens, a hidden size that is a multiple of
 * the channel block, and where one direction's recurrent weights ({@code 12 H^2} bytes) exceed one core's L2 but fit
 * the L2 of the plan's threads together: the measured case where it wins (hidden 512 on two 2 MB-L2 cores: 4.2 against
 * 5.4 ms); below, two primitive calls a step cost more than they save, and above, both forms stream their weights
 * from memory; and at most {@link #MAX_STEPS} steps, since each context binds every step's two convolutions once (15
 * oneDNN memory objects a step and direction) so that a run only executes them. The loop is one plan step ({@link Run});
 * it touches only the plan's own buffers, never the caller's memory.
 */
final class LowerRecurrentSteps {
    private LowerRecurrentSteps() {}

    /**
     * System property, read at each compile: {@code auto} (the default: the cache rule below decides), {@code on} (every
     * GRU the form applies to, whatever its size and threads) or {@code off} (never): for tests and measurements.
     */
    static final String PROPERTY = "panamadnn.gru.steps";

    /**
     * The longest sequence run as convolution steps: a context holds two bound convolutions per step and direction (15
     * oneDNN memory objects; a 128-step context measured 77.6 ms to make and 6.4 MB resident, a bidirectional 1,024-step
     * one 400 ms and 85 MB against the GRU primitive's 148 ms and 31 MB).
     */
    static final long MAX_STEPS = 256;

    /** Whether the node's GRU runs as convolution steps (see the class comment). */
    static boolean eligible(Compiler plan, Rnn g, boolean runtimeWeights, int[] lengths, State h0) {
        String mode = System.getProperty(PROPERTY, "auto").strip();
        if (!mode.equals("auto") && !mode.equals("on") && !mode.equals("off")) {
            throw new IllegalArgumentException(PROPERTY + ": expected auto, on or off, got '" + mode + "'");
        }
        if (g.lstm() || g.vanilla() || !g.lbr() || runtimeWeights || lengths != null || g.batch() != 1) return false;
        if (h0 != null && (h0.constant() == null || !finite(h0.constant()))) return false;
        if (g.hidden() % ConvOps.channelBlock() != 0 || g.steps() < 1 || g.steps() > MAX_STEPS) return false;
        if (!mode.equals("auto")) return mode.equals("on");
        int threads = plan.threads() > 0 ? plan.threads() : ThreadControl.openmp() ? ThreadControl.openmpMaxThreads() : 1;
        long[] l2 = L2;
        if (threads < 2 || l2 == null) return false;
        long weights = 12L * g.hidden() * g.hidden();   // one direction's R: 3H x H floats
        return weights > l2[0] && weights <= l2[0] * Math.min(threads, l2[1]);
    }

    private static boolean finite(float[] v) {
        for (float x : v) if (!Float.isFinite(x)) return false;
        return true;
    }

    /** {bytes of one L2 cache, how many distinct L2 caches the CPUs have}, from Linux's sysfs; null if unknown. */
    private static final long[] L2 = l2();

    private static long[] l2() {
        try {
            long size = -1;
            Set<String> shared = new HashSet<>();
            try (var cpus = Files.newDirectoryStream(Path.of("/sys/devices/system/cpu"), "cpu[0-9]*")) {
                for (Path cpu : cpus) {
                    Path caches = cpu.resolve("cache");
                    if (!Files.isDirectory(caches)) continue;
                    try (var idx = Files.newDirectoryStream(caches, "index[0-9]*")) {
                        for (Path i : idx) {
                            if (!Files.readString(i.resolve("level")).strip().equals("2")) continue;
                            String type = Files.readString(i.resolve("type")).strip();
                            if (!type.equals("Unified") && !type.equals("Data")) continue;
                            String s = Files.readString(i.resolve("size")).strip();
                            long bytes = s.endsWith("K") ? Long.parseLong(s.substring(0, s.length() - 1)) * 1024
                                    : s.endsWith("M") ? Long.parseLong(s.substring(0, s.length() - 1)) << 20 : Long.parseLong(s);
                            size = size < 0 ? bytes : Math.min(size, bytes);
                            shared.add(Files.readString(i.resolve("shared_cpu_list")).strip());
                        }
                    }
                }
            }
            return size > 0 && !shared.isEmpty() ? new long[] {size, shared.size()} : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * The node's steps: the input-side inner product, then the loop (one plan step). Returns the buffers of Y
     * ({@code [T, 1, D*H]}) and Y_h ({@code [D, 1, H]}), and -1 for Y_c.
     */
    static int[] lower(Compiler plan, dev.panamadnn.graph.Node n, Rnn g, float[] wl, float[] wi, float[] bias, Value x, State h0) {
        int h = g.hidden(), dirs = g.dirs(), features = g.features();
        long steps = g.steps(), gates = 3L * h;
        String at = n.name();
        // ldigo [D][I][3][H] and [D][H][3][H] in oneDNN's GRU gate order z, r, h; ldgo bias [D][4][H]: z, r, h (input side
        // for h), then h's recurrent bias.
        float[] proj = new float[Math.toIntExact(dirs * gates * features)], projBias = new float[Math.toIntExact(dirs * gates)];
        for (int d = 0; d < dirs; d++) {
            for (int c = 0; c < 3 * h; c++) {
                int gate = c < h ? 1 : c < 2 * h ? 0 : 2, o = c % h;   // columns r | u = -z | n
                float sign = gate == 0 ? -1f : 1f;
                long row = (long) d * 3 * h + c;
                for (int i = 0; i < features; i++) proj[Math.toIntExact(row * features + i)] = sign * wl[((d * features + i) * 3 + gate) * h + o];
                projBias[Math.toIntExact(row)] = sign * bias[(d * 4 + gate) * h + o];
            }
        }
        MemoryDescriptor xmd = plan.own(MemoryDescriptor.f32(Ops.plain(2), steps, features));
        MemoryDescriptor pw = plan.own(MemoryDescriptor.f32(ConvOps.anyFormat(), dirs * gates, features));
        MemoryDescriptor pb = plan.own(MemoryDescriptor.f32(Ops.plain1d(), dirs * gates));
        MemoryDescriptor gxmd = plan.own(MemoryDescriptor.f32(Ops.plain(2), steps, dirs * gates));
        Primitive ip;
        MemoryDescriptor pwChosen;
        String ipImpl;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = Ops.innerProduct(xmd, pw, pb, gxmd, attr, "compiled GRU " + at + " input side")) {
            pwChosen = plan.own(Chosen.weights(pd));
            ip = plan.own(Primitive.create(pd));
            ipImpl = pd.implementation();
        }
        MemorySegment pwConst;
        try (MemoryDescriptor plainW = MemoryDescriptor.f32(Ops.plain(2), dirs * gates, features)) {
            pwConst = plan.reorderedConstant(plainW, proj, pwChosen, "reorder the input-side weights of " + at);
        }
        int gx = plan.newBuffer(gxmd.byteSize());
        plan.emit(ip, "inner product " + at + " input side of " + steps + " steps x " + dirs + " directions (GRU as convolution steps) ["
                + ipImpl + "]", PlanArg.of(Args.SRC, xmd, x.buffer()), PlanArg.constant(Args.WEIGHTS, pwChosen, pwConst),
                PlanArg.constant(Args.BIAS, pb, plan.constant(projBias)), PlanArg.of(Args.DST, gxmd, gx));
        plan.flops += 2L * steps * dirs * gates * features;

        // The two per-step convolutions, one pair of primitives for every direction (the weights are arguments)
        int blocked = ConvOps.channelBlocked4d();
        MemoryDescriptor vh = plan.own(MemoryDescriptor.f32(blocked, 1, h, 1, 1)), v2h = plan.own(MemoryDescriptor.f32(blocked, 1, 2L * h, 1, 1));
        MemoryDescriptor wrzAny = plan.own(MemoryDescriptor.f32(ConvOps.anyFormat(), 2L * h, h, 1, 1));
        MemoryDescriptor wnAny = plan.own(MemoryDescriptor.f32(ConvOps.anyFormat(), h, h, 1, 1));
        MemoryDescriptor bn = plan.own(MemoryDescriptor.f32(Ops.plain1d(), h));
        long[] one = {1, 1}, zero = {0, 0};
        Primitive rz, nn;
        MemoryDescriptor wrz, wn;
        String rzImpl, nImpl;
        try (PostOps po = PostOps.create().add(v2h).eltwise(Ops.eltwise("SIGMOID", 0f));
             PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad(po);
             PrimitiveDescriptor pd = ConvOps.convolution(vh, wrzAny, null, v2h, one, zero, zero, zero, attr, "compiled GRU " + at + " gates")) {
            wrz = plan.own(Chosen.weights(pd));
            rz = plan.own(Primitive.create(pd));
            rzImpl = pd.implementation();
        }
        try (PostOps po = PostOps.create().binary(MathOps.Binary.MUL, vh).add(vh).eltwise(Ops.eltwise("TANH", 0f))
                .binary(MathOps.Binary.SUB, vh).binary(MathOps.Binary.MUL, vh).add(vh);
             PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad(po);
             PrimitiveDescriptor pd = ConvOps.convolution(vh, wnAny, bn, vh, one, zero, zero, zero, attr, "compiled GRU " + at + " state")) {
            wn = plan.own(Chosen.weights(pd));
            nn = plan.own(Primitive.create(pd));
            nImpl = pd.implementation();
        }
        MemorySegment[] wrzConst = new MemorySegment[dirs], wnConst = new MemorySegment[dirs], bnConst = new MemorySegment[dirs];
        float[] h0v = new float[dirs * h];
        if (h0 != null) System.arraycopy(h0.constant(), 0, h0v, 0, h0v.length);
        try (MemoryDescriptor plainRz = MemoryDescriptor.f32(ConvOps.rowMajor(4), 2L * h, h, 1, 1);
             MemoryDescriptor plainN = MemoryDescriptor.f32(ConvOps.rowMajor(4), h, h, 1, 1)) {
            for (int d = 0; d < dirs; d++) {
                float[] oRz = new float[2 * h * h], oN = new float[h * h], b = new float[h];
                for (int o = 0; o < h; o++) {
                    for (int k = 0; k < h; k++) {
                        int base = (d * h + k) * 3 * h;   // R ldigo [d][k][gate][o]
                        oRz[o * h + k] = wi[base + h + o];                 // r
                        oRz[(h + o) * h + k] = -wi[base + o];              // u = -z
                        oN[o * h + k] = wi[base + 2 * h + o];              // n
                    }
                    b[o] = bias[(d * 4 + 3) * h + o];                      // b_hn
                }
                wrzConst[d] = plan.reorderedConstant(plainRz, oRz, wrz, "reorder the gate weights of " + at);
                wnConst[d] = plan.reorderedConstant(plainN, oN, wn, "reorder the state weights of " + at);
                bnConst[d] = plan.constant(b);
            }
        }
        int y = plan.newBuffer(4L * steps * dirs * h), yh = plan.newBuffer(4L * dirs * h), gates2 = plan.newBuffer(8L * h);
        Loop loop = new Loop(rz, nn, vh, v2h, wrz, wn, bn, wrzConst, wnConst, bnConst, plan.constant(h0v), gx, gates2, y, yh, steps, dirs, h,
                g.direction() == RnnOps.Direction.REVERSE);
        plan.flops += 2L * steps * dirs * gates * h;
        plan.emitLoop(loop, "gru " + at + " (" + g.direction().name().toLowerCase(java.util.Locale.ROOT) + ") as " + steps + " steps of two 1x1 "
                + "convolutions [" + rzImpl + ", " + nImpl + "]");
        return new int[] {y, yh, -1};
    }

    /**
     * The loop step: per direction the gate convolution ({@code rz}) and the state convolution ({@code n}) with their
     * weights, the initial states {@code h0} ({@code [D, H]}), and the plan buffers it reads ({@code gx}) and writes
     * ({@code gates}, a step's {@code [r | u]}; {@code y}, {@code [T, D*H]}; {@code yh}, {@code [D, H]}).
     */
    record Loop(Primitive rz, Primitive n, MemoryDescriptor vh, MemoryDescriptor v2h, MemoryDescriptor wrz, MemoryDescriptor wn,
                MemoryDescriptor bn, MemorySegment[] wrzConst, MemorySegment[] wnConst, MemorySegment[] bnConst, MemorySegment h0, int gx,
                int gates, int y, int yh, long steps, int dirs, int hidden, boolean reverse) {
        int[] buffers() {
            return new int[] {gx, gates, y, yh};
        }

        boolean uses(int b) {
            for (int x : buffers()) if (x == b) return true;
            return false;
        }

        long scratchpadBytes() {
            return Math.max(rz.scratchpadBytes(), n.scratchpadBytes());
        }
    }

    /**
     * A context's loop: per direction and step, the two convolutions bound once to that step's slices of the context's
     * buffers (made here: a run only executes them, allocating and binding nothing).
     */
    static final class Run implements ExecutionContext.Action, AutoCloseable {
        private final Execution[][] rz, n;   // [direction][step, in execution order]
        private final MemorySegment[] last;  // per direction, Y at its last step
        private final MemorySegment yh;
        private final long bytes;

        /** {@code slot(b)}: the context's memory of plan buffer {@code b}; {@code arena} holds the executions' argument arrays. */
        Run(Loop loop, java.util.function.IntFunction<MemorySegment> slot, MemorySegment scratch, Arena arena) {
            int dirs = loop.dirs(), h = loop.hidden(), t = Math.toIntExact(loop.steps());
            long vh = 4L * h, row = vh * dirs, gxRow = 3 * vh * dirs;
            MemorySegment gx = slot.apply(loop.gx()), gates = slot.apply(loop.gates()), y = slot.apply(loop.y());
            MemorySegment r = gates.asSlice(0, vh), u = gates.asSlice(vh, vh), ru = gates.asSlice(0, 2 * vh);
            yh = slot.apply(loop.yh()).asSlice(0, row);
            bytes = vh;
            rz = new Execution[dirs][t];
            n = new Execution[dirs][t];
            last = new MemorySegment[dirs];
            try {
                for (int d = 0; d < dirs; d++) {
                    boolean backwards = loop.reverse() || d == 1;
                    for (int k = 0; k < t; k++) {
                        int s = backwards ? t - 1 - k : k, before = backwards ? s + 1 : s - 1;
                        MemorySegment prev = k == 0 ? loop.h0().asSlice(d * vh, vh) : y.asSlice(before * row + d * vh, vh);
                        MemorySegment out = y.asSlice(s * row + d * vh, vh);
                        long at = s * gxRow + d * 3 * vh;
                        rz[d][k] = new Execution(loop.rz(), List.of(new Arg(Args.SRC, loop.vh(), prev),
                                new Arg(Args.WEIGHTS, loop.wrz(), loop.wrzConst()[d]), new Arg(Args.DST, loop.v2h(), ru),
                                Args.postOpSrc1(0, loop.v2h(), gx.asSlice(at, 2 * vh))), scratch, arena);
                        n[d][k] = new Execution(loop.n(), List.of(new Arg(Args.SRC, loop.vh(), prev),
                                new Arg(Args.WEIGHTS, loop.wn(), loop.wnConst()[d]), new Arg(Args.BIAS, loop.bn(), loop.bnConst()[d]),
                                new Arg(Args.DST, loop.vh(), out), Args.postOpSrc1(0, loop.vh(), r),
                                Args.postOpSrc1(1, loop.vh(), gx.asSlice(at + 2 * vh, vh)), Args.postOpSrc1(3, loop.vh(), prev),
                                Args.postOpSrc1(4, loop.vh(), u), Args.postOpSrc1(5, loop.vh(), prev)), scratch, arena);
                        if (k == t - 1) last[d] = out;
                    }
                }
            } catch (RuntimeException | Error e) {
                close();
                throw e;
            }
        }

        /** The oneDNN memory objects its executions hold (for {@link ExecutionContext}'s count). */
        long nativeObjects() {
            return 15L * rz.length * rz[0].length;   // per direction and step: rz 4 arguments + scratchpad, n 9 + scratchpad
        }

        /** The whole sequence, every direction; then the final states into Y_h. */
        @Override
        public void run(Stream stream) {
            for (int d = 0; d < rz.length; d++) {
                Execution[] a = rz[d], b = n[d];
                for (int k = 0; k < a.length; k++) {
                    a[k].execute(stream);
                    b[k].execute(stream);
                }
            }
            stream.await();
            for (int d = 0; d < last.length; d++) MemorySegment.copy(last[d], 0, yh, d * bytes, bytes);
        }

        @Override
        public void close() {   // also after a failed constructor: the executions made so far
            for (Execution[][] all : new Execution[][][] {rz, n}) {
                for (Execution[] dir : all) for (Execution e : dir) if (e != null) e.close();
            }
        }
    }
}
