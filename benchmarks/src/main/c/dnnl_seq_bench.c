/*
 * The C floor for our compiled sequence models (issue 14): the SAME oneDNN primitives, with the
 * SAME descriptors, that CompiledModel.compile emits for an LSTM, a GRU, a MultiheadAttention and
 * a TransformerEncoderLayer (see `CompiledModel.describe()`), from the same libdnnl.so.3 the Java
 * loader uses (scripts/bench compiles this with gcc against it; BenchMain runs it right before the
 * JMH job it mirrors), with the same intra-op thread count. One exception: a batch-1 GRU that the
 * compiler runs as two 1x1 convolutions a step (LowerRecurrentSteps: hidden 512 on two threads with
 * 2 MB of L2 each, for one) is timed here as the GRU primitive it replaced, so C / compiled reads
 * that form's gain (benchmarks/src/main/c/gru_decomposed_probe.c times the convolution form in C).
 *
 * Like a compiled plan (ExecutionContext): every buffer and dnnl_memory_t is made once, before
 * timing; a call executes the steps in order on one stream and waits once at the end. Weights are
 * created in their plain layout and reordered once into the layout the primitive picks (format
 * `any`), as the compiler does.
 *
 *   lstm:I>H@T#N, gru:I>H@T#N   one unidirectional layer, input [T, N, I] (tnc), zero initial
 *                               states (ldnc), bias; LSTM dnnl_lstm_forward, GRU dnnl_lbr_gru_forward
 *                               (PyTorch's GRU); Y, Y_h (and Y_c) written.
 *   mha:EhH@L#N                 self-attention, input [L, N, E]: per projection an inner product
 *                               [L*N, E] (weights any, bias) and a reorder transposing to heads
 *                               [N, H, L, hd] (keys [N, H, hd, L]); matmul; binary mul by 1/sqrt(hd);
 *                               accurate softmax (last axis; no NaN-line repair: only the matmul
 *                               reads it); matmul; reorder merging the heads; out_proj inner product.
 *   encoder:EhHfF@L#N           TransformerEncoderLayer (post-norm, ReLU): mha above, binary add,
 *                               layer norm, inner product E->F with a fused ReLU (post-op), inner product F->E,
 *                               binary add, layer norm.
 *
 * usage: dnnl_seq_bench THREADS WARMUP_ITERATIONS ITERATIONS SECONDS_PER_ITERATION SPEC...
 * Timing and output exactly as dnnl_layer_bench.c (JMH AverageTime-like iterations); one TSV line
 * per SPEC: spec kernel iterations calls mean_us best_us worst_us check. With the environment
 * variable SEQ_BENCH_STEPS=1 it also prints, per step, "# step NAME KERNEL MEAN_US" (each step
 * timed alone with a wait after it: where the time goes). After timing, the output is checked
 * against plain loops (recurrent: every output of sequence 0; attention: a few query rows of
 * sequence 0); a mismatch prints FAILED and exits 1.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <time.h>

#include "dnnl_seq_bench.h"

dnnl_engine_t engine;
dnnl_stream_t stream;
static unsigned long long rng = 1;

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

float *zeroed(size_t bytes) {
    size_t rounded = (bytes + 63) / 64 * 64;
    float *p = aligned_alloc(64, rounded ? rounded : 64);
    memset(p, 0, rounded ? rounded : 64);
    return p;
}

float *random_floats(size_t n, float scale) {
    float *p = zeroed(n * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        p[i] = scale * (float)((rng >> 40) / (double)(1ULL << 24) * 2 - 1);
    }
    return p;
}

dnnl_memory_desc_t md_tag(int ndims, const dnnl_dims_t dims, dnnl_format_tag_t tag) {
    dnnl_memory_desc_t md;
    CHECK(dnnl_memory_desc_create_with_tag(&md, ndims, dims, dnnl_f32, tag));
    return md;
}

dnnl_memory_desc_t plain(int ndims, const dnnl_dims_t dims) {
    static const dnnl_format_tag_t tag[] = {dnnl_format_tag_undef, dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd, dnnl_abcde};
    return md_tag(ndims, dims, tag[ndims]);
}

dnnl_memory_t mem(const_dnnl_memory_desc_t md, void *buf) {
    dnnl_memory_t m;
    CHECK(dnnl_memory_create(&m, md, engine, buf));
    return m;
}

dnnl_primitive_attr_t user_scratchpad(void) {
    dnnl_primitive_attr_t attr;
    CHECK(dnnl_primitive_attr_create(&attr));
    CHECK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    return attr;
}

/* A step from pd: the primitive, its kernel name, a scratchpad of its own, and the given args. */
step_t *add_step(model_t *m, dnnl_primitive_desc_t pd, const char *name) {
    step_t *s = &m->step[m->nsteps++];
    const char *impl = "";
    CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
    snprintf(s->kernel, sizeof s->kernel, "%s", impl);
    snprintf(s->name, sizeof s->name, "%s", name);
    const_dnnl_memory_desc_t smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    s->args[s->nargs].arg = DNNL_ARG_SCRATCHPAD;
    s->args[s->nargs++].memory = mem(smd, zeroed(dnnl_memory_desc_get_size(smd)));
    CHECK(dnnl_primitive_create(&s->prim, pd));
    CHECK(dnnl_primitive_desc_destroy(pd));
    return s;
}

void arg(step_t *s, int id, const_dnnl_memory_desc_t md, void *buf) {
    s->args[s->nargs].arg = id;
    s->args[s->nargs++].memory = mem(md, buf);
}

/* Plain user values reordered once into the layout pd chose for query index `which` (weights). */
float *reordered(dnnl_primitive_desc_t pd, int which, dnnl_memory_desc_t user_md, float *user,
                        const_dnnl_memory_desc_t *chosen) {
    *chosen = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, which);
    float *to = zeroed(dnnl_memory_desc_get_size(*chosen));
    dnnl_primitive_desc_t rpd;
    dnnl_primitive_t r;
    CHECK(dnnl_reorder_primitive_desc_create(&rpd, user_md, engine, *chosen, engine, NULL));
    CHECK(dnnl_primitive_create(&r, rpd));
    dnnl_memory_t from = mem(user_md, user), dst = mem(*chosen, to);
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, dst}};
    CHECK(dnnl_primitive_execute(r, stream, 2, args));
    CHECK(dnnl_stream_wait(stream));
    dnnl_memory_destroy(from);
    dnnl_memory_destroy(dst);
    dnnl_primitive_destroy(r);
    dnnl_primitive_desc_destroy(rpd);
    return to;
}

/* ---- recurrent ---- */

static void build_rnn(model_t *m, int lstm) {
    long T = m->steps, N = m->batch, I = m->in, H = m->hidden, G = lstm ? 4 : 3, B = lstm ? 4 : 4;
    dnnl_dims_t src_d = {T, N, I}, dst_d = {T, N, H}, st_d = {1, 1, N, H}, wl_d = {1, 1, I, G, H}, wi_d = {1, 1, H, G, H},
                b_d = {1, 1, B, H};
    dnnl_memory_desc_t src = md_tag(3, src_d, dnnl_tnc), dst = md_tag(3, dst_d, dnnl_tnc), state = md_tag(4, st_d, dnnl_ldnc);
    dnnl_memory_desc_t wl_any = md_tag(5, wl_d, dnnl_format_tag_any), wi_any = md_tag(5, wi_d, dnnl_format_tag_any);
    dnnl_memory_desc_t wl_user = md_tag(5, wl_d, dnnl_ldigo), wi_user = md_tag(5, wi_d, dnnl_ldigo), bias = md_tag(4, b_d, dnnl_ldgo);
    dnnl_primitive_attr_t attr = user_scratchpad();
    dnnl_primitive_desc_t pd;
    /* As the compiler (LowerRecurrent.weightFormat): the LSTM on the layout the primitive picks, the GRU on plain ldigo
       weights where oneDNN has AVX-512 kernels (its ref GRU is faster there) and on the picked layout where it has AVX2
       only (brgemm:avx2 is faster there). Diagnostic: SEQ_BENCH_WEIGHTS=plain or any forces one for both. */
    const char *weights = getenv("SEQ_BENCH_WEIGHTS");
    int avx512 = (dnnl_get_effective_cpu_isa() & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core;
    int plain = weights && !strcmp(weights, "plain") ? 1 : weights && !strcmp(weights, "any") ? 0 : !lstm && avx512;
    if (plain) { wl_any = wl_user; wi_any = wi_user; }
    if (lstm)
        CHECK(dnnl_lstm_forward_primitive_desc_create(&pd, engine, dnnl_forward_inference, dnnl_unidirectional_left2right, src,
                                                      state, state, wl_any, wi_any, NULL, NULL, bias, dst, state, state, 0, attr));
    else
        CHECK(dnnl_lbr_gru_forward_primitive_desc_create(&pd, engine, dnnl_forward_inference, dnnl_unidirectional_left2right,
                                                         src, state, wl_any, wi_any, bias, dst, state, 0, attr));
    float scale = 1.0f / sqrtf((float)H);
    m->x = random_floats((size_t)(T * N * I), 1);
    m->w[0] = random_floats((size_t)(I * G * H), scale);
    m->w[1] = random_floats((size_t)(H * G * H), scale);
    m->b[0] = random_floats((size_t)(B * H), scale);
    m->y = zeroed((size_t)(T * N * H) * sizeof(float));
    const_dnnl_memory_desc_t wl, wi;
    float *wl_buf = reordered(pd, 0, wl_user, m->w[0], &wl), *wi_buf = reordered(pd, 1, wi_user, m->w[1], &wi);
    step_t *s = add_step(m, pd, lstm ? "lstm" : "gru");
    size_t sb = (size_t)(N * H) * sizeof(float);
    arg(s, DNNL_ARG_SRC_LAYER, src, m->x);
    arg(s, DNNL_ARG_SRC_ITER, state, zeroed(sb));
    arg(s, DNNL_ARG_WEIGHTS_LAYER, wl, wl_buf);
    arg(s, DNNL_ARG_WEIGHTS_ITER, wi, wi_buf);
    arg(s, DNNL_ARG_BIAS, bias, m->b[0]);
    arg(s, DNNL_ARG_DST_LAYER, dst, m->y);
    arg(s, DNNL_ARG_DST_ITER, state, zeroed(sb));
    if (lstm) {
        arg(s, DNNL_ARG_SRC_ITER_C, state, zeroed(sb));
        arg(s, DNNL_ARG_DST_ITER_C, state, zeroed(sb));
    }
    dnnl_primitive_attr_destroy(attr);
}

static double sigm(double v) { return 1 / (1 + exp(-v)); }

/* Sequence 0, every step, plain loops in double (oneDNN's gate orders: LSTM i f c~ o; lbr GRU u r o). */
static int check_rnn(model_t *m, int lstm) {
    long T = m->steps, N = m->batch, I = m->in, H = m->hidden, G = lstm ? 4 : 3;
    double *h = calloc((size_t)H, sizeof(double)), *c = calloc((size_t)H, sizeof(double)), *g = calloc((size_t)(4 * H), sizeof(double));
    double *hr = calloc((size_t)(G * H), sizeof(double));
    int ok = 1;
    for (long t = 0; t < T && ok; t++) {
        const float *x = m->x + (t * N + 0) * I;
        for (long k = 0; k < G * H; k++) {
            double sx = 0, sh = 0;
            for (long i = 0; i < I; i++) sx += (double)x[i] * m->w[0][i * G * H + k];
            for (long j = 0; j < H; j++) sh += h[j] * m->w[1][j * G * H + k];
            g[k] = sx + (lstm || k < 2 * H ? sh : 0);
            hr[k] = sh;
        }
        for (long j = 0; j < H; j++) {
            double hn;
            if (lstm) {
                double ig = sigm(g[j] + m->b[0][j]), fg = sigm(g[H + j] + m->b[0][H + j]);
                double cg = tanh(g[2 * H + j] + m->b[0][2 * H + j]), og = sigm(g[3 * H + j] + m->b[0][3 * H + j]);
                c[j] = fg * c[j] + ig * cg;
                hn = og * tanh(c[j]);
            } else {
                double u = sigm(g[j] + m->b[0][j]), r = sigm(g[H + j] + m->b[0][H + j]);
                double o = tanh(g[2 * H + j] + m->b[0][2 * H + j] + r * (hr[2 * H + j] + m->b[0][3 * H + j]));
                hn = u * h[j] + (1 - u) * o;
            }
            g[3 * H + j] = hn;   /* h is updated after the whole step */
        }
        for (long j = 0; j < H; j++) {
            h[j] = lstm ? g[3 * H + j] : g[3 * H + j];
            float got = m->y[(t * N + 0) * H + j];
            if (fabs(got - h[j]) > 1e-4) {
                fprintf(stderr, "%s: Y[%ld, 0, %ld] = %.7g, plain loops give %.7g\n", m->kind, t, j, got, h[j]);
                ok = 0;
                break;
            }
        }
    }
    free(h); free(c); free(g); free(hr);
    return ok;
}

/* ---- driver ---- */

static void run(model_t *m) {
    for (int i = 0; i < m->nsteps; i++) CHECK(dnnl_primitive_execute(m->step[i].prim, stream, m->step[i].nargs, m->step[i].args));
    CHECK(dnnl_stream_wait(stream));
}

static int parse(const char *text, model_t *m) {
    memset(m, 0, sizeof *m);
    const char *colon = strchr(text, ':');
    if (!colon || colon - text >= (long)sizeof m->kind) return 0;
    memcpy(m->kind, text, colon - text);
    char *e;
    m->in = strtol(colon + 1, &e, 10);
    m->hidden = m->in;
    if (*e == '>') m->hidden = strtol(e + 1, &e, 10);
    if (*e == 'h') m->heads = strtol(e + 1, &e, 10);
    if (*e == 'f') m->ff = strtol(e + 1, &e, 10);
    if (*e != '@') return 0;
    m->steps = strtol(e + 1, &e, 10);
    m->batch = 1;
    if (*e == '#') m->batch = strtol(e + 1, &e, 10);
    if (*e || m->in <= 0 || m->hidden <= 0 || m->steps <= 0 || m->batch <= 0) return 0;
    if (!strcmp(m->kind, "lstm") || !strcmp(m->kind, "gru")) return m->heads == 0 && m->ff == 0;
    if (!strcmp(m->kind, "mha")) return m->heads > 0 && m->in % m->heads == 0 && m->ff == 0;
    if (!strcmp(m->kind, "encoder")) return m->heads > 0 && m->in % m->heads == 0 && m->ff > 0;
    return 0;
}

static int bench(const char *text, int warmups, int iterations, double seconds) {
    model_t m;
    if (!parse(text, &m)) {
        fprintf(stderr, "bad spec %s: expected lstm:I>H@T#N, gru:I>H@T#N, mha:EhH@L#N or encoder:EhHfF@L#N\n", text);
        exit(2);
    }
    int rnn = !strcmp(m.kind, "lstm") || !strcmp(m.kind, "gru");
    if (rnn) build_rnn(&m, !strcmp(m.kind, "lstm"));
    else build_attention(&m, !strcmp(m.kind, "encoder"));
    run(&m);   /* first call outside the iterations, like the plan's warm-up */
    double sum = 0, best = INFINITY, worst = 0;
    long total = 0;
    for (int it = 0; it < warmups + iterations; it++) {
        long calls = 0;
        double start = now_us(), elapsed;
        do {
            run(&m);
            calls++;
            elapsed = now_us() - start;
        } while (elapsed < seconds * 1e6);
        if (it < warmups) continue;
        double per = elapsed / calls;
        sum += per;
        total += calls;
        best = per < best ? per : best;
        worst = per > worst ? per : worst;
    }
    const char *steps = getenv("SEQ_BENCH_STEPS");
    if (steps && !strcmp(steps, "1")) {
        for (int i = 0; i < m.nsteps; i++) {
            long calls = 0;
            double start = now_us(), elapsed;
            do {
                CHECK(dnnl_primitive_execute(m.step[i].prim, stream, m.step[i].nargs, m.step[i].args));
                CHECK(dnnl_stream_wait(stream));
                calls++;
                elapsed = now_us() - start;
            } while (elapsed < 0.3e6);
            printf("# step %s\t%s\t%.3f\n", m.step[i].name, m.step[i].kernel, elapsed / calls);
        }
    }
    run(&m);
    int ok = rnn ? check_rnn(&m, !strcmp(m.kind, "lstm")) : check_attention(&m, !strcmp(m.kind, "encoder"));
    printf("%s\t%s\t%d\t%ld\t%.3f\t%.3f\t%.3f\t%s\n", text, m.step[0].kernel, iterations, total, sum / iterations, best, worst,
           ok ? "ok" : "FAILED");
    fflush(stdout);
    return ok;   /* a benchmark process: the buffers go with it */
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s THREADS WARMUP_ITERATIONS ITERATIONS SECONDS_PER_ITERATION SPEC...\n", argv[0]);
        return 2;
    }
    int threads = atoi(argv[1]), warmups = atoi(argv[2]), iterations = atoi(argv[3]);
    double seconds = atof(argv[4]);
    if (threads < 1 || warmups < 0 || iterations < 1 || !(seconds > 0)) {
        fprintf(stderr, "THREADS and ITERATIONS must be >= 1, WARMUP_ITERATIONS >= 0, SECONDS > 0\n");
        return 2;
    }
    omp_set_num_threads(threads);
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    const dnnl_version_t *v = dnnl_version();
    Dl_info where = {0};
    dladdr((void *)dnnl_version, &where);
    printf("# oneDNN %d.%d.%d (%s) from %s; OpenMP threads %d\n", v->major, v->minor, v->patch, v->hash,
           where.dli_fname ? where.dli_fname : "?", omp_get_max_threads());
    printf("# %d warm-up + %d x %g s iterations per spec; mean_us = mean of iteration means (JMH AverageTime)\n",
           warmups, iterations, seconds);
    printf("# spec\tkernel\titerations\tcalls\tmean_us\tbest_us\tworst_us\tcheck\n");
    int ok = 1;
    for (int i = 5; i < argc; i++) ok &= bench(argv[i], warmups, iterations, seconds);
    dnnl_stream_destroy(stream);
    dnnl_engine_destroy(engine);
    return ok ? 0 : 1;
}
