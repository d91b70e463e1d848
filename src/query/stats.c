/* stats.c - counts per time bucket and value for /api/stats: see stats.h. */
#define _GNU_SOURCE /* qsort_r */
#include "stats.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../common/json_write.h"
#include "../common/level.h"
#include "../common/timeutil.h"
#include "../store/bfilter.h"

#define NLEVELS  8
#define ID_OTHER UINT32_MAX /* a value past STATS_VALUES_MAX */

void stats_init(stats_t *s)
{
    memset(s, 0, sizeof *s);
    query_init(&s->q);
    s->top = STATS_TOP_DEFAULT;
}

void stats_free(stats_t *s)
{
    query_free(&s->q);
}

static int parse_top(slice_t v, size_t *out)
{
    size_t n = 0;
    if (!v.n || v.n > 4)
        return -1;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return -1;
        n = n * 10 + (size_t)(v.p[i] - '0');
    }
    if (n < 1 || n > STATS_TOP_MAX)
        return -1;
    *out = n;
    return 0;
}

int stats_param(stats_t *s, slice_t key, slice_t v, const char **err)
{
    if (slice_eq(key, "by")) {
        static const char *const names[] = {"level", "topic", "app", "host"};
        for (int i = 0; i < 4; i++) {
            if (slice_eq(v, names[i])) {
                s->by = (enum stats_by)i;
                s->by_given = 1;
                return 0;
            }
        }
        *err = "bad by: expected level, topic, app or host";
        return -1;
    }
    if (slice_eq(key, "interval")) {
        int64_t ns;
        if (time_parse_age(v.p, v.n, &ns) || ns < NS_PER_MS || ns % NS_PER_MS) {
            *err = "bad interval: expected a duration of whole milliseconds (10s, 1m, 1h, 1d)";
            return -1;
        }
        s->interval_ms = ns / NS_PER_MS;
        return 0;
    }
    if (slice_eq(key, "top")) {
        if (parse_top(v, &s->top)) {
            *err = "bad top: expected 1..1000";
            return -1;
        }
        return 0;
    }
    if (slice_eq(key, "limit") || slice_eq(key, "order") || slice_eq(key, "sort") ||
        slice_eq(key, "format") || slice_eq(key, "ts_before") || slice_eq(key, "ts_after"))
        return 1; /* /api/logs's, not ours */
    return query_param(&s->q, key, v, err);
}

/* ---- the counters ---------------------------------------------------------- */

typedef struct value {
    uint64_t hash;
    size_t off, len; /* its text in the arena */
    uint64_t total;
    uint32_t rank; /* after the scan: its place, or ID_OTHER */
} value_t;

typedef struct cell {
    int64_t bucket; /* floor(ts_ms / interval_ms); INT64_MIN: empty slot */
    uint32_t id;
    uint64_t count;
} cell_t;

typedef struct counter {
    const stats_t *s;
    const atomic_int *cancel;
    int64_t interval_ms;
    uint64_t total;
    int64_t min_ts; /* of the records counted */
    /* the values of `by` (not for levels: those are fixed) */
    value_t *values;
    size_t nvalues;
    uint32_t *vslots; /* open addressing: index + 1, 0 empty */
    size_t vcap;      /* a power of two */
    buf_t arena;
    int capped;           /* a value was not told apart */
    uint64_t from_blocks; /* records counted from block filters */
    uint64_t level_total[NLEVELS];
    /* (bucket, value) -> count */
    cell_t *cells;
    size_t ncells, ccap; /* ccap a power of two */
} counter_t;

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static void cells_grow(counter_t *c)
{
    size_t ncap = c->ccap ? c->ccap * 2 : 1024;
    cell_t *n = xmalloc(ncap * sizeof *n);
    for (size_t i = 0; i < ncap; i++)
        n[i].bucket = INT64_MIN;
    for (size_t i = 0; i < c->ccap; i++) {
        const cell_t *o = &c->cells[i];
        if (o->bucket == INT64_MIN)
            continue;
        size_t h = mix((uint64_t)o->bucket * 31 + o->id) & (ncap - 1);
        while (n[h].bucket != INT64_MIN)
            h = (h + 1) & (ncap - 1);
        n[h] = *o;
    }
    free(c->cells);
    c->cells = n;
    c->ccap = ncap;
}

static void cell_add_n(counter_t *c, int64_t bucket, uint32_t id, uint64_t n)
{
    if ((c->ncells + 1) * 2 > c->ccap)
        cells_grow(c);
    size_t h = mix((uint64_t)bucket * 31 + id) & (c->ccap - 1);
    for (;;) {
        cell_t *e = &c->cells[h];
        if (e->bucket == INT64_MIN) {
            *e = (cell_t){bucket, id, n};
            c->ncells++;
            return;
        }
        if (e->bucket == bucket && e->id == id) {
            e->count += n;
            return;
        }
        h = (h + 1) & (c->ccap - 1);
    }
}

static void values_grow(counter_t *c)
{
    size_t ncap = c->vcap ? c->vcap * 2 : 256;
    uint32_t *n = xcalloc(ncap, sizeof *n);
    for (size_t i = 0; i < c->nvalues; i++) {
        size_t h = c->values[i].hash & (ncap - 1);
        while (n[h])
            h = (h + 1) & (ncap - 1);
        n[h] = (uint32_t)i + 1;
    }
    free(c->vslots);
    c->vslots = n;
    c->vcap = ncap;
    c->values = xrealloc(c->values, ncap / 2 * sizeof *c->values);
}

static uint32_t value_id(counter_t *c, slice_t v)
{
    uint64_t hash = XXH3_64bits(v.p, v.n);
    if (c->vcap) {
        size_t h = hash & (c->vcap - 1);
        while (c->vslots[h]) {
            value_t *e = &c->values[c->vslots[h] - 1];
            if (e->hash == hash && e->len == v.n && !memcmp(c->arena.data + e->off, v.p, v.n))
                return c->vslots[h] - 1;
            h = (h + 1) & (c->vcap - 1);
        }
    }
    if (c->nvalues >= STATS_VALUES_MAX) {
        c->capped = 1;
        return ID_OTHER;
    }
    if ((c->nvalues + 1) * 2 > c->vcap)
        values_grow(c);
    size_t h = hash & (c->vcap - 1);
    while (c->vslots[h])
        h = (h + 1) & (c->vcap - 1);
    uint32_t id = (uint32_t)c->nvalues++;
    c->vslots[h] = id + 1;
    c->values[id] = (value_t){hash, c->arena.len, v.n, 0, 0};
    buf_append(&c->arena, v.p, v.n);
    return id;
}

static void cell_add(counter_t *c, int64_t bucket, uint32_t id)
{
    cell_add_n(c, bucket, id, 1);
}

static int on_record(void *arg, const record_t *r)
{
    counter_t *c = arg;
    if (c->cancel && atomic_load_explicit(c->cancel, memory_order_relaxed))
        return 1;
    uint32_t id;
    switch (c->s->by) {
    case STATS_BY_LEVEL:
        id = (uint32_t)(r->level & 7);
        c->level_total[id]++;
        break;
    case STATS_BY_TOPIC:
        id = value_id(c, r->topic);
        break;
    case STATS_BY_APP:
        id = value_id(c, r->app);
        break;
    default:
        id = value_id(c, r->host);
        break;
    }
    if (id != ID_OTHER && c->s->by != STATS_BY_LEVEL)
        c->values[id].total++;
    cell_add(c, floor_div(floor_div(r->ts, NS_PER_MS), c->interval_ms), id);
    if (!c->total || r->ts < c->min_ts)
        c->min_ts = r->ts;
    c->total++;
    return 0;
}

static int on_oldest(void *arg, const record_t *r)
{
    counter_t *c = arg;
    if (c->cancel && atomic_load_explicit(c->cancel, memory_order_relaxed))
        return 1;
    if (!c->total || r->ts < c->min_ts)
        c->min_ts = r->ts;
    c->total++;
    return 0;
}

/* ---- counts from block filters ------------------------------------------------

 * A compressed block's filter counts its records by level and by topic,
 * app and host (bfilter.h). When the filter asks for nothing those counts
 * cannot answer (only times and, for by=level, a level), and the block's
 * records all fall in one bucket inside the range, the block is counted
 * from them and not read. */

static int metadata_ok(const stats_t *s)
{
    const filter_t *f = &s->q.f;
    if (f->ntopics || f->napps || f->nhosts || f->nfields || f->q.n || f->qi.n || f->nwords ||
        f->re || f->limited || f->after || f->before)
        return 0;
    return s->by == STATS_BY_LEVEL || f->min_level >= 7;
}

static int on_block(void *arg, const struct bfilter *bf, int64_t min_ts, int64_t max_ts)
{
    counter_t *c = arg;
    const filter_t *f = &c->s->q.f;
    if (!bf->counted || min_ts < f->since || max_ts > f->until)
        return 0;
    int64_t b = floor_div(floor_div(min_ts, NS_PER_MS), c->interval_ms);
    if (b != floor_div(floor_div(max_ts, NS_PER_MS), c->interval_ms))
        return 0;
    int set = c->s->by == STATS_BY_TOPIC ? 0 : c->s->by == STATS_BY_APP ? 1 : 2;
    if (c->s->by != STATS_BY_LEVEL && bf->nvals[set] == BF_UNKNOWN)
        return 0;
    uint64_t n = 0;
    if (c->s->by == STATS_BY_LEVEL) {
        /* a level outside the filter's: its records' times are mixed in
         * min_ts, so the block is read */
        if (bf->levels & ~((2u << (f->min_level < 7 ? f->min_level : 7)) - 1))
            return 0;
        for (int l = 0; l <= f->min_level && l < NLEVELS; l++) {
            if (!bf->level_counts[l])
                continue;
            cell_add_n(c, b, (uint32_t)l, bf->level_counts[l]);
            c->level_total[l] += bf->level_counts[l];
            n += bf->level_counts[l];
        }
    } else {
        for (size_t i = 0; i < bf->nvals[set]; i++) {
            slice_t v;
            uint32_t k = bfilter_value_count(bf, set, i, &v);
            uint32_t id = value_id(c, v);
            if (id != ID_OTHER)
                c->values[id].total += k;
            cell_add_n(c, b, id, k);
            n += k;
        }
    }
    if (n) {
        /* min_ts is a record's: exact when every record counted */
        if (!c->total || min_ts < c->min_ts)
            c->min_ts = min_ts;
        c->total += n;
    }
    c->from_blocks += n;
    return 1;
}

static int on_block_oldest(void *arg, const struct bfilter *bf, int64_t min_ts, int64_t max_ts)
{
    counter_t *c = arg;
    const filter_t *f = &c->s->q.f;
    /* every record of the block passes: its min_ts is the oldest of them */
    if (f->min_level < 7 || min_ts < f->since || max_ts > f->until)
        return 0;
    (void)bf;
    if (!c->total || min_ts < c->min_ts)
        c->min_ts = min_ts;
    c->total++;
    return 1;
}

static void counter_free(counter_t *c)
{
    free(c->values);
    free(c->vslots);
    free(c->cells);
    buf_free(&c->arena);
}

/* ---- the answer -------------------------------------------------------------- */

static const int64_t nice_ms[] = {
    1000LL,      2000LL,      5000LL,       10000LL,      15000LL,      30000LL,
    60000LL,     120000LL,    300000LL,     600000LL,     900000LL,     1800000LL,
    3600000LL,   7200000LL,   10800000LL,   21600000LL,   43200000LL,   86400000LL,
    172800000LL, 604800000LL, 1209600000LL, 2592000000LL, 7776000000LL, 31536000000LL,
};

static int64_t auto_interval(int64_t lo_ms, int64_t hi_ms)
{
    size_t n = sizeof nice_ms / sizeof nice_ms[0];
    for (size_t i = 0; i < n; i++)
        if (floor_div(hi_ms, nice_ms[i]) - floor_div(lo_ms, nice_ms[i]) + 1 <= STATS_AUTO_BUCKETS)
            return nice_ms[i];
    return nice_ms[n - 1];
}

/* the name of value id (not ID_OTHER) */
static slice_t name_of(const counter_t *c, uint32_t id)
{
    if (c->s->by == STATS_BY_LEVEL)
        return slice_cstr(level_name((int)id));
    const value_t *v = &c->values[id];
    return slice_make(c->arena.data + v->off, v->len);
}

static uint64_t total_of(const counter_t *c, uint32_t id)
{
    return c->s->by == STATS_BY_LEVEL ? c->level_total[id] : c->values[id].total;
}

static int cmp_slices(slice_t a, slice_t b)
{
    int r = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);
    return r ? r : (a.n > b.n) - (a.n < b.n);
}

static int by_total(const void *pa, const void *pb, void *arg)
{
    const counter_t *c = arg;
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    uint64_t ta = total_of(c, a), tb = total_of(c, b);
    if (ta != tb)
        return ta > tb ? -1 : 1;
    return cmp_slices(name_of(c, a), name_of(c, b));
}

static int by_bucket_rank(const void *pa, const void *pb)
{
    const cell_t *a = pa, *b = pb;
    if (a->bucket != b->bucket)
        return a->bucket < b->bucket ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

static void put_count(buf_t *out, int *first, slice_t name, uint64_t n)
{
    if (!*first)
        buf_putc(out, ',');
    *first = 0;
    json_slice(out, name);
    buf_putc(out, ':');
    buf_append_u64(out, n);
}

static void write_answer(counter_t *c, int64_t since_ms, int64_t until_ms, buf_t *out)
{
    static const char *const by_names[] = {"level", "topic", "app", "host"};
    const stats_t *s = c->s;
    /* rank the values: the top ones by total, the rest ID_OTHER */
    size_t nv = s->by == STATS_BY_LEVEL ? NLEVELS : c->nvalues;
    uint32_t *order = xmalloc((nv ? nv : 1) * sizeof *order);
    uint32_t *rank = xmalloc((nv ? nv : 1) * sizeof *rank);
    size_t present = 0;
    for (uint32_t i = 0; i < nv; i++)
        if (total_of(c, i))
            order[present++] = i;
    if (present)
        qsort_r(order, present, sizeof *order, by_total, c);
    size_t named = present < s->top ? present : s->top;
    for (size_t i = 0; i < nv; i++)
        rank[i] = ID_OTHER;
    for (size_t i = 0; i < named; i++)
        rank[order[i]] = (uint32_t)i;

    uint64_t other = c->total;
    buf_puts(out, "{\"by\":\"");
    buf_puts(out, by_names[s->by]);
    buf_puts(out, "\",\"interval_ms\":");
    buf_append_i64(out, c->interval_ms);
    buf_puts(out, ",\"since_ms\":");
    buf_append_i64(out, since_ms);
    buf_puts(out, ",\"until_ms\":");
    buf_append_i64(out, until_ms);
    buf_puts(out, ",\"total\":");
    buf_append_u64(out, c->total);
    if (c->capped)
        buf_puts(out, ",\"values_capped\":true");
    buf_puts(out, ",\"from_blocks\":");
    buf_append_u64(out, c->from_blocks);
    buf_puts(out, ",\"totals\":{");
    int first = 1;
    for (size_t i = 0; i < named; i++) {
        uint64_t t = total_of(c, order[i]);
        put_count(out, &first, name_of(c, order[i]), t);
        other -= t;
    }
    if (other)
        put_count(out, &first, SLICE_LIT("_other"), other);
    buf_puts(out, "},\"buckets\":[");

    /* the cells, by bucket then by rank (the others last, merged) */
    size_t k = 0;
    for (size_t i = 0; i < c->ccap; i++)
        if (c->cells[i].bucket != INT64_MIN) {
            cell_t e = c->cells[i];
            e.id = e.id == ID_OTHER ? ID_OTHER : rank[e.id];
            c->cells[k++] = e;
        }
    if (k)
        qsort(c->cells, k, sizeof *c->cells, by_bucket_rank);
    for (size_t i = 0; i < k;) {
        int64_t b = c->cells[i].bucket;
        size_t j = i;
        uint64_t sum = 0;
        while (j < k && c->cells[j].bucket == b)
            sum += c->cells[j++].count;
        buf_puts(out, i ? ",{\"t\":" : "{\"t\":");
        buf_append_i64(out, b * c->interval_ms);
        buf_puts(out, ",\"total\":");
        buf_append_u64(out, sum);
        buf_puts(out, ",\"counts\":{");
        first = 1;
        uint64_t rest = 0;
        for (; i < j; i++) {
            if (c->cells[i].id == ID_OTHER)
                rest += c->cells[i].count;
            else
                put_count(out, &first, name_of(c, order[c->cells[i].id]), c->cells[i].count);
        }
        if (rest)
            put_count(out, &first, SLICE_LIT("_other"), rest);
        buf_puts(out, "}}");
    }
    buf_puts(out, "]}\n");
    free(order);
    free(rank);
}

int stats_run(stats_t *s, store_t *st, int64_t now_ns, const atomic_int *cancel, buf_t *out,
              char *err, size_t cap)
{
    filter_t *f = &s->q.f;
    int has_since = f->since != INT64_MIN, has_until = f->until != INT64_MAX;
    if (!has_until)
        f->until = now_ns;
    int64_t until_ms = floor_div(f->until, NS_PER_MS);
    counter_t c = {.s = s, .cancel = cancel};
    int rc = 0;

    if (has_since && f->since > f->until) {
        snprintf(err, cap, "bad range: since is after until");
        return STATS_EBAD;
    }
    int64_t since_ms = has_since ? floor_div(f->since, NS_PER_MS) : until_ms;
    c.interval_ms = s->interval_ms;
    if (!has_since && !c.interval_ms) {
        /* the interval fits the matching records' range: find its start */
        rc = store_scan_blocks(st, f, on_oldest, &c, metadata_ok(s) ? on_block_oldest : NULL, &c,
                               cancel);
        if (rc)
            return STATS_ESTORE;
        if (cancel && atomic_load(cancel))
            return STATS_ECANCELLED;
        if (c.total)
            since_ms = floor_div(c.min_ts, NS_PER_MS);
        c.total = 0;
    }
    if (!c.interval_ms)
        c.interval_ms = auto_interval(since_ms, until_ms);
    else if (has_since &&
             floor_div(until_ms, c.interval_ms) - floor_div(since_ms, c.interval_ms) + 1 >
                 STATS_BUCKETS_MAX) {
        snprintf(err, cap, "too many buckets: at most %d (use a longer interval)",
                 STATS_BUCKETS_MAX);
        return STATS_EBAD;
    }
    rc = store_scan_blocks(st, f, on_record, &c, metadata_ok(s) ? on_block : NULL, &c, cancel);
    if (rc) {
        counter_free(&c);
        return STATS_ESTORE;
    }
    if (cancel && atomic_load(cancel)) {
        counter_free(&c);
        return STATS_ECANCELLED;
    }
    if (!has_since && c.total)
        since_ms = floor_div(c.min_ts, NS_PER_MS);
    if (floor_div(until_ms, c.interval_ms) - floor_div(since_ms, c.interval_ms) + 1 >
        STATS_BUCKETS_MAX) {
        counter_free(&c);
        snprintf(err, cap, "too many buckets: at most %d (use a longer interval)",
                 STATS_BUCKETS_MAX);
        return STATS_EBAD;
    }
    write_answer(&c, since_ms, until_ms, out);
    counter_free(&c);
    return 0;
}
