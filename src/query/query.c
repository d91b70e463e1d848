/* query.c - chunked query execution over the store: see query.h. */
#include "query.h"

#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "../route/regex.h"
#include "hint.h"

void query_init(query_t *q)
{
    memset(q, 0, sizeof *q);
    filter_init(&q->f);
    q->limit = QUERY_LIMIT_DEFAULT;
}

void query_free(query_t *q)
{
    buf_free(&q->strings);
    buf_free(&q->hint);
    tsort_free(&q->ts);
    regex_destroy(q->re);
    q->re = NULL;
}

/* Stores a copy of v whose address stays valid: strings is sized once.
 * At most budget bytes of it are used (the parameters' or all). */
static slice_t keep_within(query_t *q, slice_t v, size_t budget)
{
    if (!q->strings.cap)
        buf_reserve(&q->strings, QUERY_STRINGS_MAX);
    if (q->strings.len > budget || budget - q->strings.len < v.n)
        return SLICE_NULL; /* over the budget: refuse rather than move */
    char *p = q->strings.data + q->strings.len;
    memcpy(p, v.p, v.n);
    q->strings.len += v.n;
    return slice_make(p, v.n);
}

static slice_t keep(query_t *q, slice_t v)
{
    return keep_within(q, v, QUERY_PARAM_STRINGS_MAX);
}

int query_param(query_t *q, slice_t key, slice_t v, const char **err)
{
    if (slice_eq(key, "limit")) {
        size_t n = 0;
        if (slice_eq(v, "all")) {
            q->limit = SIZE_MAX;
            return 0;
        }
        if (!v.n || v.n > 9)
            goto bad_limit;
        for (size_t i = 0; i < v.n; i++) {
            if (v.p[i] < '0' || v.p[i] > '9')
                goto bad_limit;
            n = n * 10 + (size_t)(v.p[i] - '0');
        }
        if (n < 1 || n > QUERY_LIMIT_MAX)
            goto bad_limit;
        q->limit = n;
        return 0;
    bad_limit:
        *err = "bad limit: expected 1..1000000 or all";
        return -1;
    }
    if (slice_eq(key, "order")) {
        if (slice_eq(v, "desc"))
            q->desc = 1;
        else if (slice_eq(v, "asc"))
            q->desc = 0;
        else {
            *err = "bad order: expected asc or desc";
            return -1;
        }
        return 0;
    }
    if (slice_eq(key, "re")) {
        if (q->re) {
            *err = "re given twice: use one pattern (alternatives with |)";
            return -1;
        }
        slice_t kept = keep(q, v);
        if (v.n && !kept.p) {
            *err = "query parameters too long";
            return -1;
        }
        /* the message outlives q: the caller may free q before replying */
        static _Thread_local char re_err[160];
        q->re = regex_create(v.p, v.n, re_err, sizeof re_err);
        if (!q->re) {
            *err = re_err;
            return -1;
        }
        filter_set_re(&q->f, q->re, kept);
        return 0;
    }
    if (slice_eq(key, "sort")) {
        if (slice_eq(v, "ts"))
            q->sort_ts = 1;
        else if (slice_eq(v, "seq"))
            q->sort_ts = 0;
        else {
            *err = "bad sort: expected ts (time order) or seq (arrival order)";
            return -1;
        }
        return 0;
    }
    if (slice_eq(key, "format")) {
        if (slice_eq(v, "json"))
            q->format = QUERY_JSON_ARRAY;
        else if (slice_eq(v, "ndjson"))
            q->format = QUERY_NDJSON;
        else if (slice_eq(v, "csv"))
            q->format = QUERY_CSV;
        else {
            *err = "bad format: expected json, ndjson or csv";
            return -1;
        }
        q->download = 1;
        return 0;
    }
    if (slice_eq(key, "ts_before") || slice_eq(key, "ts_after")) {
        int64_t ts;
        uint64_t seq;
        int after = key.p[3] == 'a';
        if (tsort_parse_pos(v.p, v.n, &ts, &seq)) {
            *err = after ? "bad ts_after: expected TS_NS,SEQ (two numbers)"
                         : "bad ts_before: expected TS_NS,SEQ (two numbers)";
            return -1;
        }
        if (after) {
            q->has_ts_after = 1;
            q->ts_after_ts = ts;
            q->ts_after_seq = seq;
            q->anchored = 1;
        } else {
            q->has_ts_before = 1;
            q->ts_before_ts = ts;
            q->ts_before_seq = seq;
        }
        return 0;
    }
    if (slice_eq(key, "topic") || slice_eq(key, "q") || slice_eq(key, "qi") ||
        slice_eq(key, "word") || slice_eq(key, "app") || slice_eq(key, "host") ||
        slice_eq(key, "not.topic") || slice_eq(key, "not.app") || slice_eq(key, "not.host") ||
        (key.n >= 6 && memcmp(key.p, "field.", 6) == 0) ||
        (key.n >= 10 && memcmp(key.p, "not.field.", 10) == 0)) {
        /* the filter keeps these texts (and a field's name, in its key) */
        slice_t kept = keep(q, v);
        if (v.n && !kept.p) {
            *err = "query parameters too long";
            return -1;
        }
        v = kept;
        if (key.p[0] == 'f' || (key.n >= 10 && key.p[4] == 'f')) {
            key = keep(q, key);
            if (!key.p) {
                *err = "query parameters too long";
                return -1;
            }
        }
    }
    if (slice_eq(key, "after") || slice_eq(key, "since"))
        q->anchored = 1;
    return filter_set(&q->f, key, v, err);
}

int query_check(const query_t *q, const char **err)
{
    if (q->sort_ts && q->limit > TSORT_LIMIT_MAX) {
        *err = "limit=all is for sort=seq: a time-ordered answer is at most 1000000 records";
        return -1;
    }
    if (!q->sort_ts && (q->has_ts_before || q->has_ts_after)) {
        *err = "ts_before and ts_after page a sort=ts answer: add sort=ts";
        return -1;
    }
    return 0;
}

int query_limit(query_t *q, const topic_set_t *s)
{
    topic_set_t own = *s;
    for (size_t i = 0; i < own.n; i++) {
        own.texts[i] = keep_within(q, s->texts[i], QUERY_STRINGS_MAX);
        if (!own.texts[i].p)
            return -1;
    }
    filter_limit(&q->f, &own);
    return 0;
}

typedef struct emit {
    query_t *q;
    buf_t *out;
    size_t chunk;
    uint64_t last_seq;
} emit_t;

static int emit_one(void *arg, const record_t *r)
{
    emit_t *e = arg;
    query_t *q = e->q;
    if (q->format == QUERY_CSV) {
        csv_record(e->out, r);
    } else {
        if (q->format == QUERY_JSON_ARRAY)
            buf_puts(e->out, q->emitted ? ",\n" : "\n");
        record_to_json(e->out, r);
        if (q->format == QUERY_NDJSON)
            buf_putc(e->out, '\n');
    }
    q->emitted++;
    e->last_seq = r->seq;
    return q->emitted >= q->limit || e->out->len >= e->chunk;
}

typedef struct locate {
    size_t left;
    uint64_t seq;
} locate_t;

static int locate_one(void *arg, const record_t *r)
{
    locate_t *l = arg;
    l->seq = r->seq;
    return --l->left == 0;
}

/* sort=ts: select and format on the first call, then write the selection
 * in order, a chunk at a time. */
static void run_sorted(query_t *q, store_t *s, buf_t *out, size_t chunk)
{
    if (!q->started) {
        q->started = 1;
        /* the same records seq order would pick: the newest, unless read
         * forward from since=, after= or ts_after= */
        tsort_init(&q->ts, q->limit, q->desc || !q->anchored);
        if (q->has_ts_after)
            tsort_bound(&q->ts, 1, q->ts_after_ts, q->ts_after_seq);
        if (q->has_ts_before)
            tsort_bound(&q->ts, 0, q->ts_before_ts, q->ts_before_seq);
        q->error =
            tsort_run(&q->ts, s, &q->f, q->format == QUERY_CSV ? csv_record : record_to_json);
        if (q->format == QUERY_JSON_ARRAY)
            buf_putc(out, '[');
        else if (q->format == QUERY_CSV)
            csv_header(out);
    }
    size_t goal = out->len + chunk;
    while (q->ts_next < q->ts.n && out->len < goal) {
        size_t i = q->desc ? q->ts.n - 1 - q->ts_next : q->ts_next;
        const tsort_item_t *it = &q->ts.items[i];
        if (q->format == QUERY_JSON_ARRAY)
            buf_puts(out, q->emitted ? ",\n" : "\n");
        buf_append(out, q->ts.text.data + it->off, it->len);
        if (q->format == QUERY_NDJSON)
            buf_putc(out, '\n');
        q->emitted++;
        q->ts_next++;
    }
    if (q->ts_next < q->ts.n)
        return;
    q->done = 1;
    tsort_free(&q->ts);
    if (!q->emitted && !q->error)
        hint_from_store(s, &q->f, &q->hint);
    if (q->format == QUERY_JSON_ARRAY)
        buf_puts(out, q->emitted ? "\n]\n" : "]\n");
}

void query_run(query_t *q, store_t *s, buf_t *out, size_t chunk)
{
    if (q->sort_ts) {
        run_sorted(q, s, out, chunk);
        return;
    }
    if (!q->started) {
        q->started = 1;
        q->backward = q->desc;
        if (!q->desc && !q->anchored) {
            /* newest `limit` oldest first: find the oldest of them */
            locate_t l = {q->limit, 0};
            q->error = store_scan_cancel(s, &q->f, 1, locate_one, &l, q->cancel);
            q->f.after = l.seq ? l.seq - 1 : 0;
            if (!l.seq)
                q->done = 1; /* nothing matches */
            /* f.before stays: the forward pass must stop where the
             * caller's before= bound is, when fewer than limit match */
        }
        if (q->format == QUERY_JSON_ARRAY)
            buf_putc(out, '[');
        else if (q->format == QUERY_CSV)
            csv_header(out);
    }
    size_t goal = out->len + chunk;
    while (!q->done && out->len < goal) {
        emit_t e = {q, out, goal, 0};
        size_t before = q->emitted;
        int rc = store_scan_cancel(s, &q->f, q->backward, emit_one, &e, q->cancel);
        if (rc)
            q->error = rc;
        if (rc || q->emitted >= q->limit || q->emitted == before ||
            (q->cancel && atomic_load(q->cancel))) {
            q->done = 1;
            break;
        }
        /* continue after the last record written */
        if (q->backward)
            q->f.before = e.last_seq;
        else
            q->f.after = e.last_seq;
    }
    if (q->done && !q->emitted && !q->error && !(q->cancel && atomic_load(q->cancel)))
        hint_from_store(s, &q->f, &q->hint); /* nothing found: a pattern missing ".#"? */
    if (q->done && q->format == QUERY_JSON_ARRAY)
        buf_puts(out, q->emitted ? "\n]\n" : "]\n");
}
