/*
 * The C floor for SGEMM: cblas_sgemm from the SAME libopenblas.so.0 that the Java loader uses
 * (scripts/bench compiles this with gcc against it at benchmark time), the same shapes and
 * thread count as GemmBenchmark, row-major, C = A * op(B) like the Java side.
 *
 * usage: sgemm_bench THREADS SECONDS_PER_SHAPE SHAPE...
 *   SHAPE: "N" (square) or "MxNxK", optionally ":TN", ":NT" or ":TT" (transpose A / B).
 * Per shape: one warm-up call, then repetitions until SECONDS have passed (at least 5);
 * prints one tab-separated line: shape m n k reps best_us median_us mean_us gflops_best gflops_mean
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern void openblas_set_num_threads(int);
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s THREADS SECONDS SHAPE...\n", argv[0]);
        return 2;
    }
    int threads = atoi(argv[1]);
    double seconds = atof(argv[2]);
    openblas_set_num_threads(threads);
    printf("# %s; threads %d\n", openblas_get_config(), openblas_get_num_threads());
    for (int s = 3; s < argc; s++) {
        const char *shape = argv[s];
        int m, n, k;
        char ta = 'N', tb = 'N';
        const char *colon = strchr(shape, ':');
        if (sscanf(shape, "%dx%dx%d", &m, &n, &k) != 3) {
            if (sscanf(shape, "%d", &m) != 1) { fprintf(stderr, "bad shape %s\n", shape); return 2; }
            n = k = m;
        }
        if (colon && strlen(colon) >= 3) { ta = colon[1]; tb = colon[2]; }
        int lda = ta == 'T' ? m : k, ldb = tb == 'T' ? k : n, ldc = n;
        float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)k * n),
              *c = malloc(sizeof(float) * (size_t)m * n);
        srand(1);
        for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (float)rand() / RAND_MAX;
        for (size_t i = 0; i < (size_t)k * n; i++) b[i] = (float)rand() / RAND_MAX;
        enum CBLAS_TRANSPOSE cta = ta == 'T' ? CblasTrans : CblasNoTrans, ctb = tb == 'T' ? CblasTrans : CblasNoTrans;
        cblas_sgemm(CblasRowMajor, cta, ctb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc); /* warm-up */
        int cap = 1 << 20, reps = 0;
        double *t = malloc(sizeof(double) * cap), start = now_us();
        while (reps < cap && (reps < 5 || now_us() - start < seconds * 1e6)) {
            double t0 = now_us();
            cblas_sgemm(CblasRowMajor, cta, ctb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
            t[reps++] = now_us() - t0;
        }
        double sum = 0;
        for (int i = 0; i < reps; i++) sum += t[i];
        qsort(t, reps, sizeof(double), cmp_double);
        double flop = 2.0 * m * n * k, mean = sum / reps;
        printf("%s\t%d\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.2f\t%.2f\n", shape, m, n, k, reps, t[0], t[reps / 2], mean,
               flop / t[0] / 1e3, flop / mean / 1e3);
        fflush(stdout);
        free(t); free(a); free(b); free(c);
    }
    return 0;
}
