/* tail.c - live tail subscribers as cursors over the store: see tail.h. */
#include "tail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../common/check.h"
#include "../common/json_write.h"
#include "../common/level.h"
#include "../query/hint.h"
#include "../route/regex.h"
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
    struct regex *re; /* f's re=, owned */
    buf_t strings;    /* the filter's strings (filter_own) */
    buf_t key;        /* filter_key(f): equal keys share messages */
    uint64_t fid;
    enum tail_sub_state state; /* changed by step() only */
    uint64_t cursor;           /* next seq wanted */
    size_t backlog;
    job_t *job; /* the scan running for it (invariant 4) */
    buf_t msg;  /* its own message, when not a shared one */
    /* not a state: the transport was woken and has not asked since */
    int wake_pending;
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

/* ---- the state machine (tail.h's table) ------------------------------------- */

/* What happens to a subscriber. */
enum tail_event {
    EV_NEXT,        /* the transport asks for a message: tail_next() */
    EV_SCAN_OK,     /* its scan ended */
    EV_SCAN_FAILED, /* its scan ended with a read error, or was cancelled */
    EV_UNSUBSCRIBE,
};

/* Facts that a row may require (all of its set must hold). */
enum {
    F_UNLOCATED = 1u << 0, /* BACKLOG: the window alone can not tell where it starts */
    F_MSG = 1u << 1,       /* a message is ready in msg: a hint, or a scan's records */
    F_CAUGHT_UP = 1u << 2, /* cursor > L: nothing visible to send */
    F_RETAINED = 1u << 3,  /* cursor < F: retention removed records it had not read */
    F_BEHIND = 1u << 4,    /* cursor older than the window (or the window is empty) */
};

/* What a transition does besides changing the state. */
enum tail_act {
    ACT_NONE,    /* nothing now: a wake() follows when there is something */
    ACT_LOCATE,  /* cursor = where the backlog starts; ask the new state on */
    ACT_SCAN,    /* start (or join) the new state's scan */
    ACT_SEND,    /* send msg */
    ACT_GAP,     /* send a gap message up to F; cursor = F */
    ACT_STATUS,  /* send the new state's status: "disk" or "live" */
    ACT_RECORDS, /* send the window's records at the cursor (maybe none pass) */
    ACT_TAKE,    /* the scan's end: cursor after it, its message into msg */
    ACT_RETRY,   /* the scan failed: wake, to try again from the same cursor */
    ACT_FREE,    /* free the subscriber */
};

typedef struct rule {
    enum tail_sub_state from;
    enum tail_event ev;
    unsigned when; /* F_* that must hold; 0: always */
    enum tail_sub_state to;
    enum tail_act act;
} rule_t;

/* tail.h's table, row by row (but the "(new)" rows: tail_subscribe()). */
static const rule_t rules[] = {
    {TS_BACKLOG, EV_NEXT, F_UNLOCATED, TS_BACKLOG_SCAN, ACT_SCAN},
    {TS_BACKLOG, EV_NEXT, F_MSG, TS_HINT, ACT_LOCATE},
    {TS_BACKLOG, EV_NEXT, 0, TS_LIVE, ACT_LOCATE},
    {TS_BACKLOG_SCAN, EV_SCAN_OK, F_MSG, TS_HINT, ACT_TAKE},
    {TS_BACKLOG_SCAN, EV_SCAN_OK, 0, TS_LIVE, ACT_TAKE},
    {TS_BACKLOG_SCAN, EV_SCAN_FAILED, 0, TS_BACKLOG, ACT_RETRY},
    {TS_HINT, EV_NEXT, 0, TS_LIVE, ACT_SEND},
    {TS_LIVE, EV_NEXT, F_CAUGHT_UP, TS_LIVE, ACT_NONE},
    {TS_LIVE, EV_NEXT, F_RETAINED, TS_LIVE, ACT_GAP},
    {TS_LIVE, EV_NEXT, F_BEHIND, TS_DISK, ACT_STATUS},
    {TS_LIVE, EV_NEXT, 0, TS_LIVE, ACT_RECORDS},
    {TS_DISK, EV_NEXT, F_CAUGHT_UP, TS_DISK, ACT_NONE},
    {TS_DISK, EV_NEXT, F_RETAINED, TS_DISK, ACT_GAP},
    {TS_DISK, EV_NEXT, F_BEHIND, TS_DISK_SCAN, ACT_SCAN},
    {TS_DISK, EV_NEXT, 0, TS_LIVE, ACT_STATUS},
    {TS_DISK_SCAN, EV_SCAN_OK, F_MSG, TS_DISK_READY, ACT_TAKE},
    {TS_DISK_SCAN, EV_SCAN_OK, 0, TS_DISK, ACT_TAKE},
    {TS_DISK_SCAN, EV_SCAN_FAILED, 0, TS_DISK, ACT_RETRY},
    {TS_DISK_READY, EV_NEXT, 0, TS_DISK, ACT_SEND},
    {TS_BACKLOG_SCAN, EV_NEXT, 0, TS_BACKLOG_SCAN, ACT_NONE},
    {TS_DISK_SCAN, EV_NEXT, 0, TS_DISK_SCAN, ACT_NONE},
    {TS_DEAD, EV_NEXT, 0, TS_DEAD, ACT_NONE},
    {TS_BACKLOG_SCAN, EV_UNSUBSCRIBE, 0, TS_DEAD, ACT_NONE},
    {TS_DISK_SCAN, EV_UNSUBSCRIBE, 0, TS_DEAD, ACT_NONE},
    {TS_DEAD, EV_SCAN_OK, 0, TS_DEAD, ACT_FREE},
    {TS_DEAD, EV_SCAN_FAILED, 0, TS_DEAD, ACT_FREE},
    {TS_BACKLOG, EV_UNSUBSCRIBE, 0, TS_DEAD, ACT_FREE},
    {TS_HINT, EV_UNSUBSCRIBE, 0, TS_DEAD, ACT_FREE},
    {TS_LIVE, EV_UNSUBSCRIBE, 0, TS_DEAD, ACT_FREE},
    {TS_DISK, EV_UNSUBSCRIBE, 0, TS_DEAD, ACT_FREE},
    {TS_DISK_READY, EV_UNSUBSCRIBE, 0, TS_DEAD, ACT_FREE},
};

/* What each state is, beyond its rows. */
static const struct state_info {
    int scan;      /* a scan runs for it (invariant 4) */
    int on_commit; /* a commit wakes it */
    int where;     /* its rows for EV_NEXT look at where the cursor is */
} states[] = {
    [TS_BACKLOG] = {0, 0, 0},      /* woken by tail_subscribe() or a failed scan */
    [TS_BACKLOG_SCAN] = {1, 0, 0}, /* woken by the scan's end */
    [TS_HINT] = {0, 1, 0},         /* woken by the scan's end, or asked on */
    [TS_LIVE] = {0, 1, 1},         /* woken by commits */
    [TS_DISK] = {0, 1, 1},         /* woken by commits too: the window may reach it */
    [TS_DISK_SCAN] = {1, 0, 0},    /* woken by the scan's end */
    [TS_DISK_READY] = {0, 1, 0},   /* woken by the scan's end */
    [TS_DEAD] = {1, 0, 0},         /* never woken (invariant 5) */
};

/* The row for ev in state `from` given the facts that hold: the first that
 * applies. NULL when there is none, which is a bug (the CHECK in step()). */
static const rule_t *next_state(enum tail_sub_state from, enum tail_event ev, unsigned facts)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const rule_t *r = &rules[i];
        if (r->from == from && r->ev == ev && (facts & r->when) == r->when)
            return r;
    }
    return NULL;
}

/* Makes the transition for ev: the only place s->state changes. Returns
 * what the caller is to do. */
static enum tail_act step(tail_sub_t *s, enum tail_event ev, unsigned facts)
{
    const rule_t *r = next_state(s->state, ev, facts);
    CHECK(r != NULL, "tail.h invariants 4 and 5: a scan ends only for a subscriber that has "
                     "one, and a subscriber leaves once");
    s->state = r->to;
    return r->act;
}

static void check_scan(const tail_sub_t *s)
{
    CHECK((s->job != NULL) == states[s->state].scan,
          "tail.h invariant 4: a scan runs exactly in *_SCAN and DEAD");
}

/* Where the cursor is, for LIVE's and DISK's rows: F_CAUGHT_UP, F_RETAINED,
 * F_BEHIND. The oldest stored seq is looked up (under the store's segment
 * lock) only when something is visible past the cursor. */
static unsigned where(const tail_sub_t *s, uint64_t visible, uint64_t *first)
{
    const ring_t *r = store_ring(s->t->store);
    unsigned facts = 0;
    *first = 0;
    if (!states[s->state].where)
        return 0;
    if (s->cursor > visible)
        return F_CAUGHT_UP;
    *first = store_first_seq(s->t->store);
    if (*first && s->cursor < *first)
        facts |= F_RETAINED;
    if (!ring_count(r) || s->cursor < ring_first_seq(r))
        facts |= F_BEHIND;
    return facts;
}

static void advance(tail_sub_t *s, uint64_t to)
{
    CHECK(to >= s->cursor, "tail.h invariant 2: cursor only moves forward");
    s->cursor = to;
}

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

void tail_params_close(tail_params_t *p)
{
    regex_destroy(p->re);
    p->re = NULL;
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
    if (slice_eq(key, "re")) {
        if (p->re) {
            *err = "re given twice: use one pattern (alternatives with |)";
            return -1;
        }
        if (!(p->re = regex_create(v.p, v.n, p->err, sizeof p->err))) {
            *err = p->err;
            return -1;
        }
        filter_set_re(&p->f, p->re, v);
        return 0;
    }
    if (slice_eq(key, "after"))
        p->has_after = 1;
    int rc = filter_set(&p->f, key, v, err);
    if (rc > 0) {
        snprintf(p->err, sizeof p->err,
                 "unknown parameter '%.*s' (use topic, app, host, field.NAME, level, q, qi, "
                 "word, re, not.topic, not.app, not.host, not.field.NAME, not.level, n, after)",
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
    regex_destroy(s->re);
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
    CHECK(s->state != TS_DEAD, "tail.h invariant 5: a subscriber that left is never woken");
    if (!s->wake_pending) {
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
        if (states[s->state].on_commit)
            wake(s);
}

tail_sub_t *tail_subscribe(tail_t *t, tail_params_t *p, enum tail_framing framing, void *conn,
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
    s->re = p->re; /* s->f points at it */
    p->re = NULL;
    filter_own(&s->f, &s->strings); /* sized once: the slices never move */
    s->f.after = s->f.before = 0;
    s->f.since = INT64_MIN;
    s->f.until = INT64_MAX;
    filter_key(&s->f, &s->key);
    s->fid = XXH3_64bits(s->key.data, s->key.len);
    /* the "(new)" rows of the state table */
    if (p->has_after) {
        s->state = TS_LIVE;
        s->cursor = p->f.after + 1;
    } else if (p->n == 0) {
        s->state = TS_LIVE;
        s->cursor = store_last_seq(t->store) + 1;
    } else {
        s->state = TS_BACKLOG;
        s->backlog = p->n;
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
    check_scan(s);
    /* with a scan running, s becomes DEAD: the scan reads the filter
     * strings s owns, and s is freed when it ends */
    if (step(s, EV_UNSUBSCRIBE, 0) == ACT_FREE)
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
    CHECK(r->seq >= j->from && r->seq > a->last,
          "tail.h invariant 1: a catch-up sends records in seq order from the cursor on");
    CHECK(r->seq <= j->visible, "tail.h invariant 3: only visible records are sent");
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
        CHECK(j->next > a.last, "tail.h invariant 1: the cursor moves past every record sent");
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
    int failed = status || j->error;
    unsigned facts = !failed && (j->records || j->hinted) ? F_MSG : 0;
    check_scan(s);
    s->job = NULL;
    switch (step(s, failed ? EV_SCAN_FAILED : EV_SCAN_OK, facts)) {
    case ACT_FREE:
        sub_free(s); /* it left meanwhile */
        return;
    case ACT_TAKE:
        /* a backlog scan: where the backlog starts; a disk scan: after
         * what it read */
        advance(s, j->next);
        break;
    default: /* ACT_RETRY */
        wake(s);
        return;
    }
    if (facts & F_MSG) {
        buf_reset(&s->msg);
        if (owner) {
            buf_free(&s->msg);
            s->msg = j->out; /* hand the buffer over */
            memset(&j->out, 0, sizeof j->out);
        } else {
            buf_append(&s->msg, j->out.data, j->out.len);
        }
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
    store_unref(j->store);
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
        check_scan(s);
        t->st.shared_hits++;
        return;
    }
    j = xcalloc(1, sizeof *j);
    j->t = t;
    j->sub = s;
    j->kind = kind;
    j->fid = s->fid;
    j->from = s->cursor;
    /* the store may close before the scan ends (the hub's destroy does not
     * wait for it): the job holds it (store.h invariant 6) */
    j->store = t->store;
    store_ref(j->store);
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
    check_scan(s);
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
        CHECK(seq >= *to, "tail.h invariant 1: records in seq order from the cursor on");
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

/* ACT_RECORDS: the message from the window at s's cursor, shared with
 * every subscriber at the same point (filter, cursor, framing) until the
 * next commit; NULL when no record there passes the filter. The cursor
 * moves past what was looked at either way. */
static const buf_t *window_records(tail_sub_t *s, uint64_t visible)
{
    tail_t *t = s->t;
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
    advance(s, e->to);
    if (!e->records)
        return NULL;
    t->st.records += e->records;
    return &e->msg;
}

int tail_next(tail_sub_t *s, char **data, size_t *len)
{
    tail_t *t = s->t;
    s->wake_pending = 0;
    for (;;) {
        check_scan(s);
        uint64_t visible = store_last_seq(t->store), first, start = 0;
        unsigned facts = where(s, visible, &first);
        if (s->state == TS_BACKLOG) {
            if (backlog_start_in_window(s, visible, &start))
                facts |= F_UNLOCATED;
            else if (start > visible && window_hint(s))
                facts |= F_MSG; /* nothing matched, and a pattern probably lacks ".#" */
        }
        const buf_t *m = &s->msg;
        switch (step(s, EV_NEXT, facts)) {
        case ACT_LOCATE:
            /* from here on the backlog is a catch-up like any other */
            advance(s, start);
            continue;
        case ACT_SCAN:
            start_job(s, s->state == TS_BACKLOG_SCAN ? JOB_BACKLOG : JOB_DISK, visible);
            return 0;
        case ACT_SEND:
            break;
        case ACT_GAP:
            msg_gap(&s->msg, s->framing, s->cursor, first - 1);
            advance(s, first);
            t->st.gaps++;
            break;
        case ACT_STATUS:
            msg_status(&s->msg, s->framing, visible - s->cursor + 1,
                       s->state == TS_DISK ? "disk" : "live");
            break;
        case ACT_RECORDS:
            if (!(m = window_records(s, visible)))
                return 0;
            break;
        case ACT_NONE:
        default: /* EV_NEXT's rows do nothing else */
            return 0;
        }
        t->st.messages++;
        *data = m->data + TAIL_HEADROOM;
        *len = m->len - TAIL_HEADROOM;
        return 1;
    }
}

int tail_more(const tail_sub_t *s)
{
    /* what tail_next() would do now, by the same rows: BACKLOG's all do
     * something, so the window is not searched here for its facts */
    if (s->state == TS_BACKLOG)
        return 1;
    uint64_t first;
    const rule_t *r = next_state(s->state, EV_NEXT, where(s, store_last_seq(s->t->store), &first));
    return r && r->act != ACT_NONE;
}

enum tail_sub_state tail_state(const tail_sub_t *s)
{
    return s->state;
}
