/* Shared by dnnl_seq_bench.c (driver, recurrent models) and dnnl_seq_attention.c (attention). */
#ifndef DNNL_SEQ_BENCH_H
#define DNNL_SEQ_BENCH_H
#include <math.h>
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void omp_set_num_threads(int);
extern int omp_get_max_threads(void);

#define CHECK(call)                                                                         \
    do {                                                                                    \
        dnnl_status_t s_ = (call);                                                          \
        if (s_ != dnnl_success) {                                                           \
            fprintf(stderr, "%s failed: %s (line %d)\n", #call, dnnl_status2str(s_), __LINE__); \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

enum { MAX_STEPS = 32, MAX_ARGS = 12 };

typedef struct {
    dnnl_primitive_t prim;
    int nargs;
    dnnl_exec_arg_t args[MAX_ARGS];
    char name[48];
    char kernel[64];
} step_t;

typedef struct {
    char kind[16];
    long in, hidden, steps, batch, heads, ff;
    step_t step[MAX_STEPS];
    int nsteps;
    float *x, *y;                       /* the input and the output a check reads */
    float *w[8], *b[8];                 /* plain weights and biases, for the check */
    float *ln_scale, *ln_shift;
} model_t;

extern dnnl_engine_t engine;
extern dnnl_stream_t stream;

float *zeroed(size_t bytes);
float *random_floats(size_t n, float scale);
dnnl_memory_desc_t md_tag(int ndims, const dnnl_dims_t dims, dnnl_format_tag_t tag);
dnnl_memory_desc_t plain(int ndims, const dnnl_dims_t dims);
dnnl_memory_t mem(const_dnnl_memory_desc_t md, void *buf);
dnnl_primitive_attr_t user_scratchpad(void);
step_t *add_step(model_t *m, dnnl_primitive_desc_t pd, const char *name);
void arg(step_t *s, int id, const_dnnl_memory_desc_t md, void *buf);
float *reordered(dnnl_primitive_desc_t pd, int which, dnnl_memory_desc_t user_md, float *user, const_dnnl_memory_desc_t *chosen);

void build_attention(model_t *m, int encoder);
int check_attention(model_t *m, int encoder);
#endif
