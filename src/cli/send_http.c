/* send_http.c - `logship send` over http:// or https://: see send_http.h.
 *
 * The pending batch is NDJSON text in one buffer. Posting it is one
 * blocking request at a time on a kept connection: the input waits
 * meanwhile (a pipe fills and its writer waits too), which is the
 * backpressure a command-line sender should give.
 */
#include "send_http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "../common/json_write.h"
#include "../common/level.h"
#include "../common/timeutil.h"
#include "cli.h"
#include "http_post.h"

#define BATCH_RECORDS 2000
#define BATCH_BYTES   (256 * 1024)
#define LINGER_MS     100
#define RETRY_MIN_MS  100
#define RETRY_MAX_MS  2000

struct send_http {
    hpost_t conn;
    int timeout_ms;
    char producer[65];
    unsigned long long next_batch;
    buf_t tail;    /* ,"topic":..,"app":..,"host":..,"pid":N of every record */
    buf_t fields;  /* ,"fields":{...} of every record, or empty */
    buf_t body;    /* the pending batch */
    size_t count;  /* its records */
    int64_t first; /* when its first record came (monotonic ns) */
    buf_t reply;
    int failed;
    char err[512];
};

static void fail(send_http_t *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(send_http_t *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->err, sizeof h->err, fmt, ap);
    va_end(ap);
    h->failed = 1;
}

/* host-pid-time-random, in the producer id alphabet (no spaces). */
static void make_producer(send_http_t *h, const char *host)
{
    char hn[25];
    size_t n = 0;
    for (const char *p = host; p && *p && n < sizeof hn - 1; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == '_';
        hn[n++] = ok ? c : '_';
    }
    hn[n] = '\0';
    unsigned r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (unsigned)time_mono_ns() * 2654435761u;
    snprintf(h->producer, sizeof h->producer, "send-%s-%ld-%llx-%08x", n ? hn : "h", (long)getpid(),
             (unsigned long long)time(NULL), r);
}

send_http_t *send_http_open(const send_http_opts_t *o, int *usage, char *err, size_t errlen)
{
    *usage = 0;
    send_http_t *h = xcalloc(1, sizeof *h);
    if (hpost_init(&h->conn, o->url, "/api/log", o->tls, err, errlen)) {
        *usage = 1;
        free(h);
        return NULL;
    }
    h->timeout_ms = o->timeout_ms;
    h->next_batch = 1;
    char hostname[256] = "";
    const char *host = o->host;
    if (!host || !*host) {
        gethostname(hostname, sizeof hostname - 1);
        host = hostname;
    }
    make_producer(h, host);
    if (o->topic && *o->topic) {
        buf_puts(&h->tail, ",\"topic\":");
        json_str(&h->tail, o->topic, strlen(o->topic));
    }
    if (o->app && *o->app) {
        buf_puts(&h->tail, ",\"app\":");
        json_str(&h->tail, o->app, strlen(o->app));
    }
    if (*host) {
        buf_puts(&h->tail, ",\"host\":");
        json_str(&h->tail, host, strlen(host));
    }
    buf_puts(&h->tail, ",\"pid\":");
    buf_append_i64(&h->tail, (int64_t)getpid());
    for (size_t i = 0; i < o->nfields; i++) {
        buf_puts(&h->fields, i ? "," : ",\"fields\":{");
        json_str(&h->fields, o->fields[i].key, strlen(o->fields[i].key));
        buf_putc(&h->fields, ':');
        json_str(&h->fields, o->fields[i].value, strlen(o->fields[i].value));
    }
    if (o->nfields)
        buf_putc(&h->fields, '}');
    /* is anybody there? (a refused connection is known at once) */
    int64_t deadline =
        time_mono_ns() +
        (int64_t)(o->timeout_ms > 0 && o->timeout_ms < 5000 ? o->timeout_ms : 5000) * NS_PER_MS;
    if (hpost_connect(&h->conn, deadline, err, errlen)) {
        send_http_close(h);
        return NULL;
    }
    return h;
}

/* Where the value of the first member "name" of a JSON reply starts, or
 * NULL. logshipd's replies are small objects of its own making, the
 * first "error" of one is the reason: no parser needed. */
static const char *reply_value(buf_t *r, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "\"%s\"", name);
    const char *p = strstr(buf_cstr(r), key);
    if (!p)
        return NULL;
    p += strlen(key);
    p += strspn(p, " \t\r\n");
    if (*p != ':')
        return NULL;
    p++;
    return p + strspn(p, " \t\r\n");
}

/* "name":<number> of a reply; -1 when absent. */
static long long reply_number(buf_t *r, const char *name)
{
    const char *p = reply_value(r, name);
    return p ? strtoll(p, NULL, 10) : -1;
}

/* The first "error" text of a reply, printable ASCII only, for a message. */
static void reply_error(buf_t *r, char *out, size_t cap)
{
    const char *p = reply_value(r, "error");
    out[0] = '\0';
    if (!p || *p != '"')
        return;
    p++;
    size_t i = 0;
    while (*p && *p != '"' && i + 1 < cap) {
        if (*p == '\\' && p[1])
            p++;
        out[i++] = (unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f ? '?' : *p;
        p++;
    }
    out[i] = '\0';
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

int send_http_flush(send_http_t *h)
{
    if (h->failed)
        return -1;
    if (!h->count)
        return 0;
    char hdr[160 + 16 + 8 + 256];
    const char *auth = cli_authorization();
    int hn = snprintf(hdr, sizeof hdr, "Logship-Producer: %s\r\nLogship-Batch: %llu\r\n",
                      h->producer, h->next_batch);
    if (auth && hn > 0 && (size_t)hn + strlen(auth) + 17 < sizeof hdr)
        snprintf(hdr + hn, sizeof hdr - (size_t)hn, "Authorization: %s\r\n", auth);
    int64_t start = time_mono_ns();
    int64_t deadline = h->timeout_ms > 0 ? start + (int64_t)h->timeout_ms * NS_PER_MS : -1;
    int wait = RETRY_MIN_MS;
    char why[512] = "";
    for (;;) {
        int status = 0;
        int rc = hpost_request(&h->conn, "application/x-ndjson", hdr, h->body.data, h->body.len,
                               deadline, &status, &h->reply, why, sizeof why);
        if (rc == HPOST_EREFUSED) {
            fail(h, "%s", why); /* another try would be refused too */
            return -1;
        }
        if (rc == HPOST_OK && status == 200) {
            long long rejected = reply_number(&h->reply, "rejected_count");
            if (rejected > 0) {
                char msg[300];
                reply_error(&h->reply, msg, sizeof msg);
                fail(h, "the server refused %lld of %zu records%s%s", rejected, h->count,
                     *msg ? ": " : "", msg);
                return -1;
            }
            break;
        }
        if (rc == HPOST_OK && status != 503) {
            char msg[300];
            reply_error(&h->reply, msg, sizeof msg);
            fail(h, "%s answered HTTP %d%s%s", h->conn.url.authority, status, *msg ? ": " : "",
                 msg);
            return -1;
        }
        if (rc == HPOST_OK) {
            char msg[300];
            reply_error(&h->reply, msg, sizeof msg);
            snprintf(why, sizeof why, "HTTP 503%s%s", *msg ? ": " : "", msg);
        }
        /* worth another try, with the same batch number */
        int64_t now = time_mono_ns();
        if (deadline >= 0 && now + (int64_t)wait * NS_PER_MS >= deadline) {
            fail(h, "not stored by the server in %d ms: %s", h->timeout_ms, why);
            return -1;
        }
        nap_ms(wait);
        wait = wait * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : wait * 2;
    }
    h->next_batch++;
    h->count = 0;
    buf_reset(&h->body);
    buf_shrink(&h->body, 2 * BATCH_BYTES);
    return 0;
}

int send_http_add(send_http_t *h, int level, const char *msg, size_t n)
{
    if (h->failed)
        return -1;
    if (!h->count)
        h->first = time_mono_ns();
    buf_t *b = &h->body;
    buf_puts(b, "{\"ts\":");
    buf_append_i64(b, time_now_ns());
    buf_puts(b, ",\"level\":\"");
    buf_puts(b, level_name(level));
    buf_puts(b, "\",\"msg\":");
    json_str(b, msg, n);
    buf_append(b, h->tail.data, h->tail.len);
    buf_append(b, h->fields.data, h->fields.len);
    buf_puts(b, "}\n");
    h->count++;
    if (h->count >= BATCH_RECORDS || b->len >= BATCH_BYTES)
        return send_http_flush(h);
    return 0;
}

int send_http_idle_ms(const send_http_t *h)
{
    if (!h->count)
        return -1;
    int64_t due = h->first + (int64_t)LINGER_MS * NS_PER_MS - time_mono_ns();
    return due <= 0 ? 0 : (int)((due + NS_PER_MS - 1) / NS_PER_MS);
}

const char *send_http_error(const send_http_t *h)
{
    return h->err;
}

void send_http_close(send_http_t *h)
{
    if (!h)
        return;
    hpost_free(&h->conn);
    buf_free(&h->tail);
    buf_free(&h->fields);
    buf_free(&h->body);
    buf_free(&h->reply);
    free(h);
}
