/* hist.h - fixed-bucket histograms for /metrics.
 *
 * Observed from any thread (relaxed atomics: a scrape may see a count and
 * a sum one observation apart, as Prometheus clients allow) and rendered in
 * the Prometheus text format as cumulative _bucket{le=...}, _sum and _count
 * series. Observing costs a short scan of the bounds and two atomic adds:
 * it is done per request or per batch, never per record.
 */
#ifndef LOGSHIP_HIST_H
#define LOGSHIP_HIST_H

#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"

#define HIST_MAX_BUCKETS 24

typedef struct hist_kind {
    const double *le; /* upper bounds, ascending, in the rendered unit */
    unsigned n;
    double scale; /* sum kept as an integer of 1/scale units */
} hist_kind_t;

typedef struct hist {
    const hist_kind_t *kind;
    _Atomic uint64_t counts[HIST_MAX_BUCKETS + 1]; /* the last is +Inf */
    _Atomic uint64_t sum;
} hist_t;

/* Durations in seconds, 50 µs to 10 s; and sizes (records, bytes), 1 to
 * 1M in powers of 4. */
extern const hist_kind_t hist_seconds, hist_sizes;

void hist_init(hist_t *h, const hist_kind_t *kind);
void hist_observe(hist_t *h, double v);
/* A duration from ns. */
static inline void hist_observe_ns(hist_t *h, int64_t ns)
{
    hist_observe(h, ns > 0 ? (double)ns / 1e9 : 0.0);
}
/* The series of one histogram (no HELP/TYPE lines): labels is "" or
 * `input="http"` and goes before le. */
void hist_render(buf_t *out, const char *name, const char *labels, const hist_t *h);

#endif
