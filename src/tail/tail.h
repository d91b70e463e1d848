/* tail.h - live tail: every subscriber is a cursor over the store.
 *
 * DESIGN
 *
 * A subscriber has a filter and a cursor, the next seq it wants. The hub
 * never pushes records into per-subscriber queues; when the transport says
 * the subscriber can take a message, the hub builds the next one from where
 * its cursor is:
 *
 *   LIVE   cursor inside the memory window: records come straight from the
 *          window's frames, all that are ready in one message (JSON array).
 *   DISK   cursor older than the window: a scan of the segments on libuv's
 *          thread pool makes the next message, up to TAIL_MSG_MAX bytes,
 *          preceded by {"type":"status","lag":N,"source":"disk"}; when the
 *          cursor is back in the window, {"type":"status","lag":N,"source":"live"}
 *          (N: the seqs from the cursor to the newest visible one, both
 *          counted).
 *   GAP    cursor older than the oldest stored record (retention removed
 *          what it missed): {"type":"gap","from":A,"to":B}, then on.
 *
 * A slow subscriber therefore never slows ingest and never silently loses a
 * record: it falls back to the disk and catches up. Memory per subscriber is
 * one message at most (plus what the socket layer buffers of it).
 *
 * Start: with after=S the cursor is S+1 (resume without gap or duplicate);
 * otherwise the last n matching records up to the newest visible one L are
 * sent first (found by a backward scan), then the cursor is L+1. When that
 * backlog is empty and a topic pattern P has no wildcard but "P.#" would
 * have found records (query/hint.h), the first message is
 * {"type":"hint","hint":"topic 'P' has no wildcard: did you mean 'P.#'?"}.
 *
 * Many subscribers: identical filters share an id, and a message built for
 * (filter, cursor, framing) is reused by every subscriber at the same point
 * until the next commit, so a thousand watchers of the same stream cost one
 * JSON rendering per record, not a thousand.
 *
 * Invariants:
 *   1. A subscriber receives records in seq order, each at most once; any
 *      seq it skips without a gap message did not pass its filter.
 *   2. cursor only moves forward (it is 0 until the backlog is located).
 *   3. Only records visible in the store (durable per the fsync policy) are
 *      ever sent.
 *   4. A scan runs for a subscriber exactly in the states *_SCAN and DEAD,
 *      one scan at most.
 *   5. Once unsubscribed, a subscriber is never woken, and it is freed as
 *      soon as no scan refers to it.
 * Each one is CHECKed (common/check.h) where it must hold, citing it.
 *
 * States. Every subscriber is in one state; tail.c's rules[] is this
 * table and next_state() reads it, the first row that applies winning:
 * the only place a state changes. L is the newest visible seq, F the
 * oldest stored one, "window" the store's memory window.
 *
 *   state        event        when                  does                      next
 *   (new)        subscribe    after=S               cursor = S+1              LIVE
 *   (new)        subscribe    n=0                   cursor = L+1              LIVE
 *   (new)        subscribe                          -                         BACKLOG
 *   BACKLOG      next         window can not tell   backward scan             BACKLOG_SCAN
 *   BACKLOG      next         none, hint made       cursor = L+1              HINT, asked on
 *   BACKLOG      next                               cursor = backlog start    LIVE, asked on
 *   BACKLOG_SCAN scan ok      hint made             cursor = L+1              HINT
 *   BACKLOG_SCAN scan ok                            cursor = backlog start    LIVE
 *   BACKLOG_SCAN scan failed                        -                         BACKLOG
 *   HINT         next                               send the hint             LIVE
 *   LIVE         next         cursor > L            -                         LIVE
 *   LIVE         next         cursor < F            send gap, cursor = F      LIVE
 *   LIVE         next         cursor before window  send "disk" status        DISK
 *   LIVE         next                               send window's records     LIVE
 *   DISK         next         cursor > L            -                         DISK
 *   DISK         next         cursor < F            send gap, cursor = F      DISK
 *   DISK         next         cursor before window  scan (or join one)        DISK_SCAN
 *   DISK         next                               send "live" status        LIVE
 *   DISK_SCAN    scan ok      records found         cursor = after the scan   DISK_READY
 *   DISK_SCAN    scan ok                            cursor = after the scan   DISK
 *   DISK_SCAN    scan failed                        -                         DISK
 *   DISK_READY   next                               send the scan's records   DISK
 *   *_SCAN, DEAD next                               -                         same
 *   *_SCAN       unsubscribe                        -                         DEAD
 *   DEAD         scan ends                          free                      (gone)
 *   others       unsubscribe                        free                      (gone)
 *
 * "next" is the transport calling tail_next(); "asked on" means the new
 * state's row for next applies in the same call. The end of a scan wakes
 * its subscriber (but in DEAD); a commit wakes those in HINT, LIVE, DISK
 * and DISK_READY. A failed scan is tried again from the same cursor. GAP
 * is a transition, not a state: the cursor jumps to F and the subscriber
 * stays LIVE or DISK, whichever F then is. A "live" status is due only
 * once there is a record to send after it (cursor <= L).
 *
 * Loop thread only, except the scans run by the thread pool.
 */
#ifndef LOGSHIP_TAIL_H
#define LOGSHIP_TAIL_H

#include <uv.h>

#include "../route/filter.h"
#include "../store/store.h"

#define TAIL_MSG_MAX  (256u * 1024) /* records of one message, about */
#define TAIL_HEADROOM 64            /* bytes free before every message */
#define TAIL_BACKLOG  100           /* default n */

typedef struct tail tail_t;
typedef struct tail_sub tail_sub_t;

/* The states of the table above. */
enum tail_sub_state {
    TS_BACKLOG,      /* the backlog is to be located */
    TS_BACKLOG_SCAN, /* a backward scan locates it */
    TS_HINT,         /* the backlog was empty: a hint message waits */
    TS_LIVE,         /* records come from the window */
    TS_DISK,         /* behind the window: the "disk" status was sent */
    TS_DISK_SCAN,    /* a scan of the segments makes the next message */
    TS_DISK_READY,   /* that message waits */
    TS_DEAD,         /* unsubscribed during a scan: freed when it ends */
};

enum tail_framing {
    TAIL_WS,  /* a WebSocket text message: the JSON itself */
    TAIL_SSE, /* an SSE event: "event: ...\nid: ...\ndata: <json>\n\n" */
};

typedef struct tail_params {
    filter_t f;       /* topics, app, host, fields, level, q, qi, word, after (strings borrowed) */
    size_t n;         /* backlog */
    int has_after;    /* resume after f.after (which may be 0) */
    struct regex *re; /* re=, compiled: owned until tail_subscribe() takes it */
    char err[200];    /* tail_param's message for an unknown key, naming it */
} tail_params_t;

/* The transport's side: the hub calls wake() when the subscriber has
 * something to send; the transport then calls tail_next(). */
typedef void (*tail_wake_fn)(void *conn);

tail_t *tail_create(uv_loop_t *loop, store_t *store, size_t max_subscribers);
/* Detaches every subscriber (their transports are being closed). Scans
 * still running end on their own: each holds a store reference (store.h
 * invariant 6), so the store may be closed right after this. */
void tail_destroy(tail_t *t);

/* Parses tail query parameters (filter.h's, but since, until and before;
 * n) into p.
 * Returns 0, or -1 with *err. Strings in p borrow from the pairs. */
int tail_param(tail_params_t *p, slice_t key, slice_t value, const char **err);
void tail_params_init(tail_params_t *p);
/* Frees what p still owns (an re= that no subscriber took). */
void tail_params_close(tail_params_t *p);

/* Adds a subscriber, which takes p's re= (p->re is then NULL). Returns
 * NULL with *err when the hub is full (p keeps what it owns). */
tail_sub_t *tail_subscribe(tail_t *t, tail_params_t *p, enum tail_framing framing, void *conn,
                           tail_wake_fn wake, const char **err);
/* Removes it; safe while a scan for it runs. */
void tail_unsubscribe(tail_sub_t *s);

/* The next message for s, or 0 when none is ready (a wake() follows when
 * one is). *data has TAIL_HEADROOM writable bytes before it and stays valid
 * until the next call on the hub. */
int tail_next(tail_sub_t *s, char **data, size_t *len);
/* 1 when s should be woken again right away: tail_next() would send a
 * message or start a scan now, by the same rows of the state table. */
int tail_more(const tail_sub_t *s);
/* The state s is in: for tests and debugging. */
enum tail_sub_state tail_state(const tail_sub_t *s);

size_t tail_count(const tail_t *t);
/* Records delivered, messages sent, scans from disk, gaps: for /metrics. */
typedef struct tail_stats {
    uint64_t subscribers, records, messages, disk_scans, gaps, shared_hits;
} tail_stats_t;
void tail_get_stats(const tail_t *t, tail_stats_t *st);

#endif
