/*
 * dnnl_seq_bench's attention models: the primitives CompiledModel.compile emits for
 * MultiheadAttention.lower (self-attention, sequence first) and TransformerEncoderLayer.lower
 * (post-norm, ReLU), step for step (compile/LowerOps.gemm, LowerMatMul.matmul/transpose,
 * LowerBinary, LowerMath.softmax, LowerReduce.layerNorm); see dnnl_seq_bench.c.
 */
#include "dnnl_seq_bench.h"

/*
 * Gemm (transB = 1) as the compiler lowers it: inner product, plain src/dst, weights `any` reordered once, bias; with
 * relu, a fused ReLU as the compiler fuses it (fuse_activation): the NaN-keeping eltwise elu with alpha 0 as a post-op.
 */
static float *inner_product_act(model_t *m, const char *name, float *src_buf, long rows, long in, long out, float *w, float *b,
                                int relu) {
    dnnl_dims_t src_d = {rows, in}, w_d = {out, in}, b_d = {out}, dst_d = {rows, out};
    dnnl_memory_desc_t src = plain(2, src_d), w_user = plain(2, w_d), w_any = md_tag(2, w_d, dnnl_format_tag_any);
    dnnl_memory_desc_t bias = plain(1, b_d), dst = plain(2, dst_d);
    dnnl_primitive_attr_t attr = user_scratchpad();
    if (relu) {
        dnnl_post_ops_t post;
        CHECK(dnnl_post_ops_create(&post));
        CHECK(dnnl_post_ops_append_eltwise(post, dnnl_eltwise_elu, 0.f, 0.f));
        CHECK(dnnl_primitive_attr_set_post_ops(attr, post));
        CHECK(dnnl_post_ops_destroy(post));
    }
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_inner_product_forward_primitive_desc_create(&pd, engine, dnnl_forward_inference, src, w_any, bias, dst, attr));
    const_dnnl_memory_desc_t chosen;
    float *wbuf = reordered(pd, 0, w_user, w, &chosen);
    float *dst_buf = zeroed((size_t)(rows * out) * sizeof(float));
    step_t *s = add_step(m, pd, name);
    arg(s, DNNL_ARG_SRC, src, src_buf);
    arg(s, DNNL_ARG_WEIGHTS, chosen, wbuf);
    arg(s, DNNL_ARG_BIAS, bias, b);
    arg(s, DNNL_ARG_DST, dst, dst_buf);
    dnnl_primitive_attr_destroy(attr);
    return dst_buf;
}

static float *inner_product(model_t *m, const char *name, float *src_buf, long rows, long in, long out, float *w, float *b) {
    return inner_product_act(m, name, src_buf, rows, in, out, w, b, 0);
}

/* Transpose as LowerMatMul.transpose: a reorder from plain `in` dims into those dims with the plain output's strides, permuted. */
static float *transpose(model_t *m, const char *name, float *src_buf, const long in[4], const int perm[4]) {
    dnnl_dims_t in_d, strides;
    long out[4], out_strides[4], step = 1;
    for (int i = 0; i < 4; i++) { in_d[i] = in[i]; out[i] = in[perm[i]]; }
    for (int i = 3; i >= 0; i--) { out_strides[i] = step; step *= out[i]; }
    for (int i = 0; i < 4; i++) strides[perm[i]] = out_strides[i];
    dnnl_memory_desc_t from = plain(4, in_d), to;
    CHECK(dnnl_memory_desc_create_with_strides(&to, 4, in_d, dnnl_f32, strides));
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, NULL));
    float *dst_buf = zeroed((size_t)step * sizeof(float));
    step_t *s = add_step(m, pd, name);
    arg(s, DNNL_ARG_FROM, from, src_buf);
    arg(s, DNNL_ARG_TO, to, dst_buf);
    return dst_buf;
}

/*
 * A 4-D strided view (LowerMatMul.view): each size-1 dim gets the stride an outermost dim would have (oneDNN 3.13's
 * matmul misread a transposed B whose size-1 batch dim had another dim's stride). The compiler uses such views only
 * where LowerMatMul.viewable holds (batch strides not increasing inwards, both matrix dims > 1): true of every spec
 * with a sequence and a head width above 1, as the benchmark's.
 */
static dnnl_memory_desc_t view(const long d[4], const long st[4]) {
    long outer = 1;
    for (int i = 0; i < 4; i++) if (d[i] > 1 && st[i] * d[i] > outer) outer = st[i] * d[i];
    dnnl_dims_t dims, strides;
    for (int i = 0; i < 4; i++) { dims[i] = d[i]; strides[i] = d[i] == 1 ? outer : st[i]; }
    dnnl_memory_desc_t md;
    CHECK(dnnl_memory_desc_create_with_strides(&md, 4, dims, dnnl_f32, strides));
    return md;
}

/*
 * A batched matmul over views, as the compiler lowers attention since fold_transpose_matmul and fuse_matmul_scale:
 * A, B and dst as the given descriptors over the given buffers (dst a new buffer of dst_bytes unless dst_buf is given),
 * with a scalar factor as a binary mul post-op when scale is given.
 */
static float *matmul_views(model_t *m, const char *name, dnnl_memory_desc_t amd, float *a, dnnl_memory_desc_t bmd, float *b,
                           dnnl_memory_desc_t dmd, float *dst_buf, float *scale) {
    dnnl_primitive_attr_t attr = user_scratchpad();
    dnnl_dims_t one = {1, 1, 1, 1};
    dnnl_memory_desc_t smd = plain(4, one);
    if (scale) {
        dnnl_post_ops_t post;
        CHECK(dnnl_post_ops_create(&post));
        CHECK(dnnl_post_ops_append_binary(post, dnnl_binary_mul, smd));
        CHECK(dnnl_primitive_attr_set_post_ops(attr, post));
        CHECK(dnnl_post_ops_destroy(post));
    }
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_matmul_primitive_desc_create(&pd, engine, amd, bmd, NULL, dmd, attr));
    if (!dst_buf) dst_buf = zeroed(dnnl_memory_desc_get_size(dmd));
    step_t *s = add_step(m, pd, name);
    arg(s, DNNL_ARG_SRC, amd, a);
    arg(s, DNNL_ARG_WEIGHTS, bmd, b);
    arg(s, DNNL_ARG_DST, dmd, dst_buf);
    if (scale) arg(s, DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, smd, scale);
    dnnl_primitive_attr_destroy(attr);
    return dst_buf;
}

/* dst = a (op) b, b broadcast over its size-1 dims (LowerBinary); ndims <= 4. */
static float *binary(model_t *m, const char *name, dnnl_alg_kind_t alg, int ndims, const dnnl_dims_t ad, float *a,
                     const dnnl_dims_t bd, float *b) {
    dnnl_memory_desc_t amd = plain(ndims, ad), bmd = plain(ndims, bd), dmd = plain(ndims, ad);
    dnnl_primitive_attr_t attr = user_scratchpad();
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_binary_primitive_desc_create(&pd, engine, alg, amd, bmd, dmd, attr));
    float *dst_buf = zeroed(dnnl_memory_desc_get_size(amd));
    step_t *s = add_step(m, pd, name);
    arg(s, DNNL_ARG_SRC_0, amd, a);
    arg(s, DNNL_ARG_SRC_1, bmd, b);
    arg(s, DNNL_ARG_DST, dmd, dst_buf);
    dnnl_primitive_attr_destroy(attr);
    return dst_buf;
}

/*
 * Softmax on the last axis (accurate). The compiler's NaN-line repair after it (a reduction and a
 * binary add, LowerMath.softmax) is left out of the plan when, as here, only the attention matmul
 * reads the probabilities (one NaN in a row of A makes that row of A @ B NaN either way).
 */
static float *softmax(model_t *m, float *x, const dnnl_dims_t d) {
    dnnl_memory_desc_t md = plain(4, d);
    dnnl_primitive_attr_t attr = user_scratchpad();
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_softmax_forward_primitive_desc_create(&pd, engine, dnnl_forward_inference, dnnl_softmax_accurate, md, md, 3, attr));
    float *y = zeroed(dnnl_memory_desc_get_size(md));
    step_t *s = add_step(m, pd, "softmax");
    arg(s, DNNL_ARG_SRC, md, x);
    arg(s, DNNL_ARG_DST, md, y);
    dnnl_primitive_attr_destroy(attr);
    return y;
}

static float *layer_norm(model_t *m, const char *name, float *x, long rows, long e) {
    dnnl_dims_t d = {rows, e}, sd = {rows}, ad = {e};
    dnnl_memory_desc_t md = plain(2, d), stats = plain(1, sd), affine = plain(1, ad);
    dnnl_primitive_attr_t attr = user_scratchpad();
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_layer_normalization_forward_primitive_desc_create(&pd, engine, dnnl_forward_inference, md, md, stats, 1e-5f,
                                                                 dnnl_use_scale | dnnl_use_shift, attr));
    float *y = zeroed(dnnl_memory_desc_get_size(md));
    step_t *s = add_step(m, pd, name);
    arg(s, DNNL_ARG_SRC, md, x);
    arg(s, DNNL_ARG_DST, md, y);
    arg(s, DNNL_ARG_SCALE, affine, m->ln_scale);
    arg(s, DNNL_ARG_SHIFT, affine, m->ln_shift);
    dnnl_primitive_attr_destroy(attr);
    return y;
}

void build_attention(model_t *m, int encoder) {
    long L = m->steps, N = m->batch, E = m->in, H = m->heads, hd = E / H, F = m->ff, rows = L * N;
    float ws = 1.0f / sqrtf((float)E);
    m->x = random_floats((size_t)(rows * E), 1);
    for (int i = 0; i < 4; i++) { m->w[i] = random_floats((size_t)(E * E), ws); m->b[i] = random_floats((size_t)E, ws); }
    if (encoder) {
        m->w[4] = random_floats((size_t)(F * E), ws);
        m->b[4] = random_floats((size_t)F, ws);
        m->w[5] = random_floats((size_t)(E * F), 1.0f / sqrtf((float)F));
        m->b[5] = random_floats((size_t)E, ws);
        m->ln_scale = random_floats((size_t)E, 0.5f);
        for (long i = 0; i < E; i++) m->ln_scale[i] += 1;
        m->ln_shift = random_floats((size_t)E, 0.5f);
    }
    static const char *proj[] = {"q_proj", "k_proj", "v_proj"};
    static const int v_perm[4] = {1, 2, 0, 3};
    const long split[4] = {L, N, H, hd};
    float *p[3];
    for (int i = 0; i < 3; i++) p[i] = inner_product(m, proj[i], m->x, rows, E, E, m->w[i], m->b[i]);
    float *v = transpose(m, "v_transpose", p[2], split, v_perm);   // a view B with a long leading dimension: kept
    // q as [N, H, L, hd] and k^T as [N, H, hd, L]: views of the projections' [L, N, H, hd] bytes
    const long qd[4] = {N, H, L, hd}, kd[4] = {N, H, hd, L}, sdims[4] = {N, H, L, L};
    const long qs[4] = {E, hd, N * E, 1}, ks[4] = {E, hd, 1, N * E}, ss[4] = {H * L * L, L * L, L, 1};
    float *scale = zeroed(sizeof(float));
    scale[0] = 1.0f / sqrtf((float)hd);
    float *scores = matmul_views(m, "scores+scaled+q_transpose+k_transpose", view(qd, qs), p[0], view(kd, ks), p[1], view(sdims, ss),
                                 NULL, scale);
    dnnl_dims_t sd = {N, H, L, L};
    float *probs = softmax(m, scores, sd);
    // the result written through a view of the merged [L, N, H, hd] buffer
    const long vs[4] = {H * L * hd, L * hd, hd, 1};
    float *merged = matmul_views(m, "attend+merge", view(sdims, ss), probs, view(qd, vs), v, view(qd, qs), NULL, NULL);
    float *sa = inner_product(m, "out_proj", merged, rows, E, E, m->w[3], m->b[3]);
    if (!encoder) { m->y = sa; return; }
    dnnl_dims_t xd = {L, N, E};
    float *y1 = layer_norm(m, "norm1", binary(m, "add1", dnnl_binary_add, 3, xd, m->x, xd, sa), rows, E);
    float *h = inner_product_act(m, "linear1+relu", y1, rows, E, F, m->w[4], m->b[4], 1);
    float *ff = inner_product(m, "linear2", h, rows, F, E, m->w[5], m->b[5]);
    m->y = layer_norm(m, "norm2", binary(m, "add2", dnnl_binary_add, 3, xd, y1, xd, ff), rows, E);
}

/* y = W x + b for one row (W [out, in] row-major), in double. */
static void linear_row(const float *w, const float *b, const double *x, long in, long out, double *y) {
    for (long o = 0; o < out; o++) {
        double s = b[o];
        for (long i = 0; i < in; i++) s += w[o * in + i] * x[i];
        y[o] = s;
    }
}

static void norm_row(const model_t *m, double *x, long e) {
    double mean = 0, var = 0;
    for (long i = 0; i < e; i++) mean += x[i];
    mean /= e;
    for (long i = 0; i < e; i++) var += (x[i] - mean) * (x[i] - mean);
    var /= e;
    for (long i = 0; i < e; i++) x[i] = (x[i] - mean) / sqrt(var + 1e-5) * m->ln_scale[i] + m->ln_shift[i];
}

/* Query rows 0, L/2 and L-1 of sequence 0 through plain loops in double, against the plan's output. */
int check_attention(model_t *m, int encoder) {
    long L = m->steps, N = m->batch, E = m->in, H = m->heads, hd = E / H, F = m->ff;
    double *k = malloc(sizeof(double) * (size_t)(L * E)), *v = malloc(sizeof(double) * (size_t)(L * E));
    double *x = malloc(sizeof(double) * (size_t)E), *q = malloc(sizeof(double) * (size_t)E), *o = malloc(sizeof(double) * (size_t)E);
    double *y = malloc(sizeof(double) * (size_t)E), *p = malloc(sizeof(double) * (size_t)L);
    double *f = malloc(sizeof(double) * (size_t)(F > 0 ? F : 1)), *g = malloc(sizeof(double) * (size_t)E);
    for (long j = 0; j < L; j++) {
        for (long i = 0; i < E; i++) x[i] = m->x[(j * N + 0) * E + i];
        linear_row(m->w[1], m->b[1], x, E, E, k + j * E);
        linear_row(m->w[2], m->b[2], x, E, E, v + j * E);
    }
    int ok = 1;
    long rows[3] = {0, L / 2, L - 1};
    for (int r = 0; r < 3 && ok; r++) {
        long l = rows[r];
        for (long i = 0; i < E; i++) x[i] = m->x[(l * N + 0) * E + i];
        linear_row(m->w[0], m->b[0], x, E, E, q);
        for (long h = 0; h < H; h++) {
            double max = -INFINITY, sum = 0;
            for (long j = 0; j < L; j++) {
                double s = 0;
                for (long d = 0; d < hd; d++) s += q[h * hd + d] * k[j * E + h * hd + d];
                p[j] = s / sqrt((double)hd);
                max = p[j] > max ? p[j] : max;
            }
            for (long j = 0; j < L; j++) sum += p[j] = exp(p[j] - max);
            for (long d = 0; d < hd; d++) {
                double s = 0;
                for (long j = 0; j < L; j++) s += p[j] / sum * v[j * E + h * hd + d];
                o[h * hd + d] = s;
            }
        }
        linear_row(m->w[3], m->b[3], o, E, E, y);
        if (encoder) {
            for (long i = 0; i < E; i++) y[i] += x[i];
            norm_row(m, y, E);
            linear_row(m->w[4], m->b[4], y, E, F, f);
            for (long i = 0; i < F; i++) f[i] = f[i] > 0 ? f[i] : 0;
            linear_row(m->w[5], m->b[5], f, F, E, g);
            for (long i = 0; i < E; i++) y[i] += g[i];
            norm_row(m, y, E);
        }
        for (long i = 0; i < E; i++) {
            float got = m->y[(l * N + 0) * E + i];
            if (fabs(got - y[i]) > 1e-4 * (1 + fabs(y[i]))) {
                fprintf(stderr, "%s: output[%ld, 0, %ld] = %.7g, plain loops give %.7g\n", m->kind, l, i, got, y[i]);
                ok = 0;
                break;
            }
        }
    }
    free(k); free(v); free(x); free(q); free(o); free(y); free(p); free(f); free(g);
    return ok;
}
