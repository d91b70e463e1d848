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
    CHECK(cap < 0xffffffffu, "dedup.h: a ring index + 1 fits 32 bits");
}

void dedup_free(dedup_t *d)
{
    free(d->ring);
    free(d->table);
    memset(d, 0, sizeof *d);
}

/* The entry's high half: the low 32 bits of h.lo, which hold its home
 * slot (tmask < 2^32), so that moving entries needs no ring read. */
static uint64_t tag_of(dedup_hash_t h)
{
    return (h.lo & 0xffffffffull) << 32;
}

static size_t ring_of(uint64_t e)
{
    return (size_t)(e & 0xffffffffu) - 1;
}

/* The table slot that holds h (1), or the empty one where it would go
 * (0), in *slot. */
static int probe(const dedup_t *d, dedup_hash_t h, size_t *slot)
{
    uint64_t tag = tag_of(h);
    for (size_t i = h.lo & d->tmask;; i = (i + 1) & d->tmask) {
        uint64_t e = d->table[i];
        if (!e) {
            *slot = i;
            return 0;
        }
        if ((e & 0xffffffff00000000ull) == tag && same(d->ring[ring_of(e)], h)) {
            *slot = i;
            return 1;
        }
    }
}

/* The table slot of ring entry pos (hash h), found by its index. */
static long find_pos(const dedup_t *d, dedup_hash_t h, size_t pos)
{
    for (size_t i = h.lo & d->tmask;; i = (i + 1) & d->tmask) {
        uint64_t e = d->table[i];
        if (!e)
            return -1;
        if ((e & 0xffffffffu) == pos + 1)
            return (long)i;
    }
}

static long find(const dedup_t *d, dedup_hash_t h)
{
    size_t i;
    return probe(d, h, &i) ? (long)i : -1;
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
            uint64_t e = d->table[j];
            if (!e)
                return;
            size_t home = (size_t)(e >> 32) & d->tmask;
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
    size_t slot;
    if (!d->cap || probe(d, h, &slot))
        return 0;
    size_t pos;
    if (d->count == d->cap) {
        /* forget the oldest to make room: its slot may be before ours in
         * a run, and deleting it may move ours, so look again after */
        pos = d->head;
        if (d->ring[pos].lo || d->ring[pos].hi) {
            long t = find_pos(d, d->ring[pos], pos);
            CHECK(t >= 0, "dedup.h: every live ring entry is in the table");
            table_delete(d, (size_t)t);
            d->live--;
            probe(d, h, &slot);
        }
        d->head = (d->head + 1) % d->cap;
    } else {
        pos = (d->head + d->count) % d->cap;
        d->count++;
    }
    d->ring[pos] = h;
    d->table[slot] = tag_of(h) | ((uint64_t)pos + 1);
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
    uint64_t e = d->table[t];
    table_delete(d, (size_t)t);
    d->ring[ring_of(e)] = (dedup_hash_t){0, 0};
    d->live--;
    return 1;
}
