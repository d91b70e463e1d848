/* logship.c - liblogship's public API (include/logship.h): options, the log
 * calls, flush, close, stats, and what happens across fork().
 *
 * The log calls are the producers of the queue (queue.h): they check the
 * level, read the clock (vDSO, no system call), reserve a slot with one
 * compare-and-swap, copy the record in and publish it. Nothing else happens
 * on the caller's thread unless the queue is full: then the overflow policy
 * runs (DROP_OLDEST takes the queue's tail lock, BLOCK sleeps).
 *
 * fork(): the prepare handler takes every logger's locks (smu first, so
 * the background thread is between steps: sender.c invariant 6), the parent
 * releases them, the child re-creates them and bumps g_fork_gen. The first
 * call on a logger in the child sees the changed generation and restarts
 * it: the parent's batches, connection and spool are let go, the queue is
 * replaced, a new producer id is drawn and a new thread started (the TLS
 * context, made once by logship_open(), stays).
 *
 * Options come with the size of logship_opts_t the caller was compiled
 * with (logship.h, ABI): they are copied into a whole struct of ours that
 * starts from the defaults, and only that copy is read.
 */
#define _GNU_SOURCE /* program_invocation_short_name */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "../common/level.h"
#include "../common/tls_client.h"
#include "client.h"
#include "spool.h"

#define MAX_BODY  (200 * 1024) /* below sender.c's STAGE_BYTES */
#define MAX_TOPIC 1024
#define STACK_FMT 1024

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static logship_t *g_list;
static _Atomic unsigned g_fork_gen;
static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

/* The size of logship_opts_t in logship.h 0.1: it ended at producer_id. */
#define OPTS_SIZE_0_1 offsetof(logship_opts_t, tls_ca_file)

static void opts_defaults(logship_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->queue_bytes = 8u << 20;
    o->overflow = LOGSHIP_DROP_NEWEST;
    o->block_timeout_ms = 1000;
    o->min_level = LOGSHIP_DEBUG;
    o->max_msg_bytes = 16u << 10;
    o->pattern = "[%Y-%m-%d %H:%M:%S] [%L] %m";
    o->linger_ms = 5;
    o->batch_bytes = 1u << 20;
    o->batch_records = 5000;
    o->max_inflight = 8;
    o->backoff_min_ms = 100;
    o->backoff_max_ms = 5000;
    o->connect_timeout_ms = 5000;
    o->ack_timeout_ms = 30000;
    o->close_timeout_ms = 5000;
    o->spool_bytes = 256u << 20;
}

void logship_opts_init_size(logship_opts_t *o, size_t size)
{
    if (!o)
        return;
    logship_opts_t d;
    opts_defaults(&d);
    /* a newer caller's members past ours are zero: their defaults */
    if (size > sizeof d) {
        memset((char *)o + sizeof d, 0, size - sizeof d);
        size = sizeof d;
    }
    memcpy(o, &d, size);
}

void(logship_opts_init)(logship_opts_t *o)
{
    logship_opts_init_size(o, OPTS_SIZE_0_1);
}

const char *logship_strerror(int err)
{
    switch (err) {
    case LOGSHIP_OK:
        return "success";
    case LOGSHIP_EINVAL:
        return "invalid argument";
    case LOGSHIP_ENOMEM:
        return "out of memory";
    case LOGSHIP_EFULL:
        return "queue full: record dropped";
    case LOGSHIP_ETIMEDOUT:
        return "timed out";
    case LOGSHIP_ESYS:
        return "system call failed";
    case LOGSHIP_EBUSY:
        return "spool directory in use by another logger";
    case LOGSHIP_ESPOOL:
        return "spool directory unusable";
    case LOGSHIP_ECLOSED:
        return "logger closing";
    case LOGSHIP_ECONNECT:
        return "cannot connect to the server";
    case LOGSHIP_ETLS:
        return "TLS file unusable (CA, certificate or key)";
    }
    return "unknown error";
}

int logship_level_parse(const char *name)
{
    int l = name ? level_parse(name, strlen(name)) : -1;
    return l < 0 ? LOGSHIP_EINVAL : l;
}

const char *logship_level_name(int level)
{
    return level_name(level);
}

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* ---- producers: the log calls ---------------------------------------- */

static void wake_cb(void *arg)
{
    sender_wake(arg);
}

static int restart_child(logship_t *lg);

/* A slot of size bytes, by way of the overflow policy when the queue is
 * full; NULL with *err set when the record is dropped. */
static void *reserve(logship_t *lg, size_t size, int *err)
{
    void *p = queue_reserve(&lg->q, size);
    if (p)
        return p;
    if (atomic_load_explicit(&lg->spool_room, memory_order_relaxed)) {
        /* with a spool, a full queue waits for the background thread to
         * move records to disk; the policy applies only after that */
        int64_t deadline = mono_ns() + (int64_t)lg->block_timeout_ms * 1000000;
        while (atomic_load_explicit(&lg->spool_room, memory_order_relaxed) &&
               queue_wait_room(&lg->q, size, deadline, wake_cb, lg) == 0)
            if ((p = queue_reserve(&lg->q, size)))
                return p;
    }
    switch (lg->overflow) {
    case LOGSHIP_DROP_OLDEST:
        for (int i = 0; i < 64; i++) {
            int d = queue_evict(&lg->q, size);
            if (d > 0)
                atomic_fetch_add_explicit(&lg->n_drop_oldest, (uint64_t)d, memory_order_relaxed);
            if ((p = queue_reserve(&lg->q, size)))
                return p;
            if (d < 0)
                break; /* the oldest record is still being written */
        }
        break;
    case LOGSHIP_BLOCK: {
        int64_t deadline = mono_ns() + (int64_t)lg->block_timeout_ms * 1000000;
        while (queue_wait_room(&lg->q, size, deadline, wake_cb, lg) == 0)
            if ((p = queue_reserve(&lg->q, size)))
                return p;
        atomic_fetch_add_explicit(&lg->n_drop_timeout, 1, memory_order_relaxed);
        *err = LOGSHIP_ETIMEDOUT;
        return NULL;
    }
    case LOGSHIP_DROP_NEWEST:
        break;
    }
    atomic_fetch_add_explicit(&lg->n_drop_newest, 1, memory_order_relaxed);
    *err = LOGSHIP_EFULL;
    return NULL;
}

/* Cuts n to at most max bytes without splitting a UTF-8 sequence. Reads
 * only s[0..max): logf's second pass has its terminating NUL at s[max]. */
static size_t cut_utf8(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t i = max;
    while (i > 0 && max - i < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return max; /* not UTF-8 anyway */
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return max - (i - 1) < need ? i - 1 : max;
}

static inline int check_gen(logship_t *lg)
{
    if (atomic_load_explicit(&g_fork_gen, memory_order_relaxed) ==
        atomic_load_explicit(&lg->fork_gen, memory_order_acquire))
        return 0;
    return restart_child(lg);
}

/* The one producer path. msg_room > 0: reserve room for a message of
 * msg_room bytes (plus a NUL) and return its address in *msg_out without
 * committing (logf formats into it); the caller commits. */
static int put(logship_t *lg, const logship_record_t *r, size_t mlen, size_t msg_room,
               char **msg_out, void **slot_out, size_t *size_out)
{
    int err = check_gen(lg);
    if (err)
        return err;
    int flags = 0;
    if (msg_room)
        mlen = msg_room;
    if (mlen > lg->max_msg) {
        mlen = msg_room ? lg->max_msg : cut_utf8(r->msg, mlen, lg->max_msg);
        flags |= CREC_F_CUT;
    }
    size_t tlen = r->topic ? strnlen(r->topic, MAX_TOPIC) : 0;
    size_t alen = r->app ? strnlen(r->app, CREC_APP_MAX + 1) : 0;
    if (alen > CREC_APP_MAX)
        alen = cut_utf8(r->app, alen, CREC_APP_MAX);
    size_t flen = 0;
    for (size_t i = 0; i < r->nfields; i++) {
        if (!r->fields[i].key || !r->fields[i].value)
            return LOGSHIP_EINVAL;
        flen += CREC_FIELD_HDR + strnlen(r->fields[i].key, 0xFFFF) + strlen(r->fields[i].value);
    }
    size_t fixed = sizeof(crec_head_t) + tlen + alen + flen + (msg_room ? 1 : 0);
    if (fixed + mlen > lg->max_body) {
        if (fixed + 64 > lg->max_body)
            return LOGSHIP_EINVAL;
        mlen = msg_room ? lg->max_body - fixed : cut_utf8(r->msg, mlen, lg->max_body - fixed);
        flags |= CREC_F_CUT;
    }
    crec_head_t h;
    h.ts = r->ts_ns;
    if (!h.ts) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        h.ts = (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
    }
    h.pos = r->pos;
    h.msg_len = (uint32_t)mlen;
    h.fields_len = (uint32_t)flen;
    h.topic_len = (uint16_t)tlen;
    h.nfields = (uint16_t)r->nfields;
    h.level = (uint8_t)r->level;
    h.flags = (uint8_t)flags;
    h.app_len = (uint16_t)alen;
    size_t size = queue_slot_size(fixed + mlen);
    char *p = reserve(lg, size, &err);
    if (!p)
        return err;
    memcpy(p, &h, sizeof h);
    char *m = p + sizeof h;
    char *q = m + mlen + (msg_room ? 1 : 0);
    if (tlen) {
        /* topic, app and fields go after the message */
        memmove(q, r->topic, tlen);
        q += tlen;
    }
    if (alen) {
        memmove(q, r->app, alen);
        q += alen;
    }
    if (!msg_room)
        memcpy(m, r->msg, mlen);
    for (size_t i = 0; i < r->nfields; i++) {
        uint16_t kn = (uint16_t)strnlen(r->fields[i].key, 0xFFFF);
        uint32_t vn = (uint32_t)strlen(r->fields[i].value);
        memcpy(q, &kn, 2);
        memcpy(q + 2, &vn, 4);
        memcpy(q + CREC_FIELD_HDR, r->fields[i].key, kn);
        memcpy(q + CREC_FIELD_HDR + kn, r->fields[i].value, vn);
        q += CREC_FIELD_HDR + kn + vn;
    }
    if (msg_room) {
        *msg_out = m;
        *slot_out = p;
        *size_out = size;
        return 0;
    }
    queue_commit(p, size);
    return 0;
}

int logship_write(logship_t *lg, const logship_record_t *r)
{
    if (!lg || !r || !r->msg || r->level < LOGSHIP_EMERG || r->level > LOGSHIP_DEBUG)
        return LOGSHIP_EINVAL;
    if (r->level > lg->level_max)
        return 0;
    if (lg->position_mode && r->pos == 0)
        return LOGSHIP_EINVAL;
    return put(lg, r, r->msg_len ? r->msg_len : strlen(r->msg), 0, NULL, NULL, NULL);
}

int logship_log(logship_t *lg, int level, const char *msg)
{
    if (!lg || !msg || level < LOGSHIP_EMERG || level > LOGSHIP_DEBUG || lg->position_mode)
        return LOGSHIP_EINVAL;
    if (level > lg->level_max)
        return 0;
    logship_record_t r = {.level = level, .msg = msg};
    return put(lg, &r, strlen(msg), 0, NULL, NULL, NULL);
}

int logship_log_fields(logship_t *lg, int level, const char *msg, const logship_field_t *fields,
                       size_t nfields)
{
    if (!lg || !msg || level < LOGSHIP_EMERG || level > LOGSHIP_DEBUG || lg->position_mode ||
        (nfields && !fields))
        return LOGSHIP_EINVAL;
    if (level > lg->level_max)
        return 0;
    logship_record_t r = {.level = level, .msg = msg, .fields = fields, .nfields = nfields};
    return put(lg, &r, strlen(msg), 0, NULL, NULL, NULL);
}

int logship_vlogf(logship_t *lg, int level, const char *fmt, va_list ap)
{
    if (!lg || !fmt || level < LOGSHIP_EMERG || level > LOGSHIP_DEBUG || lg->position_mode)
        return LOGSHIP_EINVAL;
    if (level > lg->level_max)
        return 0;
    char tmp[STACK_FMT];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return LOGSHIP_EINVAL;
    }
    logship_record_t r = {.level = level, .msg = tmp};
    int rc;
    if ((size_t)n < sizeof tmp) {
        rc = put(lg, &r, (size_t)n, 0, NULL, NULL, NULL);
    } else {
        /* longer than the stack buffer: format again, into the slot */
        char *m;
        void *slot;
        size_t size;
        rc = put(lg, &r, 0, (size_t)n, &m, &slot, &size);
        if (rc == 0) {
            crec_head_t h;
            memcpy(&h, slot, sizeof h);
            vsnprintf(m, (size_t)h.msg_len + 1, fmt, ap2);
            /* a cut message must not end inside a character (nothing
             * follows the message in this slot: no topic, no fields) */
            h.msg_len = (uint32_t)cut_utf8(m, (size_t)n, h.msg_len);
            memcpy(slot, &h, sizeof h);
            queue_commit(slot, size);
        }
    }
    va_end(ap2);
    return rc;
}

int logship_logf(logship_t *lg, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = logship_vlogf(lg, level, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- flush, stats, position ------------------------------------------- */

static void deadline_ts(struct timespec *ts, int64_t deadline_ns)
{
    ts->tv_sec = (time_t)(deadline_ns / 1000000000);
    ts->tv_nsec = (long)(deadline_ns % 1000000000);
}

/* Waits on lg->cv (lg->mu held) until deadline (-1: none); 0 or -1. */
static int wait_until(logship_t *lg, int64_t deadline)
{
    int64_t now = mono_ns();
    if (deadline >= 0 && now >= deadline)
        return -1;
    int64_t until = now + 200 * 1000000LL; /* re-check now and then */
    if (deadline >= 0 && deadline < until)
        until = deadline;
    struct timespec ts;
    deadline_ts(&ts, until);
    pthread_cond_timedwait(&lg->cv, &lg->mu, &ts);
    return 0;
}

int logship_flush(logship_t *lg, int timeout_ms)
{
    if (!lg)
        return LOGSHIP_EINVAL;
    int err = check_gen(lg);
    if (err)
        return err;
    uint64_t target = atomic_load(&lg->q.head);
    if (atomic_load(&lg->done_pos) >= target)
        return 0;
    int64_t deadline = timeout_ms < 0 ? -1 : mono_ns() + (int64_t)timeout_ms * 1000000;
    atomic_fetch_add(&lg->flush_req, 1);
    sender_wake(lg);
    int rc = 0;
    pthread_mutex_lock(&lg->mu);
    while (atomic_load(&lg->done_pos) < target)
        if (wait_until(lg, deadline)) {
            rc = LOGSHIP_ETIMEDOUT;
            break;
        }
    pthread_mutex_unlock(&lg->mu);
    atomic_fetch_sub(&lg->flush_req, 1);
    return rc;
}

int logship_server_position(logship_t *lg, uint64_t *pos, int timeout_ms)
{
    if (!lg || !pos || !lg->position_mode)
        return LOGSHIP_EINVAL;
    int err = check_gen(lg);
    if (err)
        return err;
    int64_t deadline = timeout_ms < 0 ? -1 : mono_ns() + (int64_t)timeout_ms * 1000000;
    int rc = 0;
    sender_wake(lg);
    pthread_mutex_lock(&lg->mu);
    while (!lg->hello_seen)
        if (wait_until(lg, deadline)) {
            rc = LOGSHIP_ETIMEDOUT;
            break;
        }
    *pos = lg->server_pos;
    pthread_mutex_unlock(&lg->mu);
    return rc;
}

int logship_connect_status(logship_t *lg, int timeout_ms, char *why, size_t cap)
{
    if (!lg)
        return LOGSHIP_EINVAL;
    int err = check_gen(lg);
    if (err)
        return err;
    if (why && cap)
        why[0] = '\0';
    int64_t deadline = timeout_ms < 0 ? -1 : mono_ns() + (int64_t)timeout_ms * 1000000;
    int rc;
    pthread_mutex_lock(&lg->mu);
    while (lg->link == 0)
        if (wait_until(lg, deadline))
            break;
    if (lg->link > 0) {
        rc = 0;
    } else if (lg->link < 0) {
        rc = LOGSHIP_ECONNECT;
        if (why && cap)
            snprintf(why, cap, "%s", lg->link_why);
    } else {
        rc = LOGSHIP_ETIMEDOUT;
    }
    pthread_mutex_unlock(&lg->mu);
    return rc;
}

void logship_stats(logship_t *lg, logship_stats_t *st)
{
    memset(st, 0, sizeof *st);
    if (!lg)
        return;
    st->queued = atomic_load(&lg->n_queued);
    st->acked = atomic_load(&lg->n_acked);
    st->dropped_newest = atomic_load(&lg->n_drop_newest);
    st->dropped_oldest = atomic_load(&lg->n_drop_oldest);
    st->dropped_timeout = atomic_load(&lg->n_drop_timeout);
    st->dropped = st->dropped_newest + st->dropped_oldest + st->dropped_timeout;
    st->batches_acked = atomic_load(&lg->n_batches_acked);
    st->batches_duplicate = atomic_load(&lg->n_batches_dup);
    st->batches_resent = atomic_load(&lg->n_batches_resent);
    st->nacks = atomic_load(&lg->n_nacks);
    st->connects = atomic_load(&lg->n_connects);
    st->connect_failures = atomic_load(&lg->n_connect_failures);
    st->spooled_records = atomic_load(&lg->n_spooled);
    st->lost = atomic_load(&lg->n_lost);
    st->queue_used = queue_used(&lg->q);
    st->queue_capacity = lg->q.cap;
    st->spool_used = atomic_load(&lg->spool_used);
    st->connected = atomic_load(&lg->connected);
}

/* ---- open and close --------------------------------------------------- */

static char *dup_or(const char *s, const char *dflt)
{
    const char *v = s && *s ? s : dflt;
    return v ? strdup(v) : NULL;
}

/* "tcp://host:port", "tls://host:port" (*tls set), "host:port",
 * "[v6]:port". */
static int parse_url(const char *url, char **host, char **port, int *tls)
{
    if (!url)
        return -1;
    *tls = strncmp(url, "tls://", 6) == 0;
    if (strncmp(url, "tcp://", 6) == 0 || *tls)
        url += 6;
    else if (strstr(url, "://"))
        return -1;
    const char *colon, *hs = url, *he;
    if (*url == '[') {
        he = strchr(url, ']');
        if (!he || he[1] != ':')
            return -1;
        hs = url + 1;
        colon = he + 1;
    } else {
        colon = strrchr(url, ':');
        if (!colon)
            return -1;
        he = colon;
    }
    const char *ps = colon + 1;
    size_t pn = strcspn(ps, "/");
    if (he == hs || pn == 0 || pn > 5 || strspn(ps, "0123456789") != pn || atoi(ps) > 65535)
        return -1;
    *host = strndup(hs, (size_t)(he - hs));
    *port = strndup(ps, pn);
    return *host && *port ? 0 : -1;
}

/* hostname + pid + start time + random: unique per numbering sequence. */
static void make_producer_id(logship_t *lg)
{
    char host[25];
    size_t n = 0;
    for (const char *h = lg->hostname; h && *h && n < sizeof host - 1; h++) {
        char c = *h;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == '_';
        host[n++] = ok ? c : '_';
    }
    host[n] = '\0';
    uint32_t rnd;
    if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
        rnd = (uint32_t)mono_ns() * 2654435761u ^ (uint32_t)(uintptr_t)lg;
    snprintf(lg->own.id, sizeof lg->own.id, "%s-%ld-%llx-%08x", n ? host : "h", (long)getpid(),
             (unsigned long long)time(NULL), rnd);
    lg->own.next_no = 1;
}

/* The logger's own locks (queue_init makes the queue's). */
static void init_locks(logship_t *lg)
{
    pthread_mutex_init(&lg->mu, NULL);
    pthread_mutex_init(&lg->smu, NULL);
    cond_init_mono(&lg->cv);
}

static void atfork_prepare(void)
{
    pthread_mutex_lock(&g_mu);
    for (logship_t *lg = g_list; lg; lg = lg->list_next) {
        pthread_mutex_lock(&lg->smu);
        pthread_mutex_lock(&lg->mu);
        pthread_mutex_lock(&lg->q.tail_mu);
        pthread_mutex_lock(&lg->q.space_mu);
    }
}

static void atfork_parent(void)
{
    for (logship_t *lg = g_list; lg; lg = lg->list_next) {
        pthread_mutex_unlock(&lg->q.space_mu);
        pthread_mutex_unlock(&lg->q.tail_mu);
        pthread_mutex_unlock(&lg->mu);
        pthread_mutex_unlock(&lg->smu);
    }
    pthread_mutex_unlock(&g_mu);
}

static void atfork_child(void)
{
    /* the other threads are gone: fresh locks (their waiters do not exist
     * here), and the loggers restart at their next use */
    for (logship_t *lg = g_list; lg; lg = lg->list_next) {
        init_locks(lg);
        queue_init_locks(&lg->q);
    }
    atomic_fetch_add(&g_fork_gen, 1);
    pthread_mutex_init(&g_mu, NULL);
}

static void register_atfork(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static void free_opts(logship_t *lg)
{
    free(lg->host);
    free(lg->port);
    free(lg->app);
    free(lg->hostname);
    free(lg->topic);
    free(lg->pattern);
    free(lg->spool_dir);
    for (size_t i = 0; i < lg->nfields; i++) {
        free(lg->fkeys[i]);
        free(lg->fvals[i]);
    }
    free(lg->fkeys);
    free(lg->fvals);
}

static int copy_opts(logship_t *lg, const logship_opts_t *o)
{
    char hn[256] = "";
    if (!o->host || !*o->host)
        gethostname(hn, sizeof hn - 1);
    lg->app = dup_or(o->app, program_invocation_short_name);
    lg->hostname = dup_or(o->host, hn);
    lg->topic = o->topic && *o->topic ? strdup(o->topic) : NULL;
    lg->pattern = dup_or(o->pattern, "[%Y-%m-%d %H:%M:%S] [%L] %m");
    lg->spool_dir = o->spool_dir && *o->spool_dir ? strdup(o->spool_dir) : NULL;
    if (!lg->app || !lg->hostname || !lg->pattern || (o->topic && *o->topic && !lg->topic) ||
        (o->spool_dir && *o->spool_dir && !lg->spool_dir))
        return LOGSHIP_ENOMEM;
    if (o->nfields) {
        if (!o->fields)
            return LOGSHIP_EINVAL;
        lg->fkeys = calloc(o->nfields, sizeof *lg->fkeys);
        lg->fvals = calloc(o->nfields, sizeof *lg->fvals);
        if (!lg->fkeys || !lg->fvals)
            return LOGSHIP_ENOMEM;
        for (size_t i = 0; i < o->nfields; i++) {
            if (!o->fields[i].key || !o->fields[i].value)
                return LOGSHIP_EINVAL;
            lg->fkeys[i] = strdup(o->fields[i].key);
            lg->fvals[i] = strdup(o->fields[i].value);
            lg->nfields = i + 1;
            if (!lg->fkeys[i] || !lg->fvals[i])
                return LOGSHIP_ENOMEM;
        }
    }
    return 0;
}

#define DEFAULT(v, d) ((v) > 0 ? (v) : (d))

int logship_open_size(const char *url, const logship_opts_t *opts, size_t opts_size,
                      logship_t **out)
{
    logship_opts_t d, given;
    opts_defaults(&d);
    if (!out)
        return LOGSHIP_EINVAL;
    *out = NULL;
    const logship_opts_t *o = &d;
    if (opts) {
        if (opts_size < OPTS_SIZE_0_1)
            return LOGSHIP_EINVAL;
        /* members of a newer logship.h than ours must be unset */
        for (size_t i = sizeof given; i < opts_size; i++)
            if (((const unsigned char *)opts)[i])
                return LOGSHIP_EINVAL;
        given = d;
        memcpy(&given, opts, opts_size < sizeof given ? opts_size : sizeof given);
        o = &given;
    }
    if (o->overflow < LOGSHIP_DROP_NEWEST || o->overflow > LOGSHIP_BLOCK ||
        o->min_level > LOGSHIP_DEBUG || o->min_level < -1 || o->max_inflight > 15 ||
        (o->producer_id && (proto_id_check(o->producer_id) || o->spool_dir)))
        return LOGSHIP_EINVAL;
    logship_t *lg = calloc(1, sizeof *lg);
    if (!lg)
        return LOGSHIP_ENOMEM;
    lg->wake_fd = -1;
    int rc = LOGSHIP_EINVAL;
    spool_t *spool = NULL;
    int tls;
    if (parse_url(url, &lg->host, &lg->port, &tls))
        goto fail;
    if (!tls && (o->tls_ca_file || o->tls_cert_file || o->tls_key_file))
        goto fail; /* the files say TLS was meant: not silently in clear */
    if (tls) {
        tls_client_opts_t to = {o->tls_ca_file, o->tls_cert_file, o->tls_key_file};
        char why[256]; /* the library does not print: the code says it */
        rc = LOGSHIP_ETLS;
        if (!(lg->tls = tls_client_ctx_create(&to, why, sizeof why)))
            goto fail;
    }
    if ((rc = copy_opts(lg, o)))
        goto fail;
    lg->level_max = o->min_level < 0 ? LOGSHIP_DEBUG : o->min_level;
    lg->overflow = o->overflow;
    lg->block_timeout_ms = DEFAULT(o->block_timeout_ms, d.block_timeout_ms);
    lg->max_msg = DEFAULT(o->max_msg_bytes, d.max_msg_bytes);
    lg->echo = o->echo_stderr;
    lg->linger_ms = DEFAULT(o->linger_ms, d.linger_ms);
    lg->batch_bytes = DEFAULT(o->batch_bytes, d.batch_bytes);
    lg->batch_records = DEFAULT(o->batch_records, d.batch_records);
    if (lg->batch_records > 50000)
        lg->batch_records = 50000; /* the server takes 100000 */
    /* the server takes 8 MiB of record lines by default (--max-batch-bytes);
     * a batch passes batch_bytes by what one take() formats (its JSON
     * escapes can be several times the queued bytes): keep well below */
    if (lg->batch_bytes > (1u << 20))
        lg->batch_bytes = 1u << 20;
    lg->max_inflight = DEFAULT(o->max_inflight, d.max_inflight);
    lg->backoff_min_ms = DEFAULT(o->backoff_min_ms, d.backoff_min_ms);
    lg->backoff_max_ms = DEFAULT(o->backoff_max_ms, d.backoff_max_ms);
    if (lg->backoff_max_ms < lg->backoff_min_ms)
        lg->backoff_max_ms = lg->backoff_min_ms;
    lg->connect_timeout_ms = DEFAULT(o->connect_timeout_ms, d.connect_timeout_ms);
    lg->ack_timeout_ms = DEFAULT(o->ack_timeout_ms, d.ack_timeout_ms);
    lg->close_timeout_ms = o->close_timeout_ms < 0   ? -1
                           : o->close_timeout_ms > 0 ? o->close_timeout_ms
                                                     : d.close_timeout_ms;
    lg->spool_bytes = DEFAULT(o->spool_bytes, d.spool_bytes);
    lg->position_mode = o->producer_id != NULL;

    if (lg->position_mode) {
        snprintf(lg->own.id, sizeof lg->own.id, "%s", o->producer_id);
        lg->own.next_no = 1;
    } else {
        make_producer_id(lg);
    }
    rc = LOGSHIP_ENOMEM;
    if (queue_init(&lg->q, DEFAULT(o->queue_bytes, d.queue_bytes)))
        goto fail_q;
    lg->max_body = lg->q.cap / 4 < MAX_BODY ? lg->q.cap / 4 : MAX_BODY;
    if (format_ctx_init(&lg->fmt, lg->app, lg->hostname, lg->topic, (long)getpid(),
                        (const char *const *)lg->fkeys, (const char *const *)lg->fvals, lg->nfields,
                        lg->pattern))
        goto fail_fmt;
    init_locks(lg);
    if (lg->spool_dir && (rc = spool_open(&spool, lg->spool_dir, lg->spool_bytes, &lg->own)))
        goto fail_spool;
    if (spool)
        atomic_store(&lg->spool_room, spool_room(spool, lg->batch_bytes));
    pthread_once(&g_atfork_once, register_atfork);
    pthread_mutex_lock(&g_mu);
    atomic_store(&lg->fork_gen, atomic_load(&g_fork_gen));
    if ((rc = sender_start(lg, spool))) {
        pthread_mutex_unlock(&g_mu);
        spool_close(spool);
        sender_free(lg);
        goto fail_spool;
    }
    lg->list_next = g_list;
    g_list = lg;
    pthread_mutex_unlock(&g_mu);
    *out = lg;
    return 0;

fail_spool:
    if (lg->wake_fd >= 0)
        close(lg->wake_fd);
    pthread_mutex_destroy(&lg->mu);
    pthread_mutex_destroy(&lg->smu);
    pthread_cond_destroy(&lg->cv);
    format_ctx_free(&lg->fmt);
fail_fmt:
    queue_free(&lg->q);
fail_q:
fail:
    SSL_CTX_free(lg->tls);
    free_opts(lg);
    free(lg);
    return rc;
}

int(logship_open)(const char *url, const logship_opts_t *opts, logship_t **out)
{
    return logship_open_size(url, opts, OPTS_SIZE_0_1, out);
}

/* In a fork child, at the first use of a logger (see the top of the file). */
static int restart_child(logship_t *lg)
{
    int rc = 0;
    pthread_mutex_lock(&g_mu);
    unsigned gen = atomic_load(&g_fork_gen);
    if (atomic_load(&lg->fork_gen) == gen)
        goto out;
    /* the parent's: its thread does not exist here; its state is whole
     * (the prepare handler held smu) */
    lg->thread_started = 0;
    spool_t *sp = lg->s.spool;
    sender_free(lg);
    spool_abandon(sp);
    if (lg->wake_fd >= 0)
        close(lg->wake_fd);
    lg->wake_fd = -1;
    if (queue_reset(&lg->q)) {
        rc = LOGSHIP_ENOMEM;
        goto out;
    }
    format_ctx_free(&lg->fmt);
    if (format_ctx_init(&lg->fmt, lg->app, lg->hostname, lg->topic, (long)getpid(),
                        (const char *const *)lg->fkeys, (const char *const *)lg->fvals, lg->nfields,
                        lg->pattern)) {
        rc = LOGSHIP_ENOMEM;
        goto out;
    }
    if (!lg->position_mode)
        make_producer_id(lg);
    else
        lg->own.next_no = 1;
    atomic_store(&lg->done_pos, 0);
    atomic_store(&lg->flush_req, 0);
    atomic_store(&lg->stop, 0);
    lg->running = 0;
    lg->hello_seen = 0;
    lg->server_pos = 0;
    lg->link = 0;
    lg->link_why[0] = '\0';
    atomic_store(&lg->n_queued, 0);
    atomic_store(&lg->n_acked, 0);
    atomic_store(&lg->n_drop_newest, 0);
    atomic_store(&lg->n_drop_oldest, 0);
    atomic_store(&lg->n_drop_timeout, 0);
    atomic_store(&lg->n_batches_acked, 0);
    atomic_store(&lg->n_batches_dup, 0);
    atomic_store(&lg->n_batches_resent, 0);
    atomic_store(&lg->n_nacks, 0);
    atomic_store(&lg->n_connects, 0);
    atomic_store(&lg->n_connect_failures, 0);
    atomic_store(&lg->n_spooled, 0);
    atomic_store(&lg->n_lost, 0);
    atomic_store(&lg->spool_used, 0);
    atomic_store(&lg->spool_room, 0);
    atomic_store(&lg->connected, 0);
    if ((rc = sender_start(lg, NULL)))
        goto out;
    atomic_store_explicit(&lg->fork_gen, gen, memory_order_release);
out:
    pthread_mutex_unlock(&g_mu);
    return rc;
}

int logship_close(logship_t *lg)
{
    if (!lg)
        return 0;
    int rc = check_gen(lg);
    if (rc == 0) {
        logship_flush(lg, lg->close_timeout_ms);
        sender_stop(lg);
        rc = atomic_load(&lg->n_lost) ? LOGSHIP_ETIMEDOUT : 0;
    }
    pthread_mutex_lock(&g_mu);
    for (logship_t **pp = &g_list; *pp; pp = &(*pp)->list_next)
        if (*pp == lg) {
            *pp = lg->list_next;
            break;
        }
    pthread_mutex_unlock(&g_mu);
    spool_t *sp = lg->s.spool;
    sender_free(lg);
    spool_close(sp);
    if (lg->wake_fd >= 0)
        close(lg->wake_fd);
    format_ctx_free(&lg->fmt);
    queue_free(&lg->q);
    pthread_mutex_destroy(&lg->mu);
    pthread_mutex_destroy(&lg->smu);
    pthread_cond_destroy(&lg->cv);
    SSL_CTX_free(lg->tls);
    free_opts(lg);
    free(lg);
    return rc;
}
