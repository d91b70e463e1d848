/* bench_hist.c - log-linear latency histogram: see bench_hist.h. */
#include "bench_hist.h"

#include <math.h>
#include <string.h>

#define RELAXED memory_order_relaxed

static inline unsigned msb(uint64_t v)
{
    return 63u - (unsigned)__builtin_clzll(v);
}

unsigned bench_hist_bucket(uint64_t ns)
{
    if (ns > BENCH_HIST_MAX_NS)
        ns = BENCH_HIST_MAX_NS;
    if (ns < BENCH_HIST_LINEAR)
        return (unsigned)ns;
    unsigned e = msb(ns); /* 8 .. TOP_BIT-1 */
    /* the 7 bits below the top one pick the bucket in [2^e, 2^(e+1)) */
    unsigned sub = (unsigned)(ns >> (e - 7u)) & (BENCH_HIST_SUB - 1u);
    return BENCH_HIST_LINEAR + (e - 8u) * BENCH_HIST_SUB + sub;
}

void bench_hist_range(unsigned bucket, uint64_t *lo, uint64_t *hi)
{
    if (bucket < BENCH_HIST_LINEAR) {
        *lo = *hi = bucket;
        return;
    }
    unsigned i = bucket - BENCH_HIST_LINEAR, e = 8u + i / BENCH_HIST_SUB, sub = i % BENCH_HIST_SUB;
    uint64_t width = UINT64_C(1) << (e - 7u);
    *lo = (UINT64_C(1) << e) + (uint64_t)sub * width;
    *hi = *lo + width - 1;
}

void bench_hist_init(bench_hist_t *h)
{
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++)
        atomic_init(&h->counts[i], 0);
    atomic_init(&h->n, 0);
    atomic_init(&h->max_ns, 0);
    atomic_init(&h->sum_ns, 0);
}

/* One writer: a load and a store, no locked instruction. */
static inline void add(_Atomic uint64_t *c, uint64_t v)
{
    atomic_store_explicit(c, atomic_load_explicit(c, RELAXED) + v, RELAXED);
}

void bench_hist_record_n(bench_hist_t *h, uint64_t ns, uint64_t times)
{
    if (!times)
        return;
    add(&h->counts[bench_hist_bucket(ns)], times);
    add(&h->n, times);
    add(&h->sum_ns, ns * times);
    if (ns > atomic_load_explicit(&h->max_ns, RELAXED))
        atomic_store_explicit(&h->max_ns, ns, RELAXED);
}

void bench_hist_record(bench_hist_t *h, uint64_t ns)
{
    bench_hist_record_n(h, ns, 1);
}

void bench_hist_merge(bench_hist_t *into, const bench_hist_t *from)
{
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
        uint64_t c = atomic_load_explicit(&from->counts[i], RELAXED);
        if (c)
            add(&into->counts[i], c);
    }
    add(&into->n, atomic_load_explicit(&from->n, RELAXED));
    add(&into->sum_ns, atomic_load_explicit(&from->sum_ns, RELAXED));
    uint64_t m = atomic_load_explicit(&from->max_ns, RELAXED);
    if (m > atomic_load_explicit(&into->max_ns, RELAXED))
        atomic_store_explicit(&into->max_ns, m, RELAXED);
}

uint64_t bench_hist_count(const bench_hist_t *h)
{
    return atomic_load_explicit(&h->n, RELAXED);
}

uint64_t bench_hist_max(const bench_hist_t *h)
{
    return atomic_load_explicit(&h->max_ns, RELAXED);
}

double bench_hist_mean(const bench_hist_t *h)
{
    uint64_t n = bench_hist_count(h);
    return n ? (double)atomic_load_explicit(&h->sum_ns, RELAXED) / (double)n : 0.0;
}

uint64_t bench_hist_quantile(const bench_hist_t *h, double q)
{
    /* the total from the counts themselves: a reader during writes may see
     * n and the counts apart */
    uint64_t total = 0;
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++)
        total += atomic_load_explicit(&h->counts[i], RELAXED);
    if (!total)
        return 0;
    if (q > 1.0)
        q = 1.0;
    uint64_t rank = (uint64_t)ceil(q * (double)total);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0, max = bench_hist_max(h);
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
        seen += atomic_load_explicit(&h->counts[i], RELAXED);
        if (seen >= rank) {
            uint64_t lo, hi;
            bench_hist_range(i, &lo, &hi);
            uint64_t mid = lo + (hi - lo) / 2;
            return max && mid > max ? max : mid;
        }
    }
    return max;
}
