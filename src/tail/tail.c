/* tail.c - live tail subscribers as cursors over the store: see tail.h. */
#include "tail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../common/json_write.h"
#include "../common/level.h"
#include "../query/hint.h"
#include "../route/topic.h"

#define CACHE_SLOTS 64

enum job_kind { JOB_BACKLOG, JOB_DISK };

typedef struct job {
    uv_work_t work;
    tail_t *t;
    tail_sub_t *sub;   /* who started it */
    tail_sub_t **more; /* JOB_DISK: subscribers at the same place, same filter */
    size_t nmore, capmore;
    struct job *link; /* the hub's running disk scans */
    uint64_t fid, from;
    enum job_kind kind;
    filter_t f;       /* the sub's filter with the scan's bounds */
    size_t limit;     /* JOB_BACKLOG: n */
    uint64_t visible; /* newest seq the scan may return */
    store_t *store;
    enum tail_framing framing;
    buf_t out;     /* the message, framed */
    uint64_t next; /* the cursor after it */
    size_t records;
    int hinted; /* JOB_BACKLOG found nothing: out is a hint message */
    int error;
} job_t;

struct tail_sub {
    tail_t *t;
    tail_sub_t *prev, *next;
    void *conn;
    tail_wake_fn wake;
    enum tail_framing framing;
    filter_t f;
    buf_t strings; /* the filter's strings (filter_own) */
    buf_t key;     /* filter_key(f): equal keys share messages */
    uint64_t fid;
    uint64_t cursor; /* next seq wanted */
    size_t backlog;
    int started;  /* backlog sent (or not wanted) */
    int on_disk;  /* reading from segments, not the window */
    int say_live; /* a "source":"live" status is due */
    uint64_t gap_from, gap_to;
    job_t *job; /* a scan running for it */
    buf_t msg;  /* its own message, when not a shared one */
    int ready;  /* msg holds a finished scan's message */
    int wake_pending;
    int dead; /* unsubscribed while a scan ran */
};

typedef struct cache_entry {
    uint64_t fid, from, to, gen;
    int framing;
    buf_t key;
    buf_t msg;
    size_t records;
} cache_entry_t;

struct tail {
    uv_loop_t *loop;
    store_t *store;
    size_t max, count;
    job_t *disk_jobs; /* running disk scans that others may join */
    size_t njobs;
    int destroyed; /* freed when the last scan ends */
    tail_sub_t head;
    uint64_t gen; /* bumps at every commit: cached messages go stale */
    cache_entry_t cache[CACHE_SLOTS];
    tail_stats_t st;
};

/* ---- message framing ---------------------------------------------------- */

static void msg_begin(buf_t *b, enum tail_framing fr, const char *event)
{
    buf_reset(b);
    buf_reserve(b, TAIL_HEADROOM + 256);
    b->len = TAIL_HEADROOM;
    if (fr == TAIL_SSE) {
        buf_puts(b, "event: ");
        buf_puts(b, event);
        buf_puts(b, "\ndata: ");
    }
}

static void msg_end(buf_t *b, enum tail_framing fr, uint64_t last_seq)
{
    if (fr == TAIL_SSE) {
        buf_putc(b, '\n');
        if (last_seq) {
            buf_puts(b, "id: ");
            buf_append_u64(b, last_seq);
            buf_putc(b, '\n');
        }
        buf_putc(b, '\n');
    }
}

static void msg_status(buf_t *b, enum tail_framing fr, uint64_t lag, const char *source)
{
    msg_begin(b, fr, "status");
    buf_puts(b, "{\"type\":\"status\",\"lag\":");
    buf_append_u64(b, lag);
    buf_puts(b, ",\"source\":\"");
    buf_puts(b, source);
    buf_puts(b, "\"}");
    msg_end(b, fr, 0);
}

static void msg_gap(buf_t *b, enum tail_framing fr, uint64_t from, uint64_t to)
{
    msg_begin(b, fr, "gap");
    buf_puts(b, "{\"type\":\"gap\",\"from\":");
    buf_append_u64(b, from);
    buf_puts(b, ",\"to\":");
    buf_append_u64(b, to);
    buf_putc(b, '}');
    /* the id moves past the gap so an SSE reconnect does not ask again */
    msg_end(b, fr, to);
}

static void msg_hint(buf_t *b, enum tail_framing fr, const buf_t *text)
{
    msg_begin(b, fr, "hint");
    buf_puts(b, "{\"type\":\"hint\",\"hint\":");
    json_str(b, text->data, text->len);
    buf_putc(b, '}');
    msg_end(b, fr, 0);
}

/* ---- parameters ----------------------------------------------------------- */

void tail_params_init(tail_params_t *p)
{
    memset(p, 0, sizeof *p);
    filter_init(&p->f);
    p->n = TAIL_BACKLOG;
}

int tail_param(tail_params_t *p, slice_t key, slice_t v, const char **err)
{
    if (slice_eq(key, "n")) {
        size_t n = 0;
        if (!v.n || v.n > 7)
            goto bad_n;
        for (size_t i = 0; i < v.n; i++) {
            if (v.p[i] < '0' || v.p[i] > '9')
                goto bad_n;
            n = n * 10 + (size_t)(v.p[i] - '0');
        }
        if (n > 100000)
            goto bad_n;
        p->n = n;
        return 0;
    bad_n:
        *err = "bad n: expected 0..100000";
        return -1;
    }
    if (slice_eq(key, "since") || slice_eq(key, "until") || slice_eq(key, "before")) {
        *err = "since, until and before are for /api/logs; a tail starts now or after a seq";
        return -1;
    }
    if (slice_eq(key, "after"))
        p->has_after = 1;
    int rc = filter_set(&p->f, key, v, err);
    if (rc > 0) {
        snprintf(p->err, sizeof p->err,
                 "unknown parameter '%.*s' (use topic, app, host, field.NAME, level, q, qi, n, "
                 "after)",
                 (int)(key.n > 32 ? 32 : key.n), key.p);
        *err = p->err;
        return -1;
    }
    return rc;
}

/* ---- the hub -------------------------------------------------------------- */

static void on_commit(void *arg, uint64_t first, uint64_t last);

tail_t *tail_create(uv_loop_t *loop, store_t *store, size_t max_subscribers)
{
    tail_t *t = xcalloc(1, sizeof *t);
    t->loop = loop;
    t->store = store;
    t->max = max_subscribers;
    t->head.next = t->head.prev = &t->head;
    store_on_commit(store, on_commit, t);
    return t;
}

static void sub_free(tail_sub_t *s)
{
    buf_free(&s->strings);
    buf_free(&s->key);
    buf_free(&s->msg);
    free(s);
}

void tail_destroy(tail_t *t)
{
    if (!t)
        return;
    store_off_commit(t->store, on_commit, t);
    while (t->head.next != &t->head)
        tail_unsubscribe(t->head.next);
    for (int i = 0; i < CACHE_SLOTS; i++) {
        buf_free(&t->cache[i].key);
        buf_free(&t->cache[i].msg);
    }
    /* subscribers with a scan in flight are freed when it ends, and so is
     * the hub after the last one */
    if (t->njobs)
        t->destroyed = 1;
    else
        free(t);
}

size_t tail_count(const tail_t *t)
{
    return t->count;
}

void tail_get_stats(const tail_t *t, tail_stats_t *st)
{
    *st = t->st;
    st->subscribers = t->count;
}

static void wake(tail_sub_t *s)
{
    if (!s->wake_pending && !s->dead) {
        s->wake_pending = 1;
        s->wake(s->conn);
    }
}

static void on_commit(void *arg, uint64_t first, uint64_t last)
{
    tail_t *t = arg;
    (void)last;
    if (!first)
        return;
    t->gen++;
    /* a subscriber catching up from disk is woken too: its next message
     * may be the one that brings it back to the window */
    for (tail_sub_t *s = t->head.next; s != &t->head; s = s->next)
        if (s->started && !s->job)
            wake(s);
}

tail_sub_t *tail_subscribe(tail_t *t, const tail_params_t *p, enum tail_framing framing, void *conn,
                           tail_wake_fn wakefn, const char **err)
{
    if (t->count >= t->max) {
        *err = "too many subscribers (--max-subscribers)";
        return NULL;
    }
    tail_sub_t *s = xcalloc(1, sizeof *s);
    s->t = t;
    s->conn = conn;
    s->wake = wakefn;
    s->framing = framing;
    s->f = p->f;
    filter_own(&s->f, &s->strings); /* sized once: the slices never move */
    s->f.after = s->f.before = 0;
    s->f.since = INT64_MIN;
    s->f.until = INT64_MAX;
    filter_key(&s->f, &s->key);
    s->fid = XXH3_64bits(s->key.data, s->key.len);
    uint64_t visible = store_last_seq(t->store);
    if (p->has_after) {
        s->cursor = p->f.after + 1;
        s->started = 1;
    } else {
        s->cursor = visible + 1;
        s->backlog = p->n;
        s->started = p->n == 0;
    }
    s->next = &t->head;
    s->prev = t->head.prev;
    t->head.prev->next = s;
    t->head.prev = s;
    t->count++;
    wake(s);
    return s;
}

void tail_unsubscribe(tail_sub_t *s)
{
    tail_t *t = s->t;
    s->prev->next = s->next;
    s->next->prev = s->prev;
    t->count--;
    if (s->job) {
        /* its scan reads the filter strings s owns: free s when it ends */
        s->dead = 1;
        return;
    }
    sub_free(s);
}

/* ---- scans on the thread pool ---------------------------------------------- */

typedef struct acc {
    job_t *j;
    buf_t *out;
    size_t n;      /* JOB_BACKLOG: matches counted, newest first */
    uint64_t last; /* JOB_BACKLOG: the oldest of them; JOB_DISK: the last sent */
} acc_t;

static int take(void *arg, const record_t *r)
{
    acc_t *a = arg;
    job_t *j = a->j;
    if (j->kind == JOB_BACKLOG) {
        a->last = r->seq; /* counting only: the records go out as a catch-up */
        return ++a->n >= j->limit;
    }
    if (j->records)
        buf_putc(a->out, ',');
    record_to_json(a->out, r);
    j->records++;
    a->last = r->seq;
    return a->out->len >= TAIL_MSG_MAX;
}

static void work(uv_work_t *w)
{
    job_t *j = container_of(w, job_t, work);
    acc_t a = {.j = j};
    if (j->kind == JOB_DISK) {
        msg_begin(&j->out, j->framing, "records");
        buf_putc(&j->out, '[');
        a.out = &j->out;
        j->error = store_scan(j->store, &j->f, 0, take, &a);
        /* stopped by size: go on after the last one sent; otherwise
         * everything up to the visible end was looked at */
        j->next = j->out.len >= TAIL_MSG_MAX && a.last ? a.last + 1 : j->visible + 1;
        buf_putc(&j->out, ']');
        msg_end(&j->out, j->framing, a.last);
        return;
    }
    /* backlog: where the n newest matches start, found newest first without
     * rendering them; they are then sent from there like any catch-up, in
     * messages of TAIL_MSG_MAX (a backlog of 100,000 large records must not
     * become one message) */
    j->error = store_scan(j->store, &j->f, 1, take, &a);
    j->records = 0;
    j->next = a.n ? a.last : j->visible + 1;
    if (!a.n && !j->error) {
        /* nothing to show: say so if a pattern probably lacks ".#" */
        buf_t text = BUF_INIT;
        if (hint_from_store(j->store, &j->f, &text)) {
            msg_hint(&j->out, j->framing, &text);
            j->hinted = 1;
        }
        buf_free(&text);
    }
}

/* Hands a finished scan to one subscriber; owner takes the buffer, the
 * others get a copy. */
static void deliver(job_t *j, tail_sub_t *s, int status, int owner)
{
    s->job = NULL;
    if (s->dead) {
        sub_free(s); /* it left meanwhile */
        return;
    }
    if (status || j->error) {
        wake(s); /* a failed read: try again, from the same cursor */
        return;
    }
    if (j->kind == JOB_BACKLOG) {
        s->started = 1;
        s->cursor = j->next; /* where its backlog starts */
    } else if (j->next > s->cursor) {
        s->cursor = j->next; /* invariant 2 */
    }
    if (j->records || j->hinted) {
        buf_reset(&s->msg);
        if (owner) {
            buf_free(&s->msg);
            s->msg = j->out; /* hand the buffer over */
            memset(&j->out, 0, sizeof j->out);
        } else {
            buf_append(&s->msg, j->out.data, j->out.len);
        }
        s->ready = 1;
        s->t->st.records += j->records;
    }
    wake(s);
}

static void after_work(uv_work_t *w, int status)
{
    job_t *j = container_of(w, job_t, work);
    tail_t *t = j->t;
    for (job_t **p = &t->disk_jobs; *p; p = &(*p)->link) {
        if (*p == j) {
            *p = j->link;
            break;
        }
    }
    t->njobs--;
    if (!t->destroyed)
        t->st.disk_scans++;
    for (size_t i = 0; i < j->nmore; i++)
        deliver(j, j->more[i], status, 0);
    deliver(j, j->sub, status, 1);
    buf_free(&j->out);
    free(j->more);
    free(j);
    if (t->destroyed && !t->njobs)
        free(t);
}

/* A running disk scan that s can share: same filter, same place, same
 * framing. */
static job_t *joinable(tail_t *t, const tail_sub_t *s)
{
    for (job_t *j = t->disk_jobs; j; j = j->link) {
        const tail_sub_t *o = j->sub;
        if (j->fid == s->fid && j->from == s->cursor && j->framing == s->framing &&
            o->key.len == s->key.len && memcmp(o->key.data, s->key.data, s->key.len) == 0)
            return j;
    }
    return NULL;
}

static void start_job(tail_sub_t *s, enum job_kind kind, uint64_t visible)
{
    tail_t *t = s->t;
    job_t *j = kind == JOB_DISK ? joinable(t, s) : NULL;
    if (j) {
        /* a thousand subscribers behind at the same place read once */
        if (j->nmore == j->capmore) {
            j->capmore = j->capmore ? j->capmore * 2 : 8;
            j->more = xrealloc(j->more, j->capmore * sizeof *j->more);
        }
        j->more[j->nmore++] = s;
        s->job = j;
        t->st.shared_hits++;
        return;
    }
    j = xcalloc(1, sizeof *j);
    j->t = t;
    j->sub = s;
    j->kind = kind;
    j->fid = s->fid;
    j->from = s->cursor;
    j->store = t->store;
    j->framing = s->framing;
    j->visible = visible;
    j->f = s->f;
    j->f.before = visible + 1;
    if (kind == JOB_BACKLOG) {
        j->limit = s->backlog;
    } else {
        j->f.after = s->cursor ? s->cursor - 1 : 0;
        j->link = t->disk_jobs;
        t->disk_jobs = j;
    }
    t->njobs++;
    s->job = j;
    uv_queue_work(t->loop, &j->work, work, after_work);
}

/* ---- building messages on the loop ------------------------------------------ */

/* Where the newest `n` matches up to visible start, when the memory window
 * is known to hold all of them (it reaches back far enough): 0 with *start
 * set (visible + 1 when nothing matches), or -1 when the disk must tell. */
static int backlog_start_in_window(tail_sub_t *s, uint64_t visible, uint64_t *start)
{
    const ring_t *r = store_ring(s->t->store);
    size_t want = s->backlog, found = 0, i = ring_lower_bound(r, visible + 1);
    uint64_t first = visible + 1;
    record_t rec;
    while (i > 0 && found < want) {
        i--;
        if (record_decode(ring_at(r, i), SIZE_MAX >> 1, &rec) > 0 && filter_match(&s->f, &rec)) {
            found++;
            first = rec.seq;
        }
    }
    /* not enough, and the store holds older records than the window */
    if (found < want && ring_count(r) && ring_first_seq(r) > store_first_seq(s->t->store))
        return -1;
    if (found < want && !ring_count(r) && visible)
        return -1;
    *start = first;
    return 0;
}

/* Builds the live message for s at its cursor from the window into out.
 * Returns the records in it; *to is the cursor after it. */
static size_t live_message(tail_sub_t *s, uint64_t visible, buf_t *out, uint64_t *to)
{
    const ring_t *r = store_ring(s->t->store);
    size_t i = ring_lower_bound(r, s->cursor), n = 0;
    uint64_t last = 0;
    record_t rec;
    msg_begin(out, s->framing, "records");
    buf_putc(out, '[');
    *to = s->cursor;
    for (; i < ring_count(r); i++) {
        uint64_t seq = ring_seq_at(r, i);
        if (seq > visible)
            break;
        *to = seq + 1;
        if (record_decode(ring_at(r, i), SIZE_MAX >> 1, &rec) <= 0 || !filter_match(&s->f, &rec))
            continue;
        if (n++)
            buf_putc(out, ',');
        record_to_json(out, &rec);
        last = rec.seq;
        if (out->len >= TAIL_MSG_MAX)
            break;
    }
    buf_putc(out, ']');
    msg_end(out, s->framing, last);
    return n;
}

/* An empty backlog from the window: s->msg becomes a hint message when a
 * pattern probably lacks ".#". 1 when it did. */
static int window_hint(tail_sub_t *s)
{
    buf_t text = BUF_INIT;
    int n = hint_from_window(store_ring(s->t->store), &s->f, &text) > 0;
    if (n)
        msg_hint(&s->msg, s->framing, &text);
    buf_free(&text);
    return n;
}

static cache_entry_t *cache_slot(tail_t *t, const tail_sub_t *s)
{
    uint64_t h = s->fid ^ (s->cursor * 0x9E3779B97F4A7C15ULL) ^ (uint64_t)s->framing;
    return &t->cache[h % CACHE_SLOTS];
}

static int cache_hit(const cache_entry_t *e, const tail_sub_t *s, uint64_t gen)
{
    return e->gen == gen && e->fid == s->fid && e->from == s->cursor &&
           e->framing == (int)s->framing && e->key.len == s->key.len &&
           memcmp(e->key.data, s->key.data, s->key.len) == 0;
}

int tail_next(tail_sub_t *s, char **data, size_t *len)
{
    tail_t *t = s->t;
    store_t *store = t->store;
    s->wake_pending = 0;
    if (s->job || s->dead)
        return 0;
    if (s->ready) {
        s->ready = 0;
        *data = s->msg.data + TAIL_HEADROOM;
        *len = s->msg.len - TAIL_HEADROOM;
        t->st.messages++;
        return 1;
    }
    uint64_t visible = store_last_seq(store);
    if (!s->started) {
        uint64_t start;
        if (backlog_start_in_window(s, visible, &start)) {
            start_job(s, JOB_BACKLOG, visible);
            return 0;
        }
        /* from here on the backlog is a catch-up like any other */
        s->started = 1;
        s->cursor = start;
        if (start > visible && window_hint(s)) {
            /* nothing matched: say so if a pattern probably lacks ".#" */
            *data = s->msg.data + TAIL_HEADROOM;
            *len = s->msg.len - TAIL_HEADROOM;
            t->st.messages++;
            return 1;
        }
    }
    if (s->cursor > visible)
        return 0;
    uint64_t first = store_first_seq(store);
    if (first && s->cursor < first) {
        /* retention removed what it had not read yet */
        msg_gap(&s->msg, s->framing, s->cursor, first - 1);
        s->cursor = first;
        t->st.gaps++;
        goto own;
    }
    const ring_t *r = store_ring(store);
    if (!ring_count(r) || s->cursor < ring_first_seq(r)) {
        if (!s->on_disk) {
            s->on_disk = 1;
            msg_status(&s->msg, s->framing, visible - s->cursor + 1, "disk");
            goto own;
        }
        start_job(s, JOB_DISK, visible);
        return 0;
    }
    if (s->on_disk) {
        s->on_disk = 0;
        msg_status(&s->msg, s->framing, visible - s->cursor + 1, "live");
        goto own;
    }
    cache_entry_t *e = cache_slot(t, s);
    if (cache_hit(e, s, t->gen)) {
        t->st.shared_hits++;
    } else {
        uint64_t to;
        size_t n = live_message(s, visible, &e->msg, &to);
        e->gen = t->gen;
        e->fid = s->fid;
        e->from = s->cursor;
        e->to = to;
        e->framing = (int)s->framing;
        e->records = n;
        buf_reset(&e->key);
        buf_append(&e->key, s->key.data, s->key.len);
    }
    s->cursor = e->to;
    if (!e->records)
        return 0;
    t->st.records += e->records;
    t->st.messages++;
    *data = e->msg.data + TAIL_HEADROOM;
    *len = e->msg.len - TAIL_HEADROOM;
    return 1;
own:
    t->st.messages++;
    *data = s->msg.data + TAIL_HEADROOM;
    *len = s->msg.len - TAIL_HEADROOM;
    return 1;
}

int tail_more(const tail_sub_t *s)
{
    if (s->dead || s->job)
        return 0;
    if (s->ready || !s->started)
        return 1;
    if (s->on_disk) {
        /* back inside the window: the "live" status is due */
        const ring_t *r = store_ring(s->t->store);
        if (ring_count(r) && s->cursor >= ring_first_seq(r))
            return 1;
    }
    return s->cursor <= store_last_seq(s->t->store);
}
