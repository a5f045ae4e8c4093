/*
 * A probe, not part of any plan (docs/benchmarks.md, "Where oneDNN's batch-1 GRU spends its time"): PyTorch's GRU
 * (linear before reset) at batch 1 built from oneDNN primitives other than its RNN primitive, timed and checked
 * against the GRU formula in double. The input projection of every step is one matmul; then per step two products
 * with post-ops do the whole cell:
 *   [r | u] = logistic(gx_rz[t] + h W_rz)        (the update gate's weights and biases negated: u = 1 - z)
 *   h'      = n + u * (h - n),  n = tanh(gx_n[t] + r * (h W_n + b_hn))
 * as 1xHx2H and 1xHxH matmuls (KIND matmul) or as 1x1 convolutions over a 1x1 image in nChw16c (conv16) or
 * nhwc (convnhwc). Compare with dnnl_seq_bench's `gru:I>H@T#1` (the GRU primitive) in the same minutes.
 *
 *   gcc -O2 -Wall -Werror -o gru_decomposed_probe benchmarks/src/main/c/gru_decomposed_probe.c \
 *       -Inative/target/headers/dnnl -L$DIR -l:libdnnl.so.3 -l:libgomp.so.1 -lm -Wl,-rpath,$DIR
 *   gru_decomposed_probe THREADS ITERATIONS STEPS INPUT HIDDEN KIND
 *
 * ($DIR: where the loader's libdnnl.so.3 is, `java -cp native/target/classes dev.panamadnn.natives.Natives`.)
 * Prints the mean and best time of a whole sequence and the largest difference from the formula.
 */
#define _GNU_SOURCE
#include <math.h>
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
extern void omp_set_num_threads(int);

#define CHECK(call) do { dnnl_status_t s_ = (call); if (s_ != dnnl_success) { fprintf(stderr, "%s: %s line %d\n", #call, dnnl_status2str(s_), __LINE__); exit(1);} } while (0)
static dnnl_engine_t eng; static dnnl_stream_t st;
static double now_us(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }
static unsigned long long rng = 1;
static float *rnd(size_t n, float sc) { float *p = aligned_alloc(64, (n * 4 + 63) / 64 * 64); for (size_t i = 0; i < n; i++) { rng = rng * 6364136223846793005ULL + 1442695040888963407ULL; p[i] = sc * (float)((rng >> 40) / (double)(1ULL << 24) * 2 - 1);} return p; }
static float *zer(size_t n) { float *p = aligned_alloc(64, (n * 4 + 63) / 64 * 64); memset(p, 0, n * 4); return p; }
static dnnl_memory_desc_t md2(long a, long b, dnnl_format_tag_t t) { dnnl_memory_desc_t m; dnnl_dims_t d = {a, b}; CHECK(dnnl_memory_desc_create_with_tag(&m, 2, d, dnnl_f32, t)); return m; }
static dnnl_memory_t mem(const_dnnl_memory_desc_t md, void *p) { dnnl_memory_t m; CHECK(dnnl_memory_create(&m, md, eng, p)); return m; }

/* matmul [M,K] x [K,N] (+bias), weights reordered from plain [K,N] (ab) into the chosen layout */
typedef struct { dnnl_primitive_t p; dnnl_memory_t src, wei, bias, dst, scr, po[8]; int npo; } mm_t;

static dnnl_format_tag_t FMT = dnnl_nChw16c;
static dnnl_memory_desc_t md4(long n, long c, dnnl_format_tag_t t) { dnnl_memory_desc_t m; dnnl_dims_t d = {n, c, 1, 1}; CHECK(dnnl_memory_desc_create_with_tag(&m, 4, d, dnnl_f32, t)); return m; }

static dnnl_primitive_attr_t user_scratchpad(dnnl_post_ops_t po) {
    dnnl_primitive_attr_t at; CHECK(dnnl_primitive_attr_create(&at));
    CHECK(dnnl_primitive_attr_set_scratchpad_mode(at, dnnl_scratchpad_mode_user));
    if (po) CHECK(dnnl_primitive_attr_set_post_ops(at, po));
    return at;
}

/* A step once its descriptor is made: the user's weights (layout wu) reordered into the chosen one, its memory objects
   (source, destination and post-op operands bound per call; post-op k of po_n[k] channels, 0 for an eltwise), the primitive. */
static void finish(mm_t *m, dnnl_primitive_desc_t pd, const char *what, long M, long K, long N, dnnl_memory_desc_t wu, float *w_user,
                   dnnl_memory_desc_t s, dnnl_memory_desc_t d, dnnl_memory_desc_t b, float *bias, int npo, long po_n[], int conv) {
    const char *impl; CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
    const_dnnl_memory_desc_t wc = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    fprintf(stderr, "# %s %ldx%ldx%ld impl %s\n", what, M, K, N, impl);
    float *wbuf = aligned_alloc(64, (dnnl_memory_desc_get_size(wc) + 63) / 64 * 64);
    dnnl_primitive_desc_t rpd; dnnl_primitive_t r;
    CHECK(dnnl_reorder_primitive_desc_create(&rpd, wu, eng, wc, eng, NULL)); CHECK(dnnl_primitive_create(&r, rpd));
    dnnl_memory_t from = mem(wu, w_user); m->wei = mem(wc, wbuf);
    dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, m->wei}}; CHECK(dnnl_primitive_execute(r, st, 2, ra)); CHECK(dnnl_stream_wait(st));
    m->src = mem(s, NULL); m->dst = mem(d, NULL); m->bias = bias ? mem(b, bias) : NULL;
    const_dnnl_memory_desc_t smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    m->scr = mem(smd, zer(dnnl_memory_desc_get_size(smd) / 4 + 16));
    m->npo = npo;
    for (int i = 0; i < npo; i++) m->po[i] = po_n[i] ? mem(conv ? md4(M, po_n[i], FMT) : md2(M, po_n[i], dnnl_ab), NULL) : NULL;
    CHECK(dnnl_primitive_create(&m->p, pd));
}

/* matmul [M,K] x [K,N] (+bias), weights from plain [K,N] (ab) */
static void mm_make(mm_t *m, long M, long K, long N, float *w_plain, float *bias, dnnl_post_ops_t po, int npo, long po_n[]) {
    dnnl_memory_desc_t s = md2(M, K, dnnl_ab), wa = md2(K, N, dnnl_format_tag_any), d = md2(M, N, dnnl_ab), b = md2(1, N, dnnl_ab);
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_matmul_primitive_desc_create(&pd, eng, s, wa, bias ? b : NULL, d, user_scratchpad(po)));
    finish(m, pd, "matmul", M, K, N, md2(K, N, dnnl_ab), w_plain, s, d, b, bias, npo, po_n, 0);
}

/* a 1x1 convolution over a 1x1 image: y[M, N] = x[M, K] w[K, N] (+ bias), weights from plain [K, N] */
static void cv_make(mm_t *m, long M, long K, long N, float *w_plain, float *bias, dnnl_post_ops_t po, int npo, long po_n[]) {
    dnnl_memory_desc_t s = md4(M, K, FMT), d = md4(M, N, FMT), b, wa, wu;
    dnnl_dims_t wd = {N, K, 1, 1}, bd = {N}, one = {1, 1}, zero = {0, 0};
    CHECK(dnnl_memory_desc_create_with_tag(&wa, 4, wd, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_create_with_tag(&wu, 4, wd, dnnl_f32, dnnl_oihw));
    CHECK(dnnl_memory_desc_create_with_tag(&b, 1, bd, dnnl_f32, dnnl_a));
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_convolution_forward_primitive_desc_create(&pd, eng, dnnl_forward_inference, dnnl_convolution_direct, s, wa, bias ? b : NULL, d,
                                                         one, zero, zero, zero, user_scratchpad(po)));
    float *oi = zer(N * K);   /* plain [K, N] -> oihw [N, K, 1, 1] */
    for (long k = 0; k < K; k++) for (long n = 0; n < N; n++) oi[n * K + k] = w_plain[k * N + n];
    finish(m, pd, "conv", M, K, N, wu, oi, s, d, b, bias, npo, po_n, 1);
}

static void mm_run(mm_t *m, int pos[], int npos) {
    dnnl_exec_arg_t a[16]; int n = 0;
    a[n++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, m->src}; a[n++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, m->wei};
    a[n++] = (dnnl_exec_arg_t){DNNL_ARG_DST, m->dst}; a[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, m->scr};
    if (m->bias) a[n++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, m->bias};
    for (int i = 0; i < npos; i++) a[n++] = (dnnl_exec_arg_t){DNNL_ARG_ATTR_MULTIPLE_POST_OP(pos[i]) | DNNL_ARG_SRC_1, m->po[pos[i]]};
    CHECK(dnnl_primitive_execute(m->p, st, n, a));
}
static dnnl_post_ops_t binary_chain(const int *alg, int n, long N, int conv) {
    dnnl_post_ops_t po; CHECK(dnnl_post_ops_create(&po));
    for (int i = 0; i < n; i++) {
        if (alg[i] < 0) CHECK(dnnl_post_ops_append_eltwise(po, (dnnl_alg_kind_t)(-alg[i]), 0, 0));
        else { dnnl_memory_desc_t d = conv ? md4(1, N, FMT) : md2(1, N, dnnl_ab); CHECK(dnnl_post_ops_append_binary(po, (dnnl_alg_kind_t)alg[i], d)); }
    }
    return po;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2, iters = argc > 2 ? atoi(argv[2]) : 50;
    long T = argc > 3 ? atol(argv[3]) : 128, I = argc > 4 ? atol(argv[4]) : 512, H = argc > 5 ? atol(argv[5]) : 512, G = 3 * H;
    omp_set_num_threads(threads);
    CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0)); CHECK(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));
    float sc = 1.0f / sqrtf((float)H);
    /* torch layout: W_ih [3H, I] rows r, z, n; W_hh [3H, H]; b_ih, b_hh [3H] */
    float *Wih = rnd(G * I, sc), *Whh = rnd(G * H, sc), *bih = rnd(G, sc), *bhh = rnd(G, sc), *x = rnd(T * I, 1);
    /* plain [K, N] weights with columns r | u(= -z) | n */
    float *Wx = zer(I * G), *Whrz = zer(H * 2 * H), *Whn = zer(H * H), *bx = zer(G), *bhn = zer(H);
    for (long g = 0; g < G; g++) {
        float sgn = (g >= H && g < 2 * H) ? -1.0f : 1.0f;
        for (long k = 0; k < I; k++) Wx[k * G + g] = sgn * Wih[g * I + k];
        for (long k = 0; k < H; k++) { if (g < 2 * H) Whrz[k * 2 * H + g] = sgn * Whh[g * H + k]; else Whn[k * H + (g - 2 * H)] = Whh[g * H + k]; }
        bx[g] = g < 2 * H ? sgn * (bih[g] + bhh[g]) : bih[g];
        if (g >= 2 * H) bhn[g - 2 * H] = bhh[g];
    }
    const char *kind = argc > 6 ? argv[6] : "conv16";
    int conv = strcmp(kind, "matmul") != 0;
    if (!strcmp(kind, "convnhwc")) FMT = dnnl_nhwc;
    else if (conv && strcmp(kind, "conv16")) { fprintf(stderr, "KIND: matmul, conv16 or convnhwc, got %s\n", kind); return 2; }
    if (conv && FMT == dnnl_nChw16c && H % 16) { fprintf(stderr, "conv16 needs HIDDEN a multiple of 16 (nChw16c of one pixel is plain only then), got %ld\n", H); return 2; }
    if (iters < 4) { fprintf(stderr, "ITERATIONS: at least 4 (the first 3 are warm-up), got %d\n", iters); return 2; }
    mm_t proj, rz, nn;
    mm_make(&proj, T, I, G, Wx, bx, NULL, 0, NULL);
    int a1[] = {dnnl_binary_add, -dnnl_eltwise_logistic}; long n1[] = {2 * H, 0};
    (conv ? cv_make : mm_make)(&rz, 1, H, 2 * H, Whrz, NULL, binary_chain(a1, 2, 2 * H, conv), 2, n1);
    int a2[] = {dnnl_binary_mul, dnnl_binary_add, -dnnl_eltwise_tanh, dnnl_binary_sub, dnnl_binary_mul, dnnl_binary_add};
    long n2[] = {H, H, 0, H, H, H};
    (conv ? cv_make : mm_make)(&nn, 1, H, H, Whn, bhn, binary_chain(a2, 6, H, conv), 6, n2);
    float *gx = zer(T * G), *y = zer(T * H), *h0 = zer(H), *rzb = zer(2 * H);
    double best = 1e30, sum = 0;
    for (int it = 0; it < iters; it++) {
        double t0 = now_us();
        CHECK(dnnl_memory_set_data_handle(proj.src, x)); CHECK(dnnl_memory_set_data_handle(proj.dst, gx));
        mm_run(&proj, NULL, 0);
        for (long t = 0; t < T; t++) {
            float *h = t ? y + (t - 1) * H : h0;
            CHECK(dnnl_memory_set_data_handle(rz.src, h)); CHECK(dnnl_memory_set_data_handle(rz.dst, rzb));
            CHECK(dnnl_memory_set_data_handle(rz.po[0], gx + t * G));
            int p1[] = {0}; mm_run(&rz, p1, 1);
            CHECK(dnnl_memory_set_data_handle(nn.src, h)); CHECK(dnnl_memory_set_data_handle(nn.dst, y + t * H));
            CHECK(dnnl_memory_set_data_handle(nn.po[0], rzb)); CHECK(dnnl_memory_set_data_handle(nn.po[1], gx + t * G + 2 * H));
            CHECK(dnnl_memory_set_data_handle(nn.po[3], h)); CHECK(dnnl_memory_set_data_handle(nn.po[4], rzb + H));
            CHECK(dnnl_memory_set_data_handle(nn.po[5], h));
            int p2[] = {0, 1, 3, 4, 5}; mm_run(&nn, p2, 5);
        }
        CHECK(dnnl_stream_wait(st));
        double dt = now_us() - t0; if (it >= 3) { sum += dt; if (dt < best) best = dt; }
    }
    /* check against torch's GRU formula in double */
    double *hd = calloc(H, sizeof(double)), *hn = calloc(H, sizeof(double)), maxd = 0;
    for (long t = 0; t < T; t++) {
        for (long j = 0; j < H; j++) {
            double a[3], b[3];
            for (int g = 0; g < 3; g++) { long row = g * H + j; a[g] = bih[row]; b[g] = bhh[row];
                for (long k = 0; k < I; k++) a[g] += (double)Wih[row * I + k] * x[t * I + k];
                for (long k = 0; k < H; k++) b[g] += (double)Whh[row * H + k] * hd[k]; }
            double r = 1 / (1 + exp(-(a[0] + b[0]))), z = 1 / (1 + exp(-(a[1] + b[1]))), n = tanh(a[2] + r * b[2]);
            hn[j] = (1 - z) * n + z * hd[j];
            double d = fabs(hn[j] - y[t * H + j]); if (d > maxd) maxd = d;
        }
        memcpy(hd, hn, H * sizeof(double));
    }
    printf("%s threads %d steps %ld input %ld hidden %ld: mean %.1f us, best %.1f us; max |diff| %.3g\n", kind, threads, T, I, H, sum / (iters - 3), best, maxd);
    return 0;
}
