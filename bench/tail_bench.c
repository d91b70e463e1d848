/* tail_bench.c - live tail benchmark: N WebSocket subscribers on
 * /api/tail?n=0 read by one epoll thread, while a sender thread POSTs paced
 * NDJSON batches to /api/log on one keep-alive connection. Measures the
 * end-to-end latency (POST sent -> record received by a subscriber) and the
 * records/s every subscriber receives. Used by bench/tail_latency.sh.
 *
 * Every record carries "ts": the wall-clock time (epoch ns) its batch's POST
 * was written; the server echoes it as RFC 3339 with nanoseconds, so a
 * subscriber's latency is receive time - ts, with no shared state between
 * the threads. Subscribers 0 and N-1 are timed for every record (the hub
 * serves subscribers in turn, so the first and the last one bracket the
 * fan-out); every subscriber counts its records ("seq": in each array
 * message; JSON objects are status messages, counted apart).
 *
 * Pacing: every --batch-ms the sender POSTs the records due by then
 * (rate x elapsed - sent), waiting for each reply before the next POST; a
 * sender held up by a slow reply catches up with bigger batches, capped like
 * liblogship's (5,000 records or 256 KiB). The measured window is --duration
 * seconds after --warmup; the rates count what arrived inside it. After the
 * last POST the subscribers get up to --drain seconds to receive the rest.
 * "ok" in the result: the target rate was sent, every subscriber received at
 * least 97% of it inside the window and everything by the end of the drain,
 * and no POST failed and no connection dropped.
 *
 * Usage: tail_bench [--host H] [--port P] [--subs N] [--rate R] [--duration S]
 *                   [--warmup S] [--drain S] [--batch-ms MS] [--msg-size B]
 * Prints one JSON object on stdout and a summary line on stderr.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_SEC 1000000000LL
#define RBUF       (256 * 1024)
#define MAX_BATCH  5000         /* records, and ...                      */
#define MAX_BODY   (256 * 1024) /* ... bytes: liblogship's batch defaults */

static const char PAT[] = "\"seq\":";
#define PATLEN 6

/* ---- options --------------------------------------------------------------- */

static const char *host = "127.0.0.1";
static int port = 8080;
static int nsubs = 1;
static double rate = 50000;
static double duration = 10, warmup = 1, drain_max = 5;
static double batch_ms = 1;
static size_t msg_size = 64;

/* ---- time -------------------------------------------------------------------- */

static int64_t now_real(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char *s, int n, int64_t *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

/* "2026-11-21T10:45:56.123456789Z" (fraction optional, 1..9 digits) to epoch
 * ns; -1 when s does not look like that. n is the bytes available. */
static int parse_rfc3339(const char *s, size_t n, int64_t *out)
{
    int64_t Y, M, D, h, mi, sec, frac = 0;
    if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        digits(s, 4, &Y) || digits(s + 5, 2, &M) || digits(s + 8, 2, &D) || digits(s + 11, 2, &h) ||
        digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec))
        return -1;
    size_t i = 19;
    if (s[i] == '.') {
        int64_t scale = NS_PER_SEC / 10;
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
            frac += (s[i] - '0') * scale;
    }
    if (i >= n || s[i] != 'Z')
        return -1;
    *out = (days_from_civil(Y, M, D) * 86400 + h * 3600 + mi * 60 + sec) * NS_PER_SEC + frac;
    return 0;
}

/* ---- subscribers ------------------------------------------------------------- */

typedef struct sample {
    int64_t ts, recv;
} sample_t;

typedef struct samples {
    sample_t *v;
    size_t n, cap;
} samples_t;

typedef struct conn {
    int fd, idx, closed;
    unsigned char hdr[14];
    size_t hlen, hneed;
    uint64_t plen, pgot;
    int opcode, fin;
    int kind;                   /* of the message being read: '[' records, '{' status, 0 unknown */
    int in_msg;                 /* a text message is being read (maybe over several frames) */
    unsigned char tail[PATLEN]; /* last bytes of the message, for a match across reads */
    size_t tlen;
    unsigned char ctl[128]; /* a control frame's payload */
    size_t ctllen;
    uint64_t records, status_msgs, msgs, bytes;
    uint64_t rec_ws, rec_we; /* records at the window's start and end */
    uint64_t bytes_ws, bytes_we;
    int timed; /* keep the whole message: its records are timed */
    char *msg;
    size_t msglen, msgcap;
    samples_t lat;
} conn_t;

static conn_t *conns;
static int dropped;
static uint64_t pings;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static int tcp_connect(void)
{
    char ps[16];
    struct addrinfo hints = {0}, *ai;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(ps, sizeof ps, "%d", port);
    if (getaddrinfo(host, ps, &hints, &ai))
        return -1;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen)) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static void b64(const unsigned char *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

static void feed(conn_t *c, const unsigned char *p, size_t n, int64_t t);

/* Opens subscriber c: TCP, the upgrade request, the 101. -1 on failure. */
static int ws_open(conn_t *c)
{
    unsigned char key[16];
    char key64[32], req[512], resp[4096];
    for (int i = 0; i < 16; i++)
        key[i] = (unsigned char)(rand() & 0xff);
    b64(key, 16, key64);
    c->fd = tcp_connect();
    if (c->fd < 0)
        return -1;
    int n = snprintf(req, sizeof req,
                     "GET /api/tail?n=0 HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     host, port, key64);
    if (write_all(c->fd, req, (size_t)n))
        return -1;
    size_t got = 0;
    char *end = NULL;
    while (!end) {
        if (got == sizeof resp - 1)
            return -1;
        ssize_t r = read(c->fd, resp + got, sizeof resp - 1 - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
        resp[got] = '\0';
        end = strstr(resp, "\r\n\r\n");
    }
    if (strncmp(resp, "HTTP/1.1 101", 12) != 0) {
        fprintf(stderr, "subscriber %d: no upgrade: %.*s\n", c->idx, (int)(end - resp), resp);
        return -1;
    }
    c->hneed = 2;
    end += 4;
    if ((size_t)(end - resp) < got) /* frames right behind the 101 */
        feed(c, (unsigned char *)end, got - (size_t)(end - resp), now_real());
    return 0;
}

static void send_ctl(conn_t *c, int opcode, const unsigned char *p, size_t n)
{
    unsigned char f[2 + 4 + 125];
    uint32_t m = (uint32_t)rand();
    if (n > 125)
        n = 125;
    f[0] = (unsigned char)(0x80 | opcode);
    f[1] = (unsigned char)(0x80 | n);
    memcpy(f + 2, &m, 4);
    for (size_t i = 0; i < n; i++)
        f[6 + i] = p[i] ^ f[2 + (i & 3)];
    /* a few bytes on a socket we never otherwise write to: it takes them */
    if (write(c->fd, f, 6 + n) != (ssize_t)(6 + n))
        fprintf(stderr, "subscriber %d: short control write\n", c->idx);
}

static void drop(conn_t *c, const char *why)
{
    if (c->closed)
        return;
    fprintf(stderr, "subscriber %d dropped: %s\n", c->idx, why);
    c->closed = 1;
    dropped++;
    close(c->fd);
}

static void sample_add(samples_t *s, int64_t ts, int64_t recv)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 65536;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v)
            die("realloc");
    }
    s->v[s->n++] = (sample_t){ts, recv};
}

/* A timed subscriber's whole message arrived at t: one sample per record. */
static void time_message(conn_t *c, int64_t t)
{
    const char *p = c->msg, *end = c->msg + c->msglen;
    while ((p = memmem(p, (size_t)(end - p), PAT, PATLEN)) != NULL) {
        p += PATLEN;
        const char *q = memmem(p, (size_t)(end - p) < 64 ? (size_t)(end - p) : 64, "\"ts\":\"", 6);
        int64_t ts;
        if (q && parse_rfc3339(q + 6, (size_t)(end - q - 6), &ts) == 0)
            sample_add(&c->lat, ts, t);
    }
}

/* Counts "seq": in the next chunk of a records message, including a match
 * that began in the previous chunk. */
static void count_chunk(conn_t *c, const unsigned char *p, size_t n)
{
    if (c->tlen) {
        /* the kept tail is the longest suffix that is a prefix of PAT: a
         * match across the boundary starts inside it */
        unsigned char tmp[2 * PATLEN];
        size_t k = n < PATLEN ? n : PATLEN;
        memcpy(tmp, c->tail, c->tlen);
        memcpy(tmp + c->tlen, p, k);
        for (size_t s = 0; s < c->tlen; s++)
            if (s + PATLEN <= c->tlen + k && memcmp(tmp + s, PAT, PATLEN) == 0)
                c->records++;
        if (n < PATLEN) {
            /* a tiny chunk: the new tail comes from both */
            size_t tot = c->tlen + k;
            c->tlen = 0;
            for (size_t l = tot < PATLEN - 1 ? tot : PATLEN - 1; l > 0; l--)
                if (memcmp(tmp + tot - l, PAT, l) == 0) {
                    memcpy(c->tail, tmp + tot - l, l);
                    c->tlen = l;
                    break;
                }
            return;
        }
    }
    const unsigned char *q = p, *end = p + n;
    while ((q = memmem(q, (size_t)(end - q), PAT, PATLEN)) != NULL) {
        c->records++;
        q += PATLEN;
    }
    c->tlen = 0;
    for (size_t l = n < PATLEN - 1 ? n : PATLEN - 1; l > 0; l--)
        if (memcmp(end - l, PAT, l) == 0) {
            memcpy(c->tail, end - l, l);
            c->tlen = l;
            break;
        }
}

static void payload(conn_t *c, const unsigned char *p, size_t n, int64_t t)
{
    if (c->opcode >= 8) {
        size_t k = n < sizeof c->ctl - c->ctllen ? n : sizeof c->ctl - c->ctllen;
        memcpy(c->ctl + c->ctllen, p, k);
        c->ctllen += k;
        return;
    }
    if (!c->in_msg)
        return; /* a stray continuation */
    if (!c->kind && n) {
        c->kind = p[0];
        if (c->kind == '[')
            c->msgs++;
        else
            c->status_msgs++;
    }
    c->bytes += n;
    if (c->kind == '[')
        count_chunk(c, p, n);
    if (c->timed && c->kind == '[') {
        if (c->msglen + n > c->msgcap) {
            c->msgcap = (c->msglen + n) * 2;
            c->msg = realloc(c->msg, c->msgcap);
            if (!c->msg)
                die("realloc");
        }
        memcpy(c->msg + c->msglen, p, n);
        c->msglen += n;
    }
    (void)t;
}

static void frame_done(conn_t *c, int64_t t)
{
    switch (c->opcode) {
    case 0x9: /* ping: answer, or the server hangs up after --ws-timeout */
        pings++;
        send_ctl(c, 0xA, c->ctl, c->ctllen);
        break;
    case 0x8:
        send_ctl(c, 0x8, c->ctl, c->ctllen < 2 ? c->ctllen : 2);
        drop(c, "close frame from the server");
        return;
    case 0xA:
        break;
    default:
        if (c->fin && c->in_msg) {
            if (c->timed && c->kind == '[')
                time_message(c, t);
            c->in_msg = 0;
            c->kind = 0;
            c->tlen = 0;
            c->msglen = 0;
        }
    }
    c->ctllen = 0;
}

/* Bytes from subscriber c's socket, read at time t. */
static void feed(conn_t *c, const unsigned char *p, size_t n, int64_t t)
{
    while (n && !c->closed) {
        if (c->hlen < c->hneed) {
            size_t k = c->hneed - c->hlen < n ? c->hneed - c->hlen : n;
            memcpy(c->hdr + c->hlen, p, k);
            c->hlen += k;
            p += k;
            n -= k;
            if (c->hlen < c->hneed)
                return;
            if (c->hneed == 2) {
                /* first two bytes known: how long is the header? */
                unsigned l7 = c->hdr[1] & 0x7f;
                c->hneed += l7 == 126 ? 2 : l7 == 127 ? 8 : 0;
                c->hneed += c->hdr[1] & 0x80 ? 4 : 0;
                if (c->hneed > 2)
                    continue;
            }
            c->fin = c->hdr[0] >> 7;
            c->opcode = c->hdr[0] & 0x0f;
            unsigned l7 = c->hdr[1] & 0x7f;
            if (c->hdr[1] & 0x80) {
                drop(c, "masked frame from the server");
                return;
            }
            if (l7 == 126) {
                c->plen = (uint64_t)c->hdr[2] << 8 | c->hdr[3];
            } else if (l7 == 127) {
                c->plen = 0;
                for (int i = 0; i < 8; i++)
                    c->plen = c->plen << 8 | c->hdr[2 + i];
            } else {
                c->plen = l7;
            }
            c->pgot = 0;
            if (c->opcode == 0x1) {
                c->in_msg = 1;
                c->kind = 0;
                c->tlen = 0;
                c->msglen = 0;
            }
            if (c->plen == 0) {
                frame_done(c, t);
                c->hlen = 0;
                c->hneed = 2;
            }
            continue;
        }
        uint64_t left = c->plen - c->pgot;
        size_t k = left < n ? (size_t)left : n;
        payload(c, p, k, t);
        c->pgot += k;
        p += k;
        n -= k;
        if (c->pgot == c->plen) {
            frame_done(c, t);
            c->hlen = 0;
            c->hneed = 2;
        }
    }
}

/* ---- the sender ------------------------------------------------------------ */

typedef struct sender {
    int fd;
    int64_t start, stop; /* wall clock of the first and after the last send */
    uint64_t sent, accepted, batches, errors;
    int64_t *ack; /* per batch: POST written -> reply read, ns */
    size_t nack, capack;
    volatile int done;
    char rbuf[8192];
    size_t rlen;
} sender_t;

static sender_t snd;

/* Reads one HTTP reply; its status, and "accepted" into *acc. */
static int read_reply(sender_t *s, uint64_t *acc)
{
    for (;;) {
        char *he = memmem(s->rbuf, s->rlen, "\r\n\r\n", 4);
        if (he) {
            size_t hl = (size_t)(he - s->rbuf) + 4, cl = 0;
            char *p = memmem(s->rbuf, hl, "content-length:", 15);
            if (!p)
                p = memmem(s->rbuf, hl, "Content-Length:", 15);
            if (p)
                cl = strtoul(p + 15, NULL, 10);
            if (s->rlen >= hl + cl) {
                int status = atoi(s->rbuf + 9);
                char *a = memmem(s->rbuf + hl, cl, "\"accepted\":", 11);
                *acc = a ? strtoull(a + 11, NULL, 10) : 0;
                memmove(s->rbuf, s->rbuf + hl + cl, s->rlen - hl - cl);
                s->rlen -= hl + cl;
                return status;
            }
        }
        if (s->rlen == sizeof s->rbuf)
            return -1;
        ssize_t r = read(s->fd, s->rbuf + s->rlen, sizeof s->rbuf - s->rlen);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        s->rlen += (size_t)r;
    }
}

static void *sender_main(void *arg)
{
    sender_t *s = arg;
    size_t line_max = 96 + msg_size;
    char *req = malloc(256 + (size_t)MAX_BATCH * line_max);
    char pad[4096];
    if (!req)
        die("malloc");
    memset(pad, 'x', sizeof pad);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    int64_t mono0 = (int64_t)next.tv_sec * NS_PER_SEC + next.tv_nsec;
    int64_t step = (int64_t)(batch_ms * 1e6), total = (int64_t)((warmup + duration) * 1e9);
    __atomic_store_n(&s->start, now_real(), __ATOMIC_RELEASE);
    for (;;) {
        struct timespec m;
        clock_gettime(CLOCK_MONOTONIC, &m);
        int64_t mono = (int64_t)m.tv_sec * NS_PER_SEC + m.tv_nsec - mono0;
        if (mono >= total)
            break;
        /* records due by now: a late sender catches up with a bigger batch */
        uint64_t due = (uint64_t)((double)mono * rate / 1e9) + 1;
        uint64_t k = due > s->sent ? due - s->sent : 0;
        if (k > MAX_BATCH)
            k = MAX_BATCH;
        if (k > MAX_BODY / line_max)
            k = MAX_BODY / line_max;
        if (k) {
            int64_t ts = now_real();
            char *body = req + 256;
            size_t bl = 0;
            for (uint64_t i = 0; i < k; i++) {
                int w = snprintf(body + bl, line_max, "{\"ts\":%lld,\"app\":\"bench\",\"msg\":\"",
                                 (long long)ts);
                bl += (size_t)w;
                w = snprintf(body + bl, line_max, "tail %010llu ",
                             (unsigned long long)(s->sent + i));
                bl += (size_t)w;
                size_t padn = msg_size > (size_t)w ? msg_size - (size_t)w : 0;
                memcpy(body + bl, pad, padn);
                bl += padn;
                memcpy(body + bl, "\"}\n", 3);
                bl += 3;
            }
            char hdr[256];
            int hn = snprintf(hdr, sizeof hdr,
                              "POST /api/log HTTP/1.1\r\nHost: %s:%d\r\n"
                              "Content-Type: application/x-ndjson\r\nContent-Length: %zu\r\n\r\n",
                              host, port, bl);
            memcpy(body - hn, hdr, (size_t)hn);
            if (write_all(s->fd, body - hn, (size_t)hn + bl))
                die("POST");
            uint64_t acc = 0;
            int status = read_reply(s, &acc);
            int64_t back = now_real();
            if (status < 0)
                die("reading the POST reply");
            if (status != 200)
                s->errors++;
            s->sent += k;
            s->accepted += acc;
            s->batches++;
            if (s->nack == s->capack) {
                s->capack = s->capack ? s->capack * 2 : 16384;
                s->ack = realloc(s->ack, s->capack * sizeof *s->ack);
                if (!s->ack)
                    die("realloc");
            }
            s->ack[s->nack++] = back - ts;
        }
        /* the next tick, absolute: a late tick does not push the others */
        next.tv_nsec += step;
        while (next.tv_nsec >= NS_PER_SEC) {
            next.tv_nsec -= NS_PER_SEC;
            next.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    s->stop = now_real();
    free(req);
    __atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* ---- results ---------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double pct(const int64_t *v, size_t n, double p)
{
    if (!n)
        return -1;
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return (double)v[i < n ? i : n - 1] / 1e3; /* us */
}

typedef struct latstats {
    size_t n;
    double p50, p99, p999, max;
} latstats_t;

/* Latency of the records sent inside the window [from, to). */
static latstats_t lat_of(const samples_t *s, int64_t from, int64_t to)
{
    latstats_t st = {0, -1, -1, -1, -1};
    int64_t *v = malloc((s->n + 1) * sizeof *v);
    if (!v)
        die("malloc");
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].ts >= from && s->v[i].ts < to)
            v[st.n++] = s->v[i].recv - s->v[i].ts;
    qsort(v, st.n, sizeof *v, cmp_i64);
    st.p50 = pct(v, st.n, 50);
    st.p99 = pct(v, st.n, 99);
    st.p999 = pct(v, st.n, 99.9);
    st.max = st.n ? (double)v[st.n - 1] / 1e3 : -1;
    free(v);
    return st;
}

static double cpu_self(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--host H] [--port P] [--subs N] [--rate R] [--duration S]\n"
            "          [--warmup S] [--drain S] [--batch-ms MS] [--msg-size B]\n",
            argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i += 2) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage(argv[0]);
        if (!strcmp(o, "--host"))
            host = v;
        else if (!strcmp(o, "--port"))
            port = atoi(v);
        else if (!strcmp(o, "--subs"))
            nsubs = atoi(v);
        else if (!strcmp(o, "--rate"))
            rate = atof(v);
        else if (!strcmp(o, "--duration"))
            duration = atof(v);
        else if (!strcmp(o, "--warmup"))
            warmup = atof(v);
        else if (!strcmp(o, "--drain"))
            drain_max = atof(v);
        else if (!strcmp(o, "--batch-ms"))
            batch_ms = atof(v);
        else if (!strcmp(o, "--msg-size"))
            msg_size = (size_t)atol(v);
        else
            usage(argv[0]);
    }
    if (nsubs < 1 || rate < 0 || duration <= 0 || batch_ms <= 0 || msg_size < 16 || msg_size > 4096)
        usage(argv[0]);

    /* a thousand sockets need more than the usual soft limit of 1024 */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    srand((unsigned)now_real());

    conns = calloc((size_t)nsubs, sizeof *conns);
    if (!conns)
        die("calloc");
    int ep = epoll_create1(0);
    if (ep < 0)
        die("epoll_create1");
    for (int i = 0; i < nsubs; i++) {
        conn_t *c = &conns[i];
        c->idx = i;
        c->timed = i == 0 || i == nsubs - 1;
        if (ws_open(c)) {
            fprintf(stderr, "subscriber %d: cannot connect: %s\n", i, strerror(errno));
            return 1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev))
            die("epoll_ctl");
    }
    /* every subscription is in place once its 101 arrived; a moment more
     * for good measure before the first record */
    usleep(200 * 1000);

    snd.fd = tcp_connect();
    if (snd.fd < 0)
        die("connect (sender)");
    double cpu0 = cpu_self();
    pthread_t th;
    if (rate > 0) {
        if (pthread_create(&th, NULL, sender_main, &snd))
            die("pthread_create");
    } else {
        snd.start = now_real();
    }
    while (!__atomic_load_n(&snd.start, __ATOMIC_ACQUIRE))
        usleep(100);
    int64_t ws = snd.start + (int64_t)(warmup * 1e9), we = ws + (int64_t)(duration * 1e9);
    int window = 0; /* 0 before, 1 inside, 2 after */
    int64_t drain_start = 0, drained_at = 0;

    unsigned char *buf = malloc(RBUF);
    struct epoll_event evs[256];
    if (!buf)
        die("malloc");
    for (;;) {
        int n = epoll_wait(ep, evs, 256, 5);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            ssize_t r = read(c->fd, buf, RBUF);
            int64_t t = now_real();
            if (r > 0)
                feed(c, buf, (size_t)r, t);
            else if (r == 0)
                drop(c, "closed by the server");
            else if (errno != EAGAIN && errno != EINTR)
                drop(c, strerror(errno));
        }
        int64_t t = now_real();
        if (window == 0 && t >= ws) {
            for (int i = 0; i < nsubs; i++) {
                conns[i].rec_ws = conns[i].records;
                conns[i].bytes_ws = conns[i].bytes;
            }
            window = 1;
        }
        if (window == 1 && t >= we) {
            for (int i = 0; i < nsubs; i++) {
                conns[i].rec_we = conns[i].records;
                conns[i].bytes_we = conns[i].bytes;
            }
            window = 2;
        }
        if (rate == 0) {
            if (window == 2)
                break;
            continue;
        }
        if (!__atomic_load_n(&snd.done, __ATOMIC_ACQUIRE))
            continue;
        if (!drain_start)
            drain_start = t;
        /* everything accepted has reached every open subscriber */
        int all = 1;
        for (int i = 0; i < nsubs && all; i++)
            if (!conns[i].closed && conns[i].records < snd.accepted)
                all = 0;
        if (all && !drained_at)
            drained_at = t;
        if (window == 2 && (drained_at || t - drain_start >= (int64_t)(drain_max * 1e9)))
            break;
    }
    if (rate > 0)
        pthread_join(th, NULL);
    double cpu = cpu_self() - cpu0;

    /* per-subscriber delivery inside the measured window */
    double secs = duration, rmin = -1, rmax = 0, rsum = 0;
    uint64_t status_msgs = 0, msgs = 0, complete = 0, bytes = 0, records = 0, wbytes = 0;
    for (int i = 0; i < nsubs; i++) {
        conn_t *c = &conns[i];
        double r = (double)(c->rec_we - c->rec_ws) / secs;
        if (rmin < 0 || r < rmin)
            rmin = r;
        if (r > rmax)
            rmax = r;
        rsum += r;
        status_msgs += c->status_msgs;
        msgs += c->msgs;
        bytes += c->bytes;
        wbytes += c->bytes_we - c->bytes_ws;
        records += c->records;
        complete += !c->closed && c->records >= snd.accepted;
    }
    double sent_secs = (double)(snd.stop - snd.start) / 1e9;
    double sent_rate = rate > 0 ? (double)snd.sent / sent_secs : 0;
    latstats_t l0 = lat_of(&conns[0].lat, ws, we);
    latstats_t ll = lat_of(&conns[nsubs - 1].lat, ws, we);
    qsort(snd.ack, snd.nack, sizeof *snd.ack, cmp_i64);
    double ack50 = pct(snd.ack, snd.nack, 50), ack99 = pct(snd.ack, snd.nack, 99);
    double drain_ms = drained_at ? (double)(drained_at - drain_start) / 1e6 : -1;
    int ok = rate > 0 && sent_rate >= 0.98 * rate && snd.errors == 0 && dropped == 0 &&
             rmin >= 0.97 * sent_rate && complete == (uint64_t)nsubs;

    printf("{\"subs\":%d,\"target_rate\":%.0f,\"sent\":%llu,\"accepted\":%llu,\"sent_rate\":%.0f,"
           "\"batches\":%llu,\"post_errors\":%llu,\"ack_p50_us\":%.0f,\"ack_p99_us\":%.0f,"
           "\"window_s\":%.1f,\"recv_rate_min\":%.0f,\"recv_rate_avg\":%.0f,\"recv_rate_max\":%.0f,"
           "\"complete_subs\":%llu,\"drain_ms\":%.0f,"
           "\"lat_n\":%zu,\"lat_p50_us\":%.0f,\"lat_p99_us\":%.0f,\"lat_p999_us\":%.0f,"
           "\"lat_max_us\":%.0f,"
           "\"last_lat_n\":%zu,\"last_lat_p50_us\":%.0f,\"last_lat_p99_us\":%.0f,"
           "\"last_lat_p999_us\":%.0f,\"last_lat_max_us\":%.0f,"
           "\"record_msgs\":%llu,\"status_msgs\":%llu,\"recs_per_msg\":%.1f,\"mbytes\":%.1f,"
           "\"window_mbytes_s\":%.1f,\"window_recs_s\":%.0f,"
           "\"pings\":%llu,\"dropped\":%d,\"client_cpu_s\":%.2f,\"client_cpu_total_s\":%.2f,"
           "\"ok\":%s}\n",
           nsubs, rate, (unsigned long long)snd.sent, (unsigned long long)snd.accepted, sent_rate,
           (unsigned long long)snd.batches, (unsigned long long)snd.errors, ack50, ack99, secs,
           rmin, rsum / nsubs, rmax, (unsigned long long)complete, drain_ms, l0.n, l0.p50, l0.p99,
           l0.p999, l0.max, ll.n, ll.p50, ll.p99, ll.p999, ll.max, (unsigned long long)msgs,
           (unsigned long long)status_msgs, msgs ? (double)records / (double)msgs : 0.0,
           (double)bytes / 1e6, (double)wbytes / 1e6 / secs, rsum, (unsigned long long)pings,
           dropped, cpu, cpu_self(), ok ? "true" : "false");
    fprintf(stderr,
            "subs %d: sent %.0f rec/s (%llu errors); per subscriber min %.0f avg %.0f rec/s; "
            "latency sub0 p50 %.0f p99 %.0f p99.9 %.0f max %.0f us (last sub p99 %.0f max %.0f); "
            "%llu/%d complete, %d dropped; %s\n",
            nsubs, sent_rate, (unsigned long long)snd.errors, rmin, rsum / nsubs, l0.p50, l0.p99,
            l0.p999, l0.max, ll.p99, ll.max, (unsigned long long)complete, nsubs, dropped,
            ok ? "ok" : "NOT sustained");
    for (int i = 0; i < nsubs; i++) {
        if (!conns[i].closed)
            close(conns[i].fd);
        free(conns[i].msg);
        free(conns[i].lat.v);
    }
    free(conns);
    free(snd.ack);
    free(buf);
    close(snd.fd);
    close(ep);
    return 0;
}
