package dev.panamadnn.compile;

import dev.panamadnn.internal.dnnl.Execution;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.Reorder;
import dev.panamadnn.internal.dnnl.Stream;
import dev.panamadnn.internal.lifetime.InFlightCalls;
import dev.panamadnn.natives.OpenMpTeam;
import dev.panamadnn.natives.ThreadControl;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Winograd F(4x4, 3x3) convolution for the compiled plan: 3x3, stride 1, padding 1 convolutions
 * as 36 independent matrix products on transformed 6x6 input tiles, 2.25 instead of 9
 * multiply-adds per output point and input channel (4x fewer). oneDNN 3.x has no CPU Winograd, so
 * the plan does it itself: the weights are transformed once at compile time (here, in double), the
 * 36 products are one oneDNN batched matmul primitive ({@code [36, tiles, C] x [36, C, K]}), and
 * the input and output transforms ({@link WinogradKernels}, with bias, residual sum and ReLU fused
 * into the output one) run on the calling thread with the Vector API. Tiles go through in chunks
 * small enough for the transformed data to stay in cache between the three stages.
 *
 * <p>The Vector API is an incubator module: this path exists only when the JVM runs with {@code
 * --add-modules jdk.incubator.vector} ({@link #available()}); without it every convolution takes
 * oneDNN's direct kernels. Rounding differs from a direct convolution (the transforms scale by up to
 * 8 and 1/24): measured here about 1e-5 of the output's magnitude per layer. Until the transforms are
 * JIT-compiled (once per JVM) and the plan's weights transformed, both in the background after its
 * first run ({@link #prepare}), a step runs its direct convolution: interpreted, the transforms take
 * over a second per ResNet run. A NaN, an infinity or a
 * value beyond {@link #GUARD_LIMIT} in a step's input sends that run of the step to its direct
 * convolution, so exceptional values reach the outputs they reach in PyTorch.
 */
final class Winograd {
    private Winograd() {}

    /**
     * Fewer tiles than this and oneDNN's direct kernel wins: the transformed weights are 4x the
     * size of the direct ones, and with few tiles reading them dominates. Measured here (2 threads,
     * 3x3 conv + ReLU, Winograd time / direct time): 512 channels at 7x7, batch 1 (4 tiles) 1.52,
     * batch 2 (8) 1.28, batch 4 (16) 0.84; 256 at 14x14, batch 1 (16) 0.69; 128 at 28x28 (49) 0.55.
     */
    static final long MIN_TILES = 16;

    /**
     * The default of {@link #minChannels()}. Fewer input or output channels than this and oneDNN's direct kernel
     * wins: the transforms (Java, per tile) cost in proportion to C_in + C_out, the multiply-adds saved in
     * proportion to C_in x C_out. Measured (the scripts/bench --onnx models at 128x128, 2 threads, both plans in
     * one JVM alternating, best of 5, 2-vCPU AMD EPYC Zen 4): SqueezeNet 1.1, whose 3x3 convolutions are
     * 16-64 -> 64-256, batch 16 42.5 ms with Winograd against 35.5 without; DenseNet-121 (128 -> 32) 291 against
     * 238 at batch 16, 15.3 against 13.8 at batch 1; ResNet-18 (64 -> 64 and up) 49 against 83 at batch 16, 5.5
     * against 6.5 at batch 1; the digits CNN (16 channels, 8x8) 1.47 against 1.36 ms at batch 64.
     */
    static final int MIN_CHANNELS = 64;

    /**
     * The fewest input and output channels a convolution needs for Winograd: {@link #MIN_CHANNELS}, or the system
     * property {@code panamadnn.winograd.minChannels} (read per compile; e.g. 16 runs Winograd on narrower layers,
     * as this module's tests do to exercise it on small shapes).
     */
    static int minChannels() {
        return Integer.getInteger("panamadnn.winograd.minChannels", MIN_CHANNELS);
    }

    /**
     * The guard: a step whose input holds a value that is not finite or larger than this in magnitude
     * runs its direct convolution instead (see {@link Run}). A Winograd tile mixes its 6x6 inputs before
     * the products, so such a value would reach the whole 4x4 output tile (up to four tiles) instead of
     * its 3x3 neighbourhood, overflow in the transforms where the direct sum does not, and move every
     * output of its tiles by about 2e-7 of itself (measured, docs/compile.md). At 1024 that is about
     * the conformance tolerance for unit-scale activations (2.8e-4), far above ordinary activations
     * (the largest input of a 3x3 layer in ResNet-18/50 on normalised images: 12.5 / 310).
     */
    static final float GUARD_LIMIT = 0x1p10f;
    /** {@link #GUARD_LIMIT} as {@link WinogradKernels#maxMagnitudeBits} reports magnitudes. */
    private static final int GUARD_BITS = Float.floatToRawIntBits(GUARD_LIMIT);
    /** Switched off only by WinogradGuardMeasurement, to time runs without the scan side by side; never in the library. */
    static boolean guardForMeasurement = true;

    private static final boolean AVAILABLE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    /** Whether the Vector API module is in this JVM (it must be added with {@code --add-modules jdk.incubator.vector}). */
    static boolean available() {
        return AVAILABLE;
    }

    /**
     * Channel multiple the transforms need (the Vector API's preferred float lanes, {@link WinogradKernels#LANES});
     * only call if {@link #available()}. Read from the preferred shape, which the species is made from: initialising
     * the species classes (30-80 ms in a fresh JVM) can wait until a transform first runs, after the first result.
     */
    static int lanes() {
        return jdk.incubator.vector.VectorShape.preferredShape().vectorBitSize() / Float.SIZE;
    }

    /** F(4x4, 3x3)'s G (6 x 3), row-major. */
    private static final double[] G = {
            1 / 4.0, 0, 0, -1 / 6.0, -1 / 6.0, -1 / 6.0, -1 / 6.0, 1 / 6.0, -1 / 6.0,
            1 / 24.0, 1 / 12.0, 1 / 6.0, 1 / 24.0, -1 / 12.0, 1 / 6.0, 0, 0, 1};

    /**
     * {@code G g G^T} for every (output, input) channel pair of PyTorch weights {@code [k][c][3][3]},
     * in double, as {@code [36][c][k]} (the matmul's weights, one {@code c x k} matrix per point).
     * Output channels innermost, so that each of the 36 planes is written in order: this runs once per
     * convolution at compile time, mostly before the JIT has compiled it, and the earlier form (input
     * channels innermost, G as an array of rows) took 1.2-1.4x as long on ResNet's shapes in a fresh JVM.
     */
    static float[] transformWeights(float[] w, int k, int c) {
        if (w.length != 9L * k * c) {
            throw new IllegalArgumentException("Winograd: expected " + 9L * k * c + " weights for [" + k + ", " + c + ", 3, 3], got " + w.length);
        }
        float[] u = new float[36 * c * k];
        final double[] g = G;
        final int plane = c * k;
        double[] gg = new double[18];
        for (int i = 0; i < c; i++) {
            for (int o = 0; o < k; o++) {
                int base = (o * c + i) * 9;
                for (int a = 0; a < 6; a++) {           // G g
                    double g0 = g[a * 3], g1 = g[a * 3 + 1], g2 = g[a * 3 + 2];
                    gg[a * 3] = g0 * w[base] + g1 * w[base + 3] + g2 * w[base + 6];
                    gg[a * 3 + 1] = g0 * w[base + 1] + g1 * w[base + 4] + g2 * w[base + 7];
                    gg[a * 3 + 2] = g0 * w[base + 2] + g1 * w[base + 5] + g2 * w[base + 8];
                }
                int at = i * k + o;
                for (int a = 0; a < 6; a++) {           // (G g) G^T
                    double r0 = gg[a * 3], r1 = gg[a * 3 + 1], r2 = gg[a * 3 + 2];
                    for (int b = 0; b < 6; b++) {
                        u[(a * 6 + b) * plane + at] = (float) (r0 * g[b * 3] + r1 * g[b * 3 + 1] + r2 * g[b * 3 + 2]);
                    }
                }
            }
        }
        return u;
    }

    /**
     * JIT-compiles the transforms once per JVM (see {@link WinogradKernels#warmUp()}), or waits for
     * the warm-up another thread began to finish; only call if {@link #available()}.
     */
    static void warmUpKernels() {
        WinogradKernels.warmUp();
    }

    /**
     * A plan's Winograd weights, prepared once the transforms are JIT-compiled (so that neither compile
     * nor the first run pays for either): {@link #warmUpKernels()}, then each {@link Weights#prepare()},
     * inside a call registered with {@code calls} (a closed plan is skipped; closing waits for it). On
     * the calling thread ({@link CompiledModel#warmup()}) if {@code background} is false, else on a
     * daemon thread (after a plan's first run), where a failure is logged and the steps stay direct.
     */
    static void prepare(List<Weights> weights, InFlightCalls calls, Object plan, boolean background) {
        Runnable work = () -> {
            warmUpKernels();
            calls.enter(plan);
            try {
                for (Weights w : weights) w.prepare();
                for (Weights w : weights) w.publish();   // after every buffer is filled: a run that sees one ready sees all
            } finally {
                calls.exit();
            }
        };
        if (!background) {
            work.run();
            return;
        }
        Thread.ofPlatform().daemon().name("panamadnn-winograd-prepare").start(() -> {
            try {
                work.run();
            } catch (RuntimeException e) {
                if (!calls.isClosed()) {
                    System.getLogger("dev.panamadnn.compile").log(System.Logger.Level.WARNING, plan + ": preparing the Winograd "
                            + "steps failed; they keep running their direct convolution (warmup() reports the failure)", e);
                }
            }
        });
    }

    /**
     * One Winograd step's transformed weights: the PyTorch-layout weights {@code w} ({@code [k][c][3][3]},
     * batch norm folded) until {@link #prepare()} has transformed them ({@link #transformWeights}) and
     * reordered them into {@code buffer} in the matmul's layout {@code layout}. Until then the step runs
     * its direct convolution ({@link Run}).
     */
    static final class Weights {
        private final int k, c;
        private final MemoryDescriptor layout;
        private final MemorySegment buffer;
        private final String what;
        private float[] w;
        private volatile boolean ready;

        Weights(float[] w, int k, int c, MemoryDescriptor layout, MemorySegment buffer, String what) {
            this.w = w;
            this.k = k;
            this.c = c;
            this.layout = layout;
            this.buffer = buffer;
            this.what = what;
        }

        /** Whether {@link #prepare()} has filled the buffer (the matmul may read it). */
        boolean ready() {
            return ready;
        }

        /** Transforms and reorders the weights into the buffer, once; only while the plan is open. */
        synchronized void prepare() {
            if (w == null) return;
            try (Arena tmp = Arena.ofConfined(); MemoryDescriptor plain = MemoryDescriptor.f32(Ops.plain(3), 36, c, k)) {
                Reorder.once(plain, tmp.allocateFrom(ValueLayout.JAVA_FLOAT, transformWeights(w, k, c)), layout, buffer,
                        "Winograd weights of " + what);
            }
            w = null;
        }

        /** Marks the prepared weights ready (volatile: every thread that sees it sees the buffers {@link #prepare()} filled before). */
        synchronized void publish() {
            if (w != null) throw new IllegalStateException("Winograd weights of " + what + " published before they were prepared");
            ready = true;
        }
    }

    /** Output tiles of 4x4 covering {@code size}. */
    static int tiles(long size) {
        return (int) ((size + 3) / 4);
    }

    /**
     * Tiles per chunk: all of them when the transformed input and products of the whole batch fit
     * in about 1 MiB; else chunks that do, as long as re-reading the transformed weights once per
     * chunk costs less than a quarter of the activation traffic chunking saves; at least 48 tiles.
     */
    static long chunkTiles(long tiles, long c, long k) {
        long perTile = 36 * (c + k) * 4, weights = 36 * c * k * 4;
        long total = tiles * perTile;
        long chunks = Math.min(total / Math.max(1 << 20, 4 * weights), tiles / 48);
        if (chunks <= 1) return tiles;
        return (tiles + chunks - 1) / chunks;
    }

    /**
     * What a compiled Winograd step needs beyond its matmul: geometry, fused post-ops, the direct
     * convolution (same weights, bias and post-ops, reading {@code input} and writing {@code output}) that
     * runs instead when the guard fires or the weights are not prepared yet, and those weights.
     */
    record Conv(int input, int output, MemorySegment bias, int n, int h, int w, int c, int k, long chunk, boolean sum,
                boolean relu, PlanStep fallback, Weights weights) {
        int tilesY() {
            return Winograd.tiles(h);
        }

        int tilesX() {
            return Winograd.tiles(w);
        }

        long tileCount() {
            return (long) n * tilesY() * tilesX();
        }
    }

    /**
     * One execution context's run of a Winograd step: its buffers, the bound matmul and direct
     * fallback, and scratch for the transforms. First the guard scans the whole input (one vectorised
     * read, before any chunk writes the output: a {@code sum} step's output still holds the shortcut the
     * fallback adds); if it finds a value that is not finite or beyond {@link #GUARD_LIMIT}, the direct
     * convolution runs instead. The scan and the transforms split their work over the plan's OpenMP team
     * (an {@link OpenMpTeam}: the threads the matmul runs on), or run on the calling thread if the plan
     * has one thread or the natives have no OpenMP.
     */
    static final class Run implements OpenMpTeam.Body, ExecutionContext.Action, AutoCloseable {
        private static final int INPUT = 0, OUTPUT = 1, SCAN = 2;
        private final Conv conv;
        private final Execution matmul, direct;
        private final MemorySegment x, y, v, m;
        private final int threads;
        /** Transform threads: the team's size, or 1 on the calling thread. */
        private final int workers;
        /** Whether the transforms split over an OpenMP team. */
        private final boolean teamed;
        /** Made at the first Winograd run (see {@link #transform}); null until then. */
        private float[][] scratch;
        private OpenMpTeam team;
        /** The largest input magnitude the team threads found, as {@link WinogradKernels#maxMagnitudeBits} gives it. */
        private final AtomicInteger largest = new AtomicInteger();
        /** The plan's count of runs the guard sent to the direct convolution. */
        private final AtomicLong fallbacks;
        private volatile int phase;
        private volatile long p0, p1;
        /** This run's path, set by the execution context before each run from {@link #weightsReady()}, the same for all its steps. */
        boolean winograd;

        /**
         * @param direct    the bound direct convolution of {@link Conv#fallback()}; this run owns and closes it
         * @param fallbacks incremented each time the guard fires
         * @param threads   the plan's intra-op threads (0: OpenMP's default)
         */
        Run(Conv conv, Execution matmul, Execution direct, AtomicLong fallbacks, MemorySegment x, MemorySegment y, MemorySegment v,
            MemorySegment m, int threads) {
            this.conv = conv;
            this.matmul = matmul;
            this.direct = direct;
            this.fallbacks = fallbacks;
            this.x = x;
            this.y = y;
            this.v = v;
            this.m = m;
            this.threads = threads;
            int team = threads > 0 ? threads : ThreadControl.openmpMaxThreads();
            this.teamed = team > 1 && OpenMpTeam.available();
            this.workers = teamed ? team : 1;
        }

        @Override
        public void run(Stream stream) {
            if (!winograd) {   // the plan is not prepared yet (transforms being JIT-compiled, weights transformed): direct
                direct.execute(stream);
                return;
            }
            largest.set(0);
            if (guardForMeasurement) transform(SCAN);
            if (largest.get() > GUARD_BITS) {
                fallbacks.incrementAndGet();
                direct.execute(stream);
                return;
            }
            long tiles = conv.tileCount(), chunk = conv.chunk();
            for (long from = 0; from < tiles; from += chunk) {
                p0 = from;
                p1 = Math.min(tiles, from + chunk);
                transform(INPUT);
                matmul.execute(stream);
                stream.await();
                transform(OUTPUT);
            }
        }

        private void transform(int what) {
            phase = what;
            // Made here, not in the constructor: the scratch needs the Vector API's classes and the first team links
            // libgomp's upcall (together 50-100 ms in a fresh JVM), which a plan's first runs (direct until the
            // Winograd weights are prepared) need not wait for. An execution context runs on one thread at a time,
            // and the team threads see the arrays through GOMP_parallel's own synchronisation.
            if (scratch == null) scratch = new float[workers][WinogradKernels.SCRATCH];
            if (!teamed) {
                run(0, 1);
                return;
            }
            if (team == null) team = OpenMpTeam.of(this);
            team.run(threads);
        }

        /** One team thread's share of the tiles of the current chunk and phase. */
        @Override
        public void run(int thread, int teamSize) {
            int workers = Math.min(teamSize, this.workers);
            if (thread >= workers) return;
            Conv g = conv;
            if (phase == SCAN) {   // in whole pixels (c floats, a multiple of the lanes)
                long pixels = (long) g.n() * g.h() * g.w();
                long a = pixels * thread / workers * g.c(), b = pixels * (thread + 1) / workers * g.c();
                if (a < b) largest.accumulateAndGet(WinogradKernels.maxMagnitudeBits(x, a, b), Math::max);
                return;
            }
            long from = p0, count = p1 - from;
            long a = from + count * thread / workers, b = from + count * (thread + 1) / workers;
            if (a >= b) return;
            if (phase == INPUT) {
                WinogradKernels.input(x, g.h(), g.w(), g.c(), g.tilesY(), g.tilesX(), v, g.chunk(), a, b, from, scratch[thread]);
            } else {
                WinogradKernels.output(m, g.bias(), g.sum(), g.relu(), g.h(), g.w(), g.k(), g.tilesY(), g.tilesX(), y, g.chunk(), a, b,
                        from, scratch[thread]);
            }
        }

        /** Whether this step's weights are prepared ({@link Winograd#prepare} publishes a plan's after filling them all). */
        boolean weightsReady() {
            return conv.weights().ready();
        }

        @Override
        public void close() {
            if (team != null) team.close();
            direct.close();
        }
    }
}
