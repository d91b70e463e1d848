/* hist.c - fixed-bucket histograms: see hist.h. */
#include "hist.h"

#include <stdio.h>

static const double seconds_le[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                    0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                    0.5,     1,      2.5,     5,      10};
static const double sizes_le[] = {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576};

const hist_kind_t hist_seconds = {seconds_le, sizeof seconds_le / sizeof seconds_le[0], 1e9};
const hist_kind_t hist_sizes = {sizes_le, sizeof sizes_le / sizeof sizes_le[0], 1};

void hist_init(hist_t *h, const hist_kind_t *kind)
{
    h->kind = kind;
    for (unsigned i = 0; i <= HIST_MAX_BUCKETS; i++)
        atomic_init(&h->counts[i], 0);
    atomic_init(&h->sum, 0);
}

void hist_observe(hist_t *h, double v)
{
    const hist_kind_t *k = h->kind;
    if (!k)
        return;
    unsigned i = 0;
    while (i < k->n && v > k->le[i])
        i++;
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, (uint64_t)(v * k->scale + 0.5), memory_order_relaxed);
}

void hist_render(buf_t *out, const char *name, const char *labels, const hist_t *h)
{
    const hist_kind_t *k = h->kind;
    if (!k)
        return;
    const char *sep = labels[0] ? "," : "";
    uint64_t cum = 0;
    for (unsigned i = 0; i <= k->n; i++) {
        cum += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
        if (i < k->n)
            buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, k->le[i],
                       (unsigned long long)cum);
        else
            buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
                       (unsigned long long)cum);
    }
    double sum = (double)atomic_load_explicit(&h->sum, memory_order_relaxed) / k->scale;
    if (labels[0]) {
        buf_printf(out, "%s_sum{%s} %.9g\n", name, labels, sum);
        buf_printf(out, "%s_count{%s} %llu\n", name, labels, (unsigned long long)cum);
    } else {
        buf_printf(out, "%s_sum %.9g\n", name, sum);
        buf_printf(out, "%s_count %llu\n", name, (unsigned long long)cum);
    }
}
