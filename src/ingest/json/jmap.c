/* jmap.c - a record from a JSON object by a path table: see jmap.h.
 *
 * Two walks over the object: the first picks, for each record part, the
 * value of the highest-ranked path that fits it; the second sets those and
 * puts everything else into fields. */
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
    if (!path->len)
        return NULL;
    for (size_t i = 0; i < m->nkeys; i++) {
        const char *k = m->keys[i].path;
        if (k[0] != path->data[0])
            continue; /* most keys differ at once: no strlen for them */
        size_t kn = strlen(k);
        if (kn == path->len && memcmp(k, path->data, kn) == 0)
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
    buf_t *keys; /* lookup results by leaf, written by pick, read by emit */
    size_t leaf; /* emit's position in keys */
} pass_t;

static void pick(void *arg, const jdom_t *d, size_t i, buf_t *path, int top)
{
    pass_t *ps = arg;
    (void)top;
    const jmap_key_t *k = lookup(ps->m, path);
    buf_append(ps->keys, &k, sizeof k);
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

static void emit(void *arg, const jdom_t *d, size_t i, buf_t *path, int top)
{
    pass_t *ps = arg;
    const jmap_key_t *k;
    memcpy(&k, ps->keys->data + ps->leaf * sizeof k, sizeof k);
    ps->leaf++;
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
    const char *key = path->data;
    size_t kn = path->len;
    size_t sl = ps->m->strip ? strlen(ps->m->strip) : 0;
    if (top && sl && kn > sl && memcmp(key, ps->m->strip, sl) == 0) {
        key += sl;
        kn -= sl;
    }
    jmap_field(d, i, key, kn, ps->rb, ps->scratch);
}

void jmap_object(const jdom_t *d, size_t obj, const jmap_t *m, recbuild_t *rb, jmap_scratch_t *sc,
                 jmap_result_t *res)
{
    pass_t ps = {.m = m, .rb = rb, .res = res, .scratch = &sc->value, .keys = &sc->keys};
    memset(res, 0, sizeof *res);
    if (jdom_type(d, obj) != J_OBJ)
        return;
    buf_reset(&sc->path);
    buf_reset(&sc->keys);
    walk(d, obj, &sc->path, pick, &ps);
    walk(d, obj, &sc->path, emit, &ps);
}
