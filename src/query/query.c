/* query.c - chunked query execution over the store: see query.h. */
#include "query.h"

#include <stdlib.h>
#include <string.h>

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
        *err = "bad limit: expected 1..1000000";
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
    if (slice_eq(key, "topic") || slice_eq(key, "q") || slice_eq(key, "qi") ||
        slice_eq(key, "word") || slice_eq(key, "app") || slice_eq(key, "host") ||
        (key.n >= 6 && memcmp(key.p, "field.", 6) == 0)) {
        /* the filter keeps these texts (and a field's name, in its key) */
        slice_t kept = keep(q, v);
        if (v.n && !kept.p) {
            *err = "query parameters too long";
            return -1;
        }
        v = kept;
        if (key.p[0] == 'f') {
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
    if (q->format == QUERY_JSON_ARRAY)
        buf_puts(e->out, q->emitted ? ",\n" : "\n");
    record_to_json(e->out, r);
    if (q->format == QUERY_NDJSON)
        buf_putc(e->out, '\n');
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

void query_run(query_t *q, store_t *s, buf_t *out, size_t chunk)
{
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
