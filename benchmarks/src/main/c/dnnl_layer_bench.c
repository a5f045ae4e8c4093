/*
 * The C floor for our layers: the SAME oneDNN primitive our eager Java layer creates on its native
 * path, from the SAME libdnnl.so.3 the Java loader uses (scripts/bench compiles this with gcc
 * against it at benchmark time and BenchMain runs it right before the matching JMH job), with
 * the same intra-op thread count (omp_set_num_threads, like ThreadControl) and the same per-call
 * work as the Java side:
 *
 *   eager (a LayerSpec, e.g. conv2d:64>64:3@56), mirrors Layer.forward(x) on Backend.AUTO:
 *     per call: the output is allocated and zero-filled (Tensor.zeros: malloc + zero fill), one
 *     dnnl_memory_t per argument is created over it, the inputs and a scratchpad that is kept
 *     across calls (Primitive.execute borrows one from a pool, Scratchpads), dnnl_primitive_execute
 *     + dnnl_stream_wait, the memory objects are destroyed and the output freed. Created once, before timing (as the Java layer
 *     does on its first call): the primitive (plain nchw / row-major src and dst, weights
 *     format_tag_any reordered once from PyTorch's layout, bias copied, scratchpad_mode user).
 *     Linear follows Linear.autoBackend: rows <= 128 and rows*in*out <= 2^19 go to OpenBLAS
 *     (bias copied into each output row, cblas_sgemm C = X W^T + C), anything else to the
 *     oneDNN inner product with plain layouts.
 *   bare:SPEC (a conv2d/linear/pool spec), mirrors DnnlBindingBenchmark: memory objects and
 *     buffers created once and bound; per call only dnnl_primitive_execute + dnnl_stream_wait.
 *   relu:N, mirrors OverheadBenchmark.*DnnlRelu16: a bare eltwise ReLU over N floats.
 *
 * usage: dnnl_layer_bench THREADS WARMUP_ITERATIONS ITERATIONS SECONDS_PER_ITERATION SPEC...
 * Timing like JMH AverageTime: each iteration calls the op until SECONDS have passed (at least
 * once) and scores elapsed/calls; warm-up iterations are discarded; mean_us is the mean of the
 * measurement iterations' scores (JMH's score), best_us/worst_us the fastest/slowest iteration.
 * After timing, one more call's output is spot-checked against plain loops (check: ok).
 * Prints "# ..." header lines, then per SPEC one tab-separated line:
 *   spec kernel iterations calls mean_us best_us worst_us check
 * A SPEC it does not cover (basicblock: a composite) gets a "# skipped" line. Exit 1 on a failed
 * check or oneDNN error, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <cblas.h>
#include <dlfcn.h>
#include <math.h>
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xmmintrin.h>

extern void omp_set_num_threads(int);
extern int omp_get_max_threads(void);
extern void openblas_set_num_threads(int);

#define CHECK(call)                                                                         \
    do {                                                                                    \
        dnnl_status_t s_ = (call);                                                          \
        if (s_ != dnnl_success) {                                                           \
            fprintf(stderr, "%s failed: %s (line %d)\n", #call, dnnl_status2str(s_), __LINE__); \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

enum { MAX_ARGS = 5 };

/* A LayerSpec: kind:CIN[>COUT][:K[/S][c][dD]][@SIZE][#BATCH], parsed like LayerSpec.parse. */
typedef struct {
    char kind[16];
    long cin, cout, k, stride, dilation, size, batch;
    int causal;
} spec_t;

/* One op ready to run: the primitive (or the OpenBLAS Linear), its arguments and buffers. */
typedef struct {
    int bare;                           /* memory objects bound once vs created per call */
    int blas;                           /* Linear on OpenBLAS */
    dnnl_primitive_t prim;
    int nargs;                          /* arguments without the scratchpad */
    int arg_id[MAX_ARGS];
    dnnl_memory_desc_t md[MAX_ARGS];
    float *buf[MAX_ARGS];               /* NULL at dst_index unless bare: allocated per call */
    int dst_index;
    size_t dst_bytes;
    dnnl_memory_desc_t scratch_md;
    size_t scratch_bytes;
    dnnl_memory_t bound_mem[MAX_ARGS + 1];
    dnnl_exec_arg_t bound_args[MAX_ARGS + 1];
    float *bound_dst, *bound_scratch;
    void *eager_scratch;                /* the eager mode's scratchpad, kept across calls like Scratchpads' pool */
    long rows, in, out;                 /* OpenBLAS Linear */
    float *x, *w, *b;
    char kernel[96];
} op_t;

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static unsigned long long rng = 1;

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static float *random_floats(size_t n) {
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    for (size_t i = 0; i < n; i++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        p[i] = (float)((rng >> 40) / (double)(1ULL << 24) * 2 - 1);
    }
    return p;
}

/* Like Tensor.zeros / Arena.allocate: malloc, 64-byte aligned, zero-filled. */
static void *zeroed(size_t bytes) {
    size_t rounded = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    memset(p, 0, bytes);
    return p;
}

static int parse_spec(const char *s, spec_t *p) {
    memset(p, 0, sizeof *p);
    const char *colon = strchr(s, ':');
    if (!colon || colon - s >= (long)sizeof p->kind) return 0;
    memcpy(p->kind, s, colon - s);
    char *e;
    p->cin = strtol(colon + 1, &e, 10);
    if (e == colon + 1) return 0;
    p->cout = p->cin;
    p->k = p->stride = p->dilation = p->size = p->batch = 1;
    if (*e == '>') p->cout = strtol(e + 1, &e, 10);
    if (*e == ':') {
        p->k = strtol(e + 1, &e, 10);
        if (*e == '/') p->stride = strtol(e + 1, &e, 10);
        if (*e == 'c') { p->causal = 1; e++; }
        if (*e == 'd') p->dilation = strtol(e + 1, &e, 10);
    }
    if (*e == '@') p->size = strtol(e + 1, &e, 10);
    if (*e == '#') p->batch = strtol(e + 1, &e, 10);
    return *e == '\0' && p->cin > 0 && p->cout > 0 && p->k > 0 && p->stride > 0 && p->size > 0 && p->batch > 0;
}

static dnnl_memory_desc_t plain_md(int ndims, const dnnl_dims_t dims) {
    static const dnnl_format_tag_t tag[] = {dnnl_format_tag_undef, dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd};
    dnnl_memory_desc_t md;
    CHECK(dnnl_memory_desc_create_with_tag(&md, ndims, dims, dnnl_f32, tag[ndims]));
    return md;
}

static void add_arg(op_t *op, int id, dnnl_memory_desc_t md, float *buf) {
    op->arg_id[op->nargs] = id;
    op->md[op->nargs] = md;
    op->buf[op->nargs] = buf;
    if (id == DNNL_ARG_DST) {
        op->dst_index = op->nargs;
        op->dst_bytes = dnnl_memory_desc_get_size(md);
    }
    op->nargs++;
}

/* Creates the primitive from pd (user scratchpad) and records its kernel name and scratchpad. */
static void finish(op_t *op, dnnl_primitive_desc_t pd) {
    const char *impl = "";
    CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
    snprintf(op->kernel, sizeof op->kernel, "%s", impl);
    CHECK(dnnl_memory_desc_clone(&op->scratch_md, dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)));
    op->scratch_bytes = dnnl_memory_desc_get_size(op->scratch_md);
    CHECK(dnnl_primitive_create(&op->prim, pd));
    CHECK(dnnl_primitive_desc_destroy(pd));
}

static dnnl_primitive_attr_t user_scratchpad(void) {
    dnnl_primitive_attr_t attr;
    CHECK(dnnl_primitive_attr_create(&attr));
    CHECK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    return attr;
}

/* Reorders weights from the user layout into the one pd chose (once, like ConvPrimitives.compile). */
static float *reorder_weights(dnnl_primitive_desc_t pd, dnnl_memory_desc_t user_md, const float *user,
                              dnnl_memory_desc_t *chosen_md) {
    CHECK(dnnl_memory_desc_clone(chosen_md, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)));
    float *chosen = zeroed(dnnl_memory_desc_get_size(*chosen_md));
    dnnl_primitive_desc_t rpd;
    dnnl_primitive_t reorder;
    dnnl_memory_t from, to;
    CHECK(dnnl_reorder_primitive_desc_create(&rpd, user_md, engine, *chosen_md, engine, NULL));
    CHECK(dnnl_primitive_create(&reorder, rpd));
    CHECK(dnnl_memory_create(&from, user_md, engine, (void *)user));
    CHECK(dnnl_memory_create(&to, *chosen_md, engine, chosen));
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    CHECK(dnnl_primitive_execute(reorder, stream, 2, args));
    CHECK(dnnl_stream_wait(stream));
    dnnl_memory_destroy(from);
    dnnl_memory_destroy(to);
    dnnl_primitive_destroy(reorder);
    dnnl_primitive_desc_destroy(rpd);
    return chosen;
}

/* The geometry every conv/pool kind is lifted to (1-D has height 1), as ConvNd.plan does. */
typedef struct {
    long n, ic, ih, iw, oc, oh, ow, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr;
    int transposed, pool_max;
} geom_t;

static geom_t geometry(const spec_t *s) {
    geom_t g = {.n = s->batch, .ic = s->cin, .oc = s->cout, .ih = s->size, .iw = s->size, .kh = s->k, .kw = s->k,
                .sh = s->stride, .sw = s->stride, .dh = 1, .dw = 1};
    if (!strcmp(s->kind, "conv1d")) {
        g.ih = g.kh = g.sh = 1;
        g.dw = s->dilation;
        g.pl = s->causal ? (s->k - 1) * s->dilation : s->dilation * (s->k - 1) / 2;
        g.pr = s->causal ? 0 : g.pl;
    } else if (!strcmp(s->kind, "convT2d")) {
        g.transposed = 1;
        g.pt = g.pb = g.pl = g.pr = (s->k - s->stride) / 2;
    } else if (!strcmp(s->kind, "avgpool2d")) {
        g.oc = g.ic;
    } else {                           /* conv2d, maxpool2d: padding k/2 */
        g.pt = g.pb = g.pl = g.pr = s->k / 2;
        if (!strcmp(s->kind, "maxpool2d")) { g.oc = g.ic; g.pool_max = 1; }
    }
    if (g.transposed) {
        g.oh = (g.ih - 1) * g.sh - g.pt - g.pb + g.dh * (g.kh - 1) + 1;
        g.ow = (g.iw - 1) * g.sw - g.pl - g.pr + g.dw * (g.kw - 1) + 1;
    } else {
        g.oh = (g.ih + g.pt + g.pb - g.dh * (g.kh - 1) - 1) / g.sh + 1;
        g.ow = (g.iw + g.pl + g.pr - g.dw * (g.kw - 1) - 1) / g.sw + 1;
    }
    if (!strncmp(s->kind, "maxpool", 7) || !strncmp(s->kind, "avgpool", 7)) {
        /* PoolNd.padRight: what makes (in + padL + padR - extent) / stride + 1 == out (floor mode). */
        long need_b = (g.oh - 1) * g.sh + g.dh * (g.kh - 1) + 1 - g.ih - g.pt;
        long need_r = (g.ow - 1) * g.sw + g.dw * (g.kw - 1) + 1 - g.iw - g.pl;
        if (need_b > g.pb) g.pb = need_b;
        if (need_r > g.pr) g.pr = need_r;
    }
    return g;
}

static void build_conv(op_t *op, const spec_t *s, geom_t *g) {
    dnnl_dims_t src_d = {g->n, g->ic, g->ih, g->iw}, dst_d = {g->n, g->oc, g->oh, g->ow}, b_d = {g->oc};
    dnnl_dims_t w_d = {g->oc, g->ic, g->kh, g->kw};
    dnnl_dims_t strides = {g->sh, g->sw}, dil = {g->dh - 1, g->dw - 1}, pad_l = {g->pt, g->pl}, pad_r = {g->pb, g->pr};
    dnnl_memory_desc_t src = plain_md(4, src_d), dst = plain_md(4, dst_d), bias = plain_md(1, b_d), any, user_w, chosen;
    CHECK(dnnl_memory_desc_create_with_tag(&any, 4, w_d, dnnl_f32, dnnl_format_tag_any));
    /* PyTorch's Conv weight [out, in, kh, kw] is oihw; ConvTranspose's [in, out, kh, kw] is iohw ("bacd"). */
    CHECK(dnnl_memory_desc_create_with_tag(&user_w, 4, w_d, dnnl_f32, g->transposed ? dnnl_bacd : dnnl_abcd));
    dnnl_primitive_attr_t attr = user_scratchpad();
    dnnl_primitive_desc_t pd;
    if (g->transposed)
        CHECK(dnnl_deconvolution_forward_primitive_desc_create(&pd, engine, dnnl_forward_inference, dnnl_deconvolution_direct,
                                                               src, any, bias, dst, strides, dil, pad_l, pad_r, attr));
    else
        CHECK(dnnl_convolution_forward_primitive_desc_create(&pd, engine, dnnl_forward_inference, dnnl_convolution_direct,
                                                             src, any, bias, dst, strides, dil, pad_l, pad_r, attr));
    op->x = random_floats((size_t)(g->n * g->ic * g->ih * g->iw));
    op->w = random_floats((size_t)(g->oc * g->ic * g->kh * g->kw));
    op->b = random_floats((size_t)g->oc);
    float *w = reorder_weights(pd, user_w, op->w, &chosen);
    add_arg(op, DNNL_ARG_SRC, src, op->x);
    add_arg(op, DNNL_ARG_WEIGHTS, chosen, w);
    add_arg(op, DNNL_ARG_BIAS, bias, op->b);
    add_arg(op, DNNL_ARG_DST, dst, NULL);
    finish(op, pd);
    dnnl_memory_desc_destroy(any);
    dnnl_memory_desc_destroy(user_w);
    dnnl_primitive_attr_destroy(attr);
    (void)s;
}

static void build_pool(op_t *op, geom_t *g) {
    dnnl_dims_t src_d = {g->n, g->ic, g->ih, g->iw}, dst_d = {g->n, g->ic, g->oh, g->ow};
    dnnl_dims_t strides = {g->sh, g->sw}, kernel = {g->kh, g->kw}, dil = {g->dh - 1, g->dw - 1};
    dnnl_dims_t pad_l = {g->pt, g->pl}, pad_r = {g->pb, g->pr};
    dnnl_memory_desc_t src = plain_md(4, src_d), dst = plain_md(4, dst_d);
    dnnl_primitive_attr_t attr = user_scratchpad();
    dnnl_primitive_desc_t pd;
    /* AvgPool2d(k, s, p) counts the padding (PyTorch's count_include_pad default). */
    CHECK(dnnl_pooling_forward_primitive_desc_create(&pd, engine, dnnl_forward_inference,
                                                     g->pool_max ? dnnl_pooling_max : dnnl_pooling_avg_include_padding,
                                                     src, dst, strides, kernel, dil, pad_l, pad_r, attr));
    op->x = random_floats((size_t)(g->n * g->ic * g->ih * g->iw));
    add_arg(op, DNNL_ARG_SRC, src, op->x);
    add_arg(op, DNNL_ARG_DST, dst, NULL);
    finish(op, pd);
    dnnl_primitive_attr_destroy(attr);
}

static void build_linear(op_t *op, const spec_t *s) {
    op->rows = s->batch;
    op->in = s->cin;
    op->out = s->cout;
    op->x = random_floats((size_t)(op->rows * op->in));
    op->w = random_floats((size_t)(op->out * op->in));
    op->b = random_floats((size_t)op->out);
    /* Linear.autoBackend: OPENBLAS_MAX_ROWS 128, OPENBLAS_MAX_MACS 2^19. */
    if (!op->bare && op->rows <= 128 && (double)op->rows * op->in * op->out <= (double)(1 << 19)) {
        op->blas = 1;
        op->dst_bytes = (size_t)(op->rows * op->out) * sizeof(float);
        snprintf(op->kernel, sizeof op->kernel, "openblas cblas_sgemm");
        return;
    }
    dnnl_dims_t src_d = {op->rows, op->in}, w_d = {op->out, op->in}, b_d = {op->out}, dst_d = {op->rows, op->out};
    dnnl_memory_desc_t src = plain_md(2, src_d), w = plain_md(2, w_d), bias = plain_md(1, b_d), dst = plain_md(2, dst_d);
    dnnl_primitive_attr_t attr = user_scratchpad();
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_inner_product_forward_primitive_desc_create(&pd, engine, dnnl_forward_inference, src, w, bias, dst, attr));
    add_arg(op, DNNL_ARG_SRC, src, op->x);
    add_arg(op, DNNL_ARG_WEIGHTS, w, op->w);
    add_arg(op, DNNL_ARG_BIAS, bias, op->b);
    add_arg(op, DNNL_ARG_DST, dst, NULL);
    finish(op, pd);
    dnnl_primitive_attr_destroy(attr);
}

static void build_relu(op_t *op, long n) {
    dnnl_dims_t d = {n};
    dnnl_memory_desc_t data = plain_md(1, d), dst;
    CHECK(dnnl_memory_desc_clone(&dst, data));
    dnnl_primitive_attr_t attr = user_scratchpad();
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_eltwise_forward_primitive_desc_create(&pd, engine, dnnl_forward_inference, dnnl_eltwise_relu, data, dst,
                                                     0.f, 0.f, attr));
    op->x = random_floats((size_t)n);
    add_arg(op, DNNL_ARG_SRC, data, op->x);
    add_arg(op, DNNL_ARG_DST, dst, NULL);
    finish(op, pd);
    dnnl_primitive_attr_destroy(attr);
}

/* Memory objects for every argument and the scratchpad, over the given dst and scratchpad buffers. */
static void bind(op_t *op, float *dst, void *scratch, dnnl_memory_t *mem, dnnl_exec_arg_t *args) {
    for (int i = 0; i < op->nargs; i++) {
        CHECK(dnnl_memory_create(&mem[i], op->md[i], engine, i == op->dst_index ? dst : op->buf[i]));
        args[i].arg = op->arg_id[i];
        args[i].memory = mem[i];
    }
    CHECK(dnnl_memory_create(&mem[op->nargs], op->scratch_md, engine, scratch));
    args[op->nargs].arg = DNNL_ARG_SCRATCHPAD;
    args[op->nargs].memory = mem[op->nargs];
}

/* One eager call's oneDNN work into dst: memory objects and scratchpad made and freed around it. */
static void execute_eager(op_t *op, float *dst) {
    if (op->blas) {
        for (long r = 0; r < op->rows; r++) memcpy(dst + r * op->out, op->b, (size_t)op->out * sizeof(float));
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)op->rows, (int)op->out, (int)op->in, 1.f, op->x,
                    (int)op->in, op->w, (int)op->in, 1.f, dst, (int)op->out);
        return;
    }
    dnnl_memory_t mem[MAX_ARGS + 1];
    dnnl_exec_arg_t args[MAX_ARGS + 1];
    if (!op->eager_scratch) op->eager_scratch = zeroed(op->scratch_bytes);
    bind(op, dst, op->eager_scratch, mem, args);
    CHECK(dnnl_primitive_execute(op->prim, stream, op->nargs + 1, args));
    CHECK(dnnl_stream_wait(stream));
    for (int i = 0; i <= op->nargs; i++) dnnl_memory_destroy(mem[i]);
}

/* One timed call. */
static void call(op_t *op) {
    if (op->bare) {
        CHECK(dnnl_primitive_execute(op->prim, stream, op->nargs + 1, op->bound_args));
        CHECK(dnnl_stream_wait(stream));
        return;
    }
    float *dst = zeroed(op->dst_bytes);
    execute_eager(op, dst);
    free(dst);
}

/* Plain loops for one output element (double accumulation); returns it and the sum of |terms|. */
static double expected(const char *kind, const op_t *op, const geom_t *g, long i, double *magnitude) {
    double sum = 0, mag = 0;
    if (!strcmp(kind, "linear")) {
        long r = i / op->out, o = i % op->out;
        sum = op->b[o];
        for (long k = 0; k < op->in; k++) sum += (double)op->x[r * op->in + k] * op->w[o * op->in + k];
        for (long k = 0; k < op->in; k++) mag += fabs((double)op->x[r * op->in + k] * op->w[o * op->in + k]);
        *magnitude = mag + fabs(op->b[o]);
        return sum;
    }
    if (!strcmp(kind, "relu")) {
        *magnitude = fabs(op->x[i]);
        return op->x[i] > 0 ? op->x[i] : 0;
    }
    long ox = i % g->ow, oy = i / g->ow % g->oh, c = i / (g->ow * g->oh) % g->oc, n = i / (g->ow * g->oh * g->oc);
    int pool = !strncmp(kind, "maxpool", 7) || !strncmp(kind, "avgpool", 7);
    double best = -INFINITY;
    if (!pool) sum = op->b[c];
    for (long ic = 0; ic < (pool ? 1 : g->ic); ic++)
        for (long ky = 0; ky < g->kh; ky++)
            for (long kx = 0; kx < g->kw; kx++) {
                long iy, ix;
                if (g->transposed) {
                    long ty = oy + g->pt - ky * g->dh, tx = ox + g->pl - kx * g->dw;
                    if (ty < 0 || tx < 0 || ty % g->sh || tx % g->sw) continue;
                    iy = ty / g->sh;
                    ix = tx / g->sw;
                } else {
                    iy = oy * g->sh - g->pt + ky * g->dh;
                    ix = ox * g->sw - g->pl + kx * g->dw;
                }
                if (iy < 0 || iy >= g->ih || ix < 0 || ix >= g->iw) continue;
                double xv = op->x[((n * g->ic + (pool ? c : ic)) * g->ih + iy) * g->iw + ix];
                if (pool) {
                    best = xv > best ? xv : best;
                    sum += xv;
                    mag += fabs(xv);
                    continue;
                }
                double wv = g->transposed ? op->w[((ic * g->oc + c) * g->kh + ky) * g->kw + kx]
                                          : op->w[((c * g->ic + ic) * g->kh + ky) * g->kw + kx];
                sum += xv * wv;
                mag += fabs(xv * wv);
            }
    *magnitude = mag + (pool ? 0 : fabs(op->b[c]));
    if (!strncmp(kind, "maxpool", 7)) return best;
    if (pool) return sum / (double)(g->kh * g->kw);
    return sum;
}

/* Runs one call into a kept output and compares 64 spread-out elements with plain loops. */
static int spot_check(const char *kind, op_t *op, const geom_t *g) {
    float *dst = zeroed(op->dst_bytes);
    if (op->bare) {
        call(op);
        memcpy(dst, op->bound_dst, op->dst_bytes);
    } else {
        execute_eager(op, dst);
    }
    long count = (long)(op->dst_bytes / sizeof(float));
    int ok = 1;
    for (long t = 0; t < 64 && ok; t++) {
        long i = (long)((unsigned long long)(t * 2654435761ULL) % (unsigned long long)count);
        double mag, want = expected(kind, op, g, i, &mag);
        if (fabs(dst[i] - want) > 1e-5 * (1 + mag)) {
            fprintf(stderr, "%s: output[%ld] = %.7g, plain loops give %.7g\n", kind, i, dst[i], want);
            ok = 0;
        }
    }
    free(dst);
    return ok;
}

/* Builds the op for ARG into OP (and S, G); eager_relu: "relu:N" runs as an eager call (an output
 * allocated per call, like ReLU.forward) instead of bare. Returns 0 after printing a line for a
 * composite spec; exits 2 on a bad spec. */
static int build(const char *arg, int eager_relu, op_t *op, spec_t *s, geom_t *g) {
    const char *text = arg;
    if (!strncmp(text, "bare:", 5)) { op->bare = 1; text += 5; }
    if (!parse_spec(text, s)) {
        fprintf(stderr, "bad spec %s: expected [bare:]kind:CIN[>COUT][:K[/S][c][dD]][@SIZE][#BATCH] or relu:N\n", arg);
        exit(2);
    }
    if (!strcmp(s->kind, "relu")) {
        if (!eager_relu) op->bare = 1;
        build_relu(op, s->cin);
    } else if (!strcmp(s->kind, "linear")) {
        build_linear(op, s);
    } else if (!strcmp(s->kind, "conv2d") || !strcmp(s->kind, "conv1d") || !strcmp(s->kind, "convT2d")) {
        *g = geometry(s);
        build_conv(op, s, g);
    } else if (!strcmp(s->kind, "maxpool2d") || !strcmp(s->kind, "avgpool2d")) {
        *g = geometry(s);
        build_pool(op, g);
    } else {
        printf("# skipped %s: no single oneDNN primitive (a composite layer)\n", arg);
        return 0;
    }
    if (op->bare) {
        op->bound_dst = zeroed(op->dst_bytes);
        op->bound_scratch = zeroed(op->scratch_bytes);
        bind(op, op->bound_dst, op->bound_scratch, op->bound_mem, op->bound_args);
    }
    return 1;
}

static void destroy(op_t *op) {
    if (op->prim) {
        if (op->bare) for (int i = 0; i <= op->nargs; i++) dnnl_memory_destroy(op->bound_mem[i]);
        dnnl_primitive_destroy(op->prim);
        for (int i = 0; i < op->nargs; i++) {
            dnnl_memory_desc_destroy(op->md[i]);
            if (op->arg_id[i] == DNNL_ARG_WEIGHTS && op->buf[i] != op->w) free(op->buf[i]);
        }
        dnnl_memory_desc_destroy(op->scratch_md);
    }
    free(op->bound_dst); free(op->bound_scratch); free(op->eager_scratch); free(op->x); free(op->w); free(op->b);
}

static int bench(const char *arg, int warmups, int iterations, double seconds) {
    op_t op = {0};
    spec_t s;
    geom_t g = {0};
    if (!build(arg, 0, &op, &s, &g)) return 1;
    call(&op); /* first call outside the iterations, like the Java side's primitive creation */
    double sum = 0, best = INFINITY, worst = 0;
    long total = 0;
    for (int it = 0; it < warmups + iterations; it++) {
        long calls = 0;
        double start = now_us(), elapsed;
        do {
            call(&op);
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
    int ok = spot_check(s.kind, &op, &g);
    printf("%s\t%s\t%d\t%ld\t%.3f\t%.3f\t%.3f\t%s\n", arg, op.kernel, iterations, total, sum / iterations, best, worst,
           ok ? "ok" : "FAILED");
    fflush(stdout);
    destroy(&op);
    return ok;
}

/*
 * In-process mode: the same file compiled with -shared -fPIC is loaded by LayerBenchmark's
 * cHarness method through FFM, so C and Java calls are timed by the same JMH run, in the same
 * process, with the same libdnnl/libgomp/OpenMP team. A JMH call of pdnn_layer_call is one C call
 * (eager: output malloc + zero fill, memory objects, execute, wait, free), plus one FFM downcall
 * (tens of ns) that the C side otherwise would not pay.
 */
typedef struct {
    op_t op;
    spec_t s;
    geom_t g;
} layer_t;

/* The op for SPEC (eager; "relu:N" too) on THREADS OpenMP/OpenBLAS threads, checked once; NULL for a composite spec or a failed check. */
void *pdnn_layer_open(const char *spec, int threads) {
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
    if (!engine) {
        CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
        CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    }
    layer_t *l = calloc(1, sizeof(layer_t));
    if (!build(spec, 1, &l->op, &l->s, &l->g) || !spot_check(l->s.kind, &l->op, &l->g)) {
        destroy(&l->op);
        free(l);
        return NULL;
    }
    return l;
}

void pdnn_layer_call(void *layer) {
    call(&((layer_t *)layer)->op);
}

/* Bytes of the reordered weights (0 without a oneDNN weights argument) and of the scratchpad. */
size_t pdnn_layer_weights_bytes(void *layer) {
    op_t *op = &((layer_t *)layer)->op;
    for (int i = 0; i < op->nargs; i++) if (op->arg_id[i] == DNNL_ARG_WEIGHTS) return dnnl_memory_desc_get_size(op->md[i]);
    return 0;
}

size_t pdnn_layer_scratch_bytes(void *layer) {
    return ((layer_t *)layer)->op.scratch_bytes;
}

/* Copies the reordered weights into dst (pdnn_layer_weights_bytes of them). */
void pdnn_layer_copy_weights(void *layer, void *dst) {
    op_t *op = &((layer_t *)layer)->op;
    for (int i = 0; i < op->nargs; i++) {
        if (op->arg_id[i] == DNNL_ARG_WEIGHTS) memcpy(dst, op->buf[i], dnnl_memory_desc_get_size(op->md[i]));
    }
}

/*
 * The eager call on the caller's source and destination (e.g. a Java tensor's memory), and, when not
 * NULL, on the caller's copy of the reordered weights and the caller's scratchpad: the same primitive
 * and per-call memory objects as pdnn_layer_call, no output allocated. For LayerBenchmark's
 * cHarnessOnJavaBuffers (src and dst only) and cHarnessOnJavaPlacedBuffers (every buffer): what
 * separates where the buffers sit from how the call is made when our call and the C call differ.
 */
void pdnn_layer_call_with(void *layer, float *src, float *dst, float *weights, void *scratch) {
    op_t *op = &((layer_t *)layer)->op;
    float *x = op->x, *saved[MAX_ARGS];
    void *saved_scratch = op->eager_scratch;
    for (int i = 0; i < op->nargs; i++) {
        saved[i] = op->buf[i];
        if (op->arg_id[i] == DNNL_ARG_SRC) op->buf[i] = src;
        if (op->arg_id[i] == DNNL_ARG_WEIGHTS && weights) op->buf[i] = weights;
    }
    if (scratch) op->eager_scratch = scratch;
    op->x = src;
    execute_eager(op, dst);
    op->x = x;
    op->eager_scratch = saved_scratch;
    for (int i = 0; i < op->nargs; i++) op->buf[i] = saved[i];
}

/* The kernel oneDNN chose (or "cblas_sgemm"). */
const char *pdnn_layer_kernel(void *layer) {
    return ((layer_t *)layer)->op.kernel;
}

/* The calling thread's MXCSR (FTZ 0x8000, DAZ 0x0040: denormal handling; 0x1F80 is the default). */
unsigned pdnn_mxcsr(void) {
    return _mm_getcsr();
}

void pdnn_layer_close(void *layer) {
    destroy(&((layer_t *)layer)->op);
    free(layer);
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
    openblas_set_num_threads(threads);
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
