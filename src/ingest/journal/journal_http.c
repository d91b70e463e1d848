/* journal_http.c - systemd-journal-upload's POST /upload: see
 * journal_http.h.
 *
 * Entries are appended every JOURNAL_BATCH records (or bytes) while the
 * body streams in, so memory stays bounded however long the upload. The
 * reply, as systemd-journal-remote's: 200 "OK." once the body has ended
 * and every append is durable; 400 with the reason for bytes that are not
 * the export format, once the entries before them are durable (they are
 * kept); 415 for another
 * Content-Type; 503 with Retry-After when the store cannot take the
 * records (the uploader sends again from its last saved cursor).
 *
 * A token limited to some topics (auth.h) writes only those, as on
 * /api/log: each batch is checked before its append, and one with an entry
 * outside them is not stored; the upload is refused there with 403 (once
 * the batches before it are durable: a long upload is streamed, what was
 * stored of it before stays, and nothing from that batch on is).
 *
 * The uploader resumes at the entry of its saved cursor, which is stored
 * already: the route remembers the newest durable entry of each journal
 * (journal_seen_t) and skips what it has. */
#include "journal_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../common/timeutil.h"

#define JOURNAL_BATCH       1000
#define JOURNAL_BATCH_BYTES (1u << 20)

static ingest_stats_t stats = {.ack_seconds = {.kind = &hist_seconds}};

const ingest_stats_t *journal_stats(void)
{
    return &stats;
}

typedef struct journal_state journal_state_t;

/* One append of the request's, until the store answers. */
typedef struct jwait {
    store_waiter_t w;
    journal_state_t *st; /* NULL once the request is gone */
    journal_http_ctx_t *ctx;
    size_t count;
    int has_cursor; /* the newest entry of the append, for ctx->seen */
    char id[JOURNAL_SEQID + 1];
    uint64_t seqnum;
    struct jwait *next;
} jwait_t;

struct journal_state {
    http_conn_t *conn;
    journal_http_ctx_t *ctx;
    journal_session_t sess;
    int ready;
    int reading;        /* the body is wanted */
    int body_done;      /* it ended: reply once nothing is in flight */
    int failed;         /* a store error was answered */
    int refusal_status; /* 400 or 403: to send once the entries before it are durable */
    char refusal[240];
    size_t appended; /* entries of the request appended before the batch */
    int64_t t0;
    batch_t batch;
    jwait_t *inflight;
    size_t ninflight;
    rec_defaults_t d;
};

static void reply_text(http_conn_t *c, int status, const char *msg)
{
    static const http_header_t retry[] = {{"Retry-After", "1"}};
    http_reply(c, status, "text/plain", status == 503 ? retry : NULL, status == 503, msg,
               strlen(msg));
}

static int flush(journal_state_t *st);

static void maybe_reply(journal_state_t *st)
{
    if (!st->body_done || st->ninflight || st->failed || http_answered(st->conn))
        return;
    if (st->refusal[0]) {
        reply_text(st->conn, st->refusal_status, st->refusal);
        return;
    }
    hist_observe_ns(&stats.ack_seconds, time_mono_ns() - st->t0);
    reply_text(st->conn, 200, "OK.\n");
}

/* Refuses the rest of the body: answered once what came before it is
 * durable. */
static void refuse(journal_state_t *st)
{
    stats.parse_errors++;
    st->reading = 0;
    st->refusal_status = 400;
    snprintf(st->refusal, sizeof st->refusal, "not the journal export format: %s\n", st->sess.err);
    if (flush(st) == 0) {
        st->body_done = 1;
        maybe_reply(st);
    }
}

static void unlink_wait(journal_state_t *st, jwait_t *w)
{
    for (jwait_t **p = &st->inflight; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            st->ninflight--;
            return;
        }
}

static void on_durable(store_waiter_t *sw, int err, uint64_t first, uint64_t last)
{
    jwait_t *w = container_of(sw, jwait_t, w);
    journal_state_t *st = w->st;
    (void)first;
    (void)last;
    if (!err) {
        stats.records += w->count;
        if (w->has_cursor)
            journal_seen_update(&w->ctx->seen, w->id, w->seqnum);
    } else {
        stats.dropped += w->count;
    }
    if (st) {
        unlink_wait(st, w);
        if (err && !st->failed) {
            st->failed = 1;
            st->reading = 0;
            if (!http_answered(st->conn))
                reply_text(st->conn, 503, "records not stored: the store cannot write; retry\n");
        }
        maybe_reply(st);
    }
    free(w);
}

/* Refuses the upload at the batch b, which has an entry (bad, from 1)
 * outside the token's topics: answered 403 once the batches before it are
 * durable. */
static void refuse_topics(journal_state_t *st, size_t bad)
{
    batch_t *b = &st->batch;
    if (st->appended)
        snprintf(st->refusal, sizeof st->refusal,
                 "record %zu of the request has a topic outside this token's topics: the %zu "
                 "before record %zu were stored, nothing from there on was\n",
                 st->appended + bad, st->appended, st->appended + 1);
    else
        snprintf(st->refusal, sizeof st->refusal,
                 "record %zu of the request has a topic outside this token's topics: nothing "
                 "was stored\n",
                 bad);
    st->refusal_status = 403;
    st->reading = 0;
    st->body_done = 1;
    batch_reset(b);
    maybe_reply(st);
}

/* Appends what the batch holds. 0, or -1 after answering 503 or refusing
 * the upload (topics). */
static int flush(journal_state_t *st)
{
    batch_t *b = &st->batch;
    if (!b->count)
        return 0;
    char msg[160];
    size_t bad = ingest_http_topic_check(st->conn, b, msg, sizeof msg);
    if (bad) {
        refuse_topics(st, bad);
        return -1;
    }
    st->appended += b->count;
    jwait_t *w = xcalloc(1, sizeof *w);
    w->st = st;
    w->ctx = st->ctx;
    w->count = b->count;
    w->has_cursor = journal_take_newest(&st->sess, w->id, &w->seqnum);
    w->w.done = on_durable;
    uint64_t first, last;
    int rc = store_append(st->ctx->ingest->store, b, NULL, 0, 0, &w->w, &first, &last);
    stats.repaired += b->repaired;
    stats.truncated += b->truncated;
    batch_reset(b);
    if (rc < 0) {
        free(w);
        st->failed = 1;
        st->reading = 0;
        reply_text(st->conn, 503,
                   rc == -EAGAIN ? "the store is behind: retry shortly\n"
                                 : "the store cannot write: retry later\n");
        return -1;
    }
    if (rc == STORE_DONE) {
        stats.records += w->count;
        if (w->has_cursor)
            journal_seen_update(&st->ctx->seen, w->id, w->seqnum);
        free(w);
        return 0;
    }
    w->next = st->inflight;
    st->inflight = w;
    st->ninflight++;
    return 0;
}

static int on_request(http_conn_t *c, const http_req_t *r)
{
    journal_state_t *st = http_state(c);
    journal_http_ctx_t *ctx = http_data(c);
    char ct[128];
    st->conn = c;
    st->ctx = ctx;
    st->reading = st->body_done = st->failed = 0;
    st->refusal[0] = '\0';
    st->appended = 0;
    st->t0 = time_mono_ns();
    if (!st->ready) {
        journal_session_init(&st->sess, ctx->max_line, ctx->ingest->limits.max_body);
        st->ready = 1;
    }
    st->sess.seen = &ctx->seen;
    int n = http_header_copy(r, "content-type", ct, sizeof ct);
    slice_t t = n > 0 ? slice_trim(slice_make(ct, strcspn(ct, ";"))) : SLICE_NULL;
    if (!slice_eq_nocase(t, "application/vnd.fdo.journal")) {
        reply_text(c, 415, "Content-Type must be application/vnd.fdo.journal\n");
        return 0;
    }
    memset(&st->d, 0, sizeof st->d);
    st->d.level = -1;
    st->d.host = slice_cstr(http_peer(c));
    batch_reset(&st->batch);
    if (r->expect_100)
        http_continue(c);
    st->reading = 1;
    return 0;
}

static int on_body(http_conn_t *c, const char *p, size_t n)
{
    journal_state_t *st = http_state(c);
    if (!st->reading)
        return 0;
    stats.bytes += n;
    st->d.now = time_now_ns();
    if (journal_feed(&st->sess, p, n, &st->batch, &st->d)) {
        refuse(st); /* the entries before the bad bytes are kept */
        return 0;
    }
    if (st->batch.count >= JOURNAL_BATCH || st->batch.frames.len >= JOURNAL_BATCH_BYTES)
        flush(st);
    return 0;
}

static int on_body_done(http_conn_t *c)
{
    journal_state_t *st = http_state(c);
    if (!st->reading)
        return 0;
    st->reading = 0;
    st->d.now = time_now_ns();
    if (journal_finish(&st->sess, &st->batch, &st->d)) {
        refuse(st);
        return 0;
    }
    if (flush(st))
        return 0;
    st->body_done = 1;
    maybe_reply(st);
    return 0;
}

static void on_end(http_conn_t *c)
{
    journal_state_t *st = http_state(c);
    /* appends in flight are stored or not; only the reply is not wanted */
    for (jwait_t *w = st->inflight; w; w = w->next)
        w->st = NULL;
    st->inflight = NULL;
    st->ninflight = 0;
    st->reading = 0;
    if (st->ready)
        journal_finish(&st->sess, &st->batch, &st->d); /* resets its state */
    batch_reset(&st->batch);
}

static void on_free(void *state)
{
    journal_state_t *st = state;
    for (jwait_t *w = st->inflight; w; w = w->next)
        w->st = NULL;
    if (st->ready)
        journal_session_free(&st->sess);
    batch_free(&st->batch);
}

const http_handler_t journal_http_handler = {
    .name = "journal",
    .state_size = sizeof(journal_state_t),
    .on_request = on_request,
    .on_body = on_body,
    .on_body_done = on_body_done,
    .on_end = on_end,
    .on_free = on_free,
};
