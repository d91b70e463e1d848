/* limit.c - per-client token buckets and connection counts: see limit.h.
 *
 * An open-addressing table (linear probing, power-of-two size, at most half
 * full) keyed by xxhash of the key. Deletion shifts the following run back
 * instead of leaving tombstones, so lookups never degrade. Buckets refill
 * lazily: tokens = min(burst, tokens + rate * elapsed) when a key is used.
 */
#include "limit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

typedef struct entry {
    uint64_t hash; /* 0: empty slot */
    uint64_t t_ns; /* when tokens was last brought up to date */
    double tokens;
    uint32_t conns;
    uint8_t klen;
    char key[LIMIT_KEY_MAX];
} entry_t;

struct limit {
    limit_options_t o;
    entry_t *v;
    size_t cap, n;     /* slots, used */
    uint64_t swept_ns; /* the last sweep of a full table */
    entry_t overflow;  /* shared by new keys while the table is full */
};

static double burst_of(const limit_options_t *o)
{
    if (o->burst >= 1)
        return o->burst;
    return o->rate > 1 ? o->rate : 1;
}

static uint64_t hash_of(slice_t k)
{
    uint64_t h = XXH3_64bits(k.p, k.n);
    return h ? h : 1;
}

limit_t *limit_create(const limit_options_t *o)
{
    limit_t *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->cap = 64;
    l->v = calloc(l->cap, sizeof *l->v);
    if (!l->v) {
        free(l);
        return NULL;
    }
    l->o = *o;
    l->overflow.tokens = burst_of(o);
    return l;
}

void limit_set_options(limit_t *l, const limit_options_t *o)
{
    l->o = *o;
    double b = burst_of(o);
    for (size_t i = 0; i < l->cap; i++)
        if (l->v[i].hash && l->v[i].tokens > b)
            l->v[i].tokens = b;
    if (l->overflow.tokens > b)
        l->overflow.tokens = b;
}

void limit_destroy(limit_t *l)
{
    if (!l)
        return;
    free(l->v);
    free(l);
}

size_t limit_keys(const limit_t *l)
{
    return l->n;
}

static void refill(const limit_t *l, entry_t *e, uint64_t now_ns)
{
    if (now_ns > e->t_ns) {
        e->tokens += l->o.rate * (double)(now_ns - e->t_ns) / 1e9;
        double b = burst_of(&l->o);
        if (e->tokens > b)
            e->tokens = b;
    }
    e->t_ns = now_ns;
}

static entry_t *find(const limit_t *l, slice_t k, uint64_t h)
{
    size_t mask = l->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        entry_t *e = &l->v[i];
        if (!e->hash)
            return NULL;
        if (e->hash == h && e->klen == k.n && memcmp(e->key, k.p, k.n) == 0)
            return e;
    }
}

/* Removes slot i, moving back the entries of its run that probed past it. */
static void remove_at(limit_t *l, size_t i)
{
    size_t mask = l->cap - 1;
    l->v[i].hash = 0;
    l->n--;
    for (size_t j = (i + 1) & mask; l->v[j].hash; j = (j + 1) & mask) {
        size_t home = l->v[j].hash & mask;
        /* j's entry may fill the hole at i when i lies on its probe path:
         * cyclically in [home, j) */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            l->v[i] = l->v[j];
            l->v[j].hash = 0;
            i = j;
        }
    }
}

/* Forgets keys that would start the same if they came back: a full
 * bucket and no connection. */
static void sweep(limit_t *l, uint64_t now_ns)
{
    double b = burst_of(&l->o);
    for (size_t i = 0; i < l->cap;) {
        entry_t *e = &l->v[i];
        if (e->hash && !e->conns) {
            refill(l, e, now_ns);
            if (e->tokens >= b) {
                remove_at(l, i);
                continue; /* slot i holds a moved entry now: look again */
            }
        }
        i++;
    }
}

static int grow(limit_t *l)
{
    size_t cap = l->cap * 2;
    entry_t *v = calloc(cap, sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < l->cap; i++) {
        if (!l->v[i].hash)
            continue;
        size_t j = l->v[i].hash & (cap - 1);
        while (v[j].hash)
            j = (j + 1) & (cap - 1);
        v[j] = l->v[i];
    }
    free(l->v);
    l->v = v;
    l->cap = cap;
    return 0;
}

/* The entry of k, made if new; the overflow entry when there is no room. */
static entry_t *get(limit_t *l, slice_t k, uint64_t now_ns)
{
    if (k.n > LIMIT_KEY_MAX)
        k.n = LIMIT_KEY_MAX;
    uint64_t h = hash_of(k);
    entry_t *e = find(l, k, h);
    if (e)
        return e;
    if ((l->n + 1) * 2 > l->cap) {
        /* a full table is swept at most once a second: a flood of new keys
         * must not cost a scan each */
        if (l->n < LIMIT_MAX_KEYS || now_ns - l->swept_ns >= 1000000000u) {
            sweep(l, now_ns);
            l->swept_ns = now_ns;
        }
        if ((l->n + 1) * 2 > l->cap && (l->n >= LIMIT_MAX_KEYS || grow(l)))
            return &l->overflow;
    }
    size_t mask = l->cap - 1, i = h & mask;
    while (l->v[i].hash)
        i = (i + 1) & mask;
    e = &l->v[i];
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->klen = (uint8_t)k.n;
    memcpy(e->key, k.p, k.n);
    e->tokens = burst_of(&l->o);
    e->t_ns = now_ns;
    l->n++;
    return e;
}

uint64_t limit_take(limit_t *l, slice_t key, uint64_t now_ns)
{
    if (l->o.rate <= 0)
        return 0;
    entry_t *e = get(l, key, now_ns);
    refill(l, e, now_ns);
    if (e->tokens >= 1) {
        e->tokens -= 1;
        return 0;
    }
    double ms = ceil((1 - e->tokens) / l->o.rate * 1000);
    return ms < 1 ? 1 : (uint64_t)ms;
}

int limit_conn_open(limit_t *l, slice_t key, uint64_t now_ns)
{
    entry_t *e = get(l, key, now_ns);
    if (l->o.max_conns && e->conns >= l->o.max_conns)
        return -1;
    e->conns++;
    return 0;
}

void limit_conn_close(limit_t *l, slice_t key)
{
    if (key.n > LIMIT_KEY_MAX)
        key.n = LIMIT_KEY_MAX;
    entry_t *e = find(l, key, hash_of(key));
    if (!e)
        e = &l->overflow;
    if (e->conns)
        e->conns--;
}
