/* bench_hist.h - the latency histogram of `logship bench`: log-linear
 * buckets (as HdrHistogram's) over nanoseconds, so that every percentile it
 * reports is within 0.4% of a value that was observed, from 1 ns to about
 * 18 minutes, in constant memory.
 *
 * Values below 256 ns have a bucket each; above, each power of two is cut
 * into 128 buckets of equal width, so a bucket is at most 1/128 of its
 * lower bound wide and its midpoint at most 1/256 (0.39%) from anything in
 * it. Values above BENCH_HIST_MAX_NS share the last bucket; the max is
 * kept exactly.
 *
 * One writer per histogram (a load thread); others may read it while it is
 * written (the progress line): counts are relaxed atomics, so a reader sees
 * each count whole, and totals at most a few observations apart. Merging
 * and quantiles are for readers. No allocation, no system call.
 */
#ifndef LOGSHIP_CLI_BENCH_HIST_H
#define LOGSHIP_CLI_BENCH_HIST_H

#include <stdatomic.h>
#include <stdint.h>

#define BENCH_HIST_LINEAR  256u /* values below: one bucket each */
#define BENCH_HIST_SUB     128u /* buckets per power of two above */
#define BENCH_HIST_TOP_BIT 40u  /* values from 2^40 ns (18 min) on share the last bucket */
#define BENCH_HIST_MAX_NS  ((UINT64_C(1) << BENCH_HIST_TOP_BIT) - 1)
#define BENCH_HIST_BUCKETS (BENCH_HIST_LINEAR + (BENCH_HIST_TOP_BIT - 8u) * BENCH_HIST_SUB)

typedef struct bench_hist {
    _Atomic uint64_t counts[BENCH_HIST_BUCKETS];
    _Atomic uint64_t n, max_ns, sum_ns;
} bench_hist_t;

/* All counts zero. */
void bench_hist_init(bench_hist_t *h);
/* Counts one value (ns); the histogram's one writer only. */
void bench_hist_record(bench_hist_t *h, uint64_t ns);
/* Counts `times` equal values at once (a write that carried many records). */
void bench_hist_record_n(bench_hist_t *h, uint64_t ns, uint64_t times);
/* Adds from's counts to into (into's one writer, or after the writers of
 * both stopped). */
void bench_hist_merge(bench_hist_t *into, const bench_hist_t *from);

/* Values counted. */
uint64_t bench_hist_count(const bench_hist_t *h);
/* The largest value counted, exactly (0 when none). */
uint64_t bench_hist_max(const bench_hist_t *h);
/* The mean (0 when none). */
double bench_hist_mean(const bench_hist_t *h);
/* The q-quantile (0 < q <= 1): the value at rank ceil(q * count), given as
 * its bucket's midpoint, never above the max. 0 when nothing is counted. */
uint64_t bench_hist_quantile(const bench_hist_t *h, double q);

/* The bucket of a value, and the range [*lo, *hi] of a bucket: for tests. */
unsigned bench_hist_bucket(uint64_t ns);
void bench_hist_range(unsigned bucket, uint64_t *lo, uint64_t *hi);

#endif
