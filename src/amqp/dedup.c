/* dedup.c - the input's window of keys: see dedup.h. */
#include "dedup.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../common/buf.h"
#include "../common/check.h"

dedup_hash_t dedup_hash(const char *key, size_t n)
{
    XXH128_hash_t x = XXH3_128bits(key, n);
    dedup_hash_t h = {x.low64, x.high64};
    if (!h.lo && !h.hi)
        h.lo = 1; /* (0, 0) marks a slot taken back */
    return h;
}

static int same(dedup_hash_t a, dedup_hash_t b)
{
    return a.lo == b.lo && a.hi == b.hi;
}

void dedup_init(dedup_t *d, size_t cap)
{
    memset(d, 0, sizeof *d);
    if (cap > DEDUP_MAX)
        cap = DEDUP_MAX;
    d->cap = cap;
    if (!cap)
        return;
    size_t t = 2;
    while (t < 2 * cap)
        t <<= 1;
    d->tmask = t - 1;
    d->ring = xcalloc(cap, sizeof *d->ring);
    d->table = xcalloc(t, sizeof *d->table);
}

void dedup_free(dedup_t *d)
{
    free(d->ring);
    free(d->table);
    memset(d, 0, sizeof *d);
}

/* The table slot that holds h, or -1. */
static long find(const dedup_t *d, dedup_hash_t h)
{
    for (size_t i = h.lo & d->tmask;; i = (i + 1) & d->tmask) {
        uint32_t e = d->table[i];
        if (!e)
            return -1;
        if (same(d->ring[e - 1], h))
            return (long)i;
    }
}

/* Empties table slot i, moving later entries of the same run back so that
 * every entry stays reachable from its home slot (no tombstones). */
static void table_delete(dedup_t *d, size_t i)
{
    size_t j = i;
    for (;;) {
        d->table[i] = 0;
        for (;;) {
            j = (j + 1) & d->tmask;
            uint32_t e = d->table[j];
            if (!e)
                return;
            size_t home = d->ring[e - 1].lo & d->tmask;
            /* e may move to i when its home is not in (i, j] (cyclically) */
            int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
            if (!stays) {
                d->table[i] = e;
                i = j;
                break;
            }
        }
    }
}

int dedup_has(const dedup_t *d, dedup_hash_t h)
{
    return d->cap && find(d, h) >= 0;
}

int dedup_add(dedup_t *d, dedup_hash_t h)
{
    if (!d->cap || find(d, h) >= 0)
        return 0;
    size_t pos;
    if (d->count == d->cap) {
        /* forget the oldest to make room */
        pos = d->head;
        if (d->ring[pos].lo || d->ring[pos].hi) {
            long t = find(d, d->ring[pos]);
            CHECK(t >= 0, "dedup.h: every live ring entry is in the table");
            table_delete(d, (size_t)t);
            d->live--;
        }
        d->head = (d->head + 1) % d->cap;
    } else {
        pos = (d->head + d->count) % d->cap;
        d->count++;
    }
    d->ring[pos] = h;
    size_t i = h.lo & d->tmask;
    while (d->table[i])
        i = (i + 1) & d->tmask;
    d->table[i] = (uint32_t)pos + 1;
    d->live++;
    return 1;
}

int dedup_remove(dedup_t *d, dedup_hash_t h)
{
    if (!d->cap)
        return 0;
    long t = find(d, h);
    if (t < 0)
        return 0;
    uint32_t e = d->table[t];
    table_delete(d, (size_t)t);
    d->ring[e - 1] = (dedup_hash_t){0, 0};
    d->live--;
    return 1;
}
