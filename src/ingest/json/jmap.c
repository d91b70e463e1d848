/* jmap.c - a record from a JSON object by a path table: see jmap.h.
 *
 * Two passes over the object: a walk picks, for each record part, the
 * value of the highest-ranked path that fits it, and saves each leaf (its
 * node, lookup and dotted path); the second goes through the saved leaves,
 * sets the picked ones and puts everything else into fields. */
#include "jmap.h"

#include "../../common/level.h"
#include "../../common/timeutil.h"

typedef struct best {
    size_t node[JM_COUNT]; /* 0: none */
    int rank[JM_COUNT];
    size_t bad_level; /* the first level value no name maps to */
    int level;        /* of node[JM_LEVEL], parsed once */
    int64_t ts;       /* of node[JM_TS] */
} best_t;

static const jmap_key_t *lookup(const jmap_t *m, const buf_t *path)
{
    const char *p = path->data;
    size_t n = path->len;
    if (!n)
        return NULL;
    for (size_t i = 0; i < m->nkeys; i++) {
        const char *k = m->keys[i].path;
        /* compared up to the first difference or k's end: no strlen */
        size_t j = 0;
        while (j < n && k[j] == p[j])
            j++;
        if (j == n && k[j] == '\0')
            return &m->keys[i];
    }
    return NULL;
}

/* Whether value i can be part p; sets the parsed level or time. */
static int fits(const jdom_t *d, size_t i, enum jmap_part p, int *level, int64_t *ts)
{
    int t = jdom_type(d, i);
    slice_t s = jdom_text(d, i);
    switch (p) {
    case JM_MSG:
    case JM_PID:
        return t == J_STR || t == J_NUM;
    case JM_APP:
    case JM_HOST:
    case JM_TOPIC:
        return t == J_STR && s.n > 0;
    case JM_LEVEL:
        if (t != J_STR && t != J_NUM)
            return 0;
        *level = level_parse(s.p, s.n);
        return *level >= 0;
    case JM_TS:
        if (t == J_STR)
            return time_parse_any(s.p, s.n, ts) == 0;
        if (t == J_NUM)
            return time_parse_epoch(s.p, s.n, ts) == 0;
        return 0;
    case JM_DROP:
        return 1;
    default:
        return 0;
    }
}

int jmap_set(const jdom_t *d, size_t i, enum jmap_part p, recbuild_t *rb)
{
    int level = -1;
    int64_t ts = 0;
    if (!fits(d, i, p, &level, &ts))
        return 0;
    slice_t s = jdom_text(d, i);
    switch (p) {
    case JM_MSG:
        recbuild_set(rb, RF_MSG, s.p, s.n);
        break;
    case JM_PID:
        recbuild_set(rb, RF_PID, s.p, s.n);
        break;
    case JM_APP:
        recbuild_set(rb, RF_APP, s.p, s.n);
        break;
    case JM_HOST:
        recbuild_set(rb, RF_HOST, s.p, s.n);
        break;
    case JM_TOPIC:
        recbuild_set(rb, RF_TOPIC, s.p, s.n);
        break;
    case JM_LEVEL:
        rb->level = level;
        rb->level_unknown = 0;
        break;
    case JM_TS:
        rb->ts = ts;
        rb->has_ts = 1;
        break;
    default:
        break;
    }
    return 1;
}

void jmap_field(const jdom_t *d, size_t i, const char *key, size_t kn, recbuild_t *rb,
                buf_t *scratch)
{
    recbuild_field_key(rb, key, kn);
    int t = jdom_type(d, i);
    if (t == J_STR) {
        slice_t s = jdom_text(d, i);
        recbuild_field_str(rb, s.p, s.n);
        return;
    }
    buf_reset(scratch);
    jdom_write(d, i, scratch);
    recbuild_field_raw(rb, scratch->data, scratch->len);
}

/* Calls fn for every leaf under object obj (arrays are leaves) with its
 * dotted path in path. */
typedef void (*leaf_fn)(void *arg, const jdom_t *d, size_t i, buf_t *path, int top);

static void walk(const jdom_t *d, size_t obj, buf_t *path, leaf_fn fn, void *arg)
{
    size_t base = path->len;
    for (size_t k = obj + 1; k < jdom_end(d, obj); k = jdom_end(d, k + 1)) {
        slice_t key = jdom_text(d, k);
        path->len = base;
        if (base)
            buf_putc(path, '.');
        buf_append(path, key.p, key.n);
        if (jdom_type(d, k + 1) == J_OBJ && jdom_end(d, k + 1) > k + 2)
            walk(d, k + 1, path, fn, arg);
        else
            fn(arg, d, k + 1, path, base == 0);
    }
    path->len = base;
}

typedef struct pass {
    const jmap_t *m;
    recbuild_t *rb;
    best_t best;
    buf_t *scratch;
    jmap_result_t *res;
    buf_t *keys;       /* the leaves, written by pick, replayed to emit */
    const buf_t *prev; /* the previous object's leaves (same table), or NULL */
    size_t poff;       /* pick's place in prev */
} pass_t;

/* One leaf as pick saw it, followed in keys by plen bytes of its path. */
typedef struct leaf {
    const jmap_key_t *k;
    size_t node, plen;
    int top;
} leaf_t;

/* The table's entry for path: the previous object's when its leaf at this
 * place had the same path, else looked up. */
static const jmap_key_t *lookup_cached(pass_t *ps, const buf_t *path)
{
    if (ps->prev && ps->poff + sizeof(leaf_t) <= ps->prev->len) {
        leaf_t p;
        memcpy(&p, ps->prev->data + ps->poff, sizeof p);
        const char *pp = ps->prev->data + ps->poff + sizeof p;
        ps->poff += sizeof p + p.plen;
        if (p.plen == path->len && memcmp(pp, path->data, p.plen) == 0)
            return p.k;
    }
    return lookup(ps->m, path);
}

static void pick(void *arg, const jdom_t *d, size_t i, buf_t *path, int top)
{
    pass_t *ps = arg;
    const jmap_key_t *k = lookup_cached(ps, path);
    leaf_t l = {k, i, path->len, top};
    buf_append(ps->keys, &l, sizeof l);
    buf_append(ps->keys, path->data, path->len);
    if (!k || k->part == JM_FIELD)
        return;
    int level;
    int64_t ts;
    if (k->rank > ps->best.rank[k->part] && fits(d, i, k->part, &level, &ts)) {
        ps->best.rank[k->part] = k->rank;
        ps->best.node[k->part] = i;
        if (k->part == JM_LEVEL)
            ps->best.level = level;
        else if (k->part == JM_TS)
            ps->best.ts = ts;
    } else if (k->part == JM_LEVEL && !ps->best.bad_level &&
               (jdom_type(d, i) == J_STR || jdom_type(d, i) == J_NUM) &&
               level_parse(jdom_text(d, i).p, jdom_text(d, i).n) < 0) {
        ps->best.bad_level = i;
    }
}

static void emit(pass_t *ps, const jdom_t *d, const leaf_t *l, const char *path)
{
    const jmap_key_t *k = l->k;
    size_t i = l->node;
    if (k && k->part != JM_FIELD && ps->best.node[k->part] == i) {
        /* parsed by pick already */
        if (k->part == JM_LEVEL) {
            ps->rb->level = ps->best.level;
            ps->rb->level_unknown = 0;
        } else if (k->part == JM_TS) {
            ps->rb->ts = ps->best.ts;
            ps->rb->has_ts = 1;
        } else {
            jmap_set(d, i, k->part, ps->rb);
        }
        ps->res->has[k->part] = 1;
        return;
    }
    if (k && k->part == JM_DROP)
        return;
    if (k && k->part == JM_LEVEL && i == ps->best.bad_level && !ps->best.node[JM_LEVEL]) {
        /* kept as it was sent; the record is stored at the default level */
        ps->rb->level_unknown = 1;
        jmap_field(d, i, "level_raw", 9, ps->rb, ps->scratch);
        return;
    }
    const char *key = path;
    size_t kn = l->plen;
    size_t sl = ps->m->strip ? strlen(ps->m->strip) : 0;
    if (l->top && sl && kn > sl && memcmp(key, ps->m->strip, sl) == 0) {
        key += sl;
        kn -= sl;
    }
    jmap_field(d, i, key, kn, ps->rb, ps->scratch);
}

void jmap_object(const jdom_t *d, size_t obj, const jmap_t *m, recbuild_t *rb, jmap_scratch_t *sc,
                 jmap_result_t *res)
{
    pass_t ps = {.m = m,
                 .rb = rb,
                 .res = res,
                 .scratch = &sc->value,
                 .keys = &sc->keys,
                 .prev = sc->prev_map == m ? &sc->prev : NULL};
    memset(res, 0, sizeof *res);
    if (jdom_type(d, obj) != J_OBJ)
        return;
    buf_reset(&sc->path);
    buf_reset(&sc->keys);
    walk(d, obj, &sc->path, pick, &ps);
    /* the second pass replays the leaves pick saved, paths and lookups
     * included, rather than walking the tree again */
    for (size_t off = 0; off < sc->keys.len;) {
        leaf_t l;
        memcpy(&l, sc->keys.data + off, sizeof l);
        off += sizeof l;
        emit(&ps, d, &l, sc->keys.data + off);
        off += l.plen;
    }
    /* these leaves are the next object's previous ones */
    buf_t t = sc->prev;
    sc->prev = sc->keys;
    sc->keys = t;
    sc->prev_map = m;
}
