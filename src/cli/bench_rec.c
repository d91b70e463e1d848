/* bench_rec.c - bench records and their tags: see bench_rec.h. */
#include "bench_rec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Filler: a web server's access line, repeated and cut to --size. */
static const char filler[] = "GET /api/v1/orders/84731 200 5123b 12.4ms user=8812 ua=curl/7.88 "
                             "ref=- region=eu-west-1 cache=miss ";

static const char hexd[] = "0123456789abcdef";

static void enc_form(buf_t *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || c == '/' || c == ':') {
            buf_putc(b, (char)c);
        } else if (c == ' ') {
            buf_putc(b, '+');
        } else {
            char e[3] = {'%', "0123456789ABCDEF"[c >> 4], "0123456789ABCDEF"[c & 15]};
            buf_append(b, e, 3);
        }
    }
}

static void enc_json(buf_t *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char)c);
        } else if (c < 0x20 || c == 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15]};
            buf_append(b, e, 6);
        } else {
            buf_putc(b, (char)c);
        }
    }
}

/* syslog: a frame ends at LF or NUL, so neither may be inside */
static void enc_syslog(buf_t *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf_putc(b, s[i] == '\0' || s[i] == '\n' ? ' ' : s[i]);
}

static void encode(const bench_rec_t *r, buf_t *b, const char *s, size_t n)
{
    switch (r->enc) {
    case BENCH_ENC_FORM:
        enc_form(b, s, n);
        break;
    case BENCH_ENC_JSON:
        enc_json(b, s, n);
        break;
    case BENCH_ENC_SYSLOG:
        enc_syslog(b, s, n);
        break;
    }
}

/* One more encoded line: " " + text (nothing when text is empty and there
 * is no room for it). */
static void add_line(bench_rec_t *r, const char *s, size_t n, size_t *cap)
{
    if (r->nlines + 2 > *cap) {
        *cap = *cap ? *cap * 2 : 16;
        r->off = xrealloc(r->off, *cap * sizeof *r->off);
    }
    size_t start = r->text.len;
    r->off[r->nlines] = start;
    encode(r, &r->text, " ", 1);
    encode(r, &r->text, s, n);
    r->nlines++;
    r->off[r->nlines] = r->text.len;
    if (r->text.len - start > r->maxline)
        r->maxline = r->text.len - start;
}

int bench_rec_init(bench_rec_t *r, enum bench_enc enc, const char *run, size_t size,
                   const char *corpus, size_t corpus_len, char *err, size_t errlen)
{
    size_t cap = 0;
    memset(r, 0, sizeof *r);
    r->enc = enc;
    snprintf(r->run, sizeof r->run, "%s", run);
    snprintf(r->host, sizeof r->host, "localhost");
    r->pid = 1;
    r->lf = enc == BENCH_ENC_SYSLOG;
    if (!corpus) {
        /* the tag, then " " and filler up to size */
        size_t want = size > BENCH_TAG_LEN + 1 ? size - BENCH_TAG_LEN - 1 : 0;
        buf_t raw = BUF_INIT;
        while (raw.len < want) {
            size_t k = want - raw.len < sizeof filler - 1 ? want - raw.len : sizeof filler - 1;
            buf_append(&raw, filler, k);
        }
        if (size > BENCH_TAG_LEN) {
            add_line(r, raw.data ? raw.data : "", raw.len, &cap);
        } else {
            r->off = xrealloc(r->off, 2 * sizeof *r->off);
            r->off[0] = r->off[1] = 0;
            r->nlines = 1;
        }
        buf_free(&raw);
        return 0;
    }
    const char *p = corpus, *end = corpus + corpus_len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        size_t n = (size_t)(e - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (n)
            add_line(r, p, n, &cap);
        p = nl ? nl + 1 : end;
    }
    if (!r->nlines) {
        snprintf(err, errlen, "the corpus has no line to send");
        bench_rec_free(r);
        return -1;
    }
    return 0;
}

void bench_rec_free(bench_rec_t *r)
{
    buf_free(&r->text);
    free(r->off);
    r->off = NULL;
    r->nlines = 0;
}

/* The fixed text around the message. */
#define FORM_HEAD "log="
#define FORM_TAIL "&app=bench"
#define JSON_HEAD "{\"app\":\"bench\",\"level\":\"info\",\"msg\":\""
#define JSON_TAIL "\"}"

size_t bench_rec_max(const bench_rec_t *r)
{
    size_t msg = BENCH_TAG_LEN + r->maxline;
    switch (r->enc) {
    case BENCH_ENC_FORM:
        return sizeof FORM_HEAD + sizeof FORM_TAIL + msg;
    case BENCH_ENC_JSON:
        return sizeof JSON_HEAD + sizeof JSON_TAIL + msg;
    case BENCH_ENC_SYSLOG:
        break;
    }
    /* <14>1 TIMESTAMP HOST bench PID - - MSG, with "LEN " or "\n" */
    return 24 + sizeof r->host + 40 + 20 + msg;
}

void bench_stamp_set(const bench_rec_t *r, bench_stamp_t *st, int64_t wall_s)
{
    if (st->len && st->sec == wall_s)
        return;
    time_t t = (time_t)wall_s;
    struct tm tm;
    if (r->rfc5424) {
        gmtime_r(&t, &tm);
        st->len = strftime(st->text, sizeof st->text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    } else {
        localtime_r(&t, &tm);
        st->len = strftime(st->text, sizeof st->text, "%b %e %H:%M:%S", &tm);
    }
    st->sec = wall_s;
}

/* n as exactly w decimal digits (the high ones dropped, which the callers
 * never need: ids stop at BENCH_ID_MAX, times fit 20). */
static void digits(char *out, uint64_t n, int w)
{
    for (int i = w - 1; i >= 0; i--) {
        out[i] = (char)('0' + n % 10);
        n /= 10;
    }
}

void bench_tag(char *out, const char *run, uint64_t id, uint64_t t)
{
    memcpy(out, "lsb_", 4);
    memcpy(out + 4, run, BENCH_RUN_LEN);
    out[20] = '_';
    digits(out + 21, id, 12);
    out[33] = '_';
    digits(out + 34, t, 20);
}

static void put_msg(const bench_rec_t *r, buf_t *out, uint64_t id, uint64_t t)
{
    size_t line = r->nlines > 1 ? (size_t)(id % r->nlines) : 0;
    char *p = buf_reserve(out, BENCH_TAG_LEN);
    bench_tag(p, r->run, id, t);
    out->len += BENCH_TAG_LEN;
    if (r->off[line + 1] > r->off[line])
        buf_append(out, r->text.data + r->off[line], r->off[line + 1] - r->off[line]);
}

void bench_rec_append(const bench_rec_t *r, buf_t *out, uint64_t id, uint64_t t,
                      const bench_stamp_t *stamp)
{
    switch (r->enc) {
    case BENCH_ENC_FORM:
        buf_append(out, FORM_HEAD, sizeof FORM_HEAD - 1);
        put_msg(r, out, id, t);
        buf_append(out, FORM_TAIL, sizeof FORM_TAIL - 1);
        return;
    case BENCH_ENC_JSON:
        buf_append(out, JSON_HEAD, sizeof JSON_HEAD - 1);
        put_msg(r, out, id, t);
        buf_append(out, JSON_TAIL, sizeof JSON_TAIL - 1);
        return;
    case BENCH_ENC_SYSLOG:
        break;
    }
    /* the frame's length is known only once it is written: leave room for
     * "LEN " (at most 8 digits: a message is at most a few MB) and move the
     * frame up to it afterwards */
    size_t lenroom = r->octet_count ? 9 : 0, at = out->len;
    buf_reserve(out, lenroom);
    out->len += lenroom;
    size_t start = out->len;
    buf_append(out, "<14>", 4);
    if (r->rfc5424)
        buf_append(out, "1 ", 2);
    if (stamp)
        buf_append(out, stamp->text, stamp->len);
    buf_putc(out, ' ');
    buf_puts(out, r->host);
    if (r->rfc5424) {
        buf_puts(out, " bench ");
        buf_append_u64(out, r->pid);
        buf_puts(out, " - - ");
    } else {
        buf_puts(out, " bench[");
        buf_append_u64(out, r->pid);
        buf_puts(out, "]: ");
    }
    put_msg(r, out, id, t);
    if (r->octet_count) {
        char len[12];
        int n = snprintf(len, sizeof len, "%zu ", out->len - start);
        memmove(out->data + at + (size_t)n, out->data + start, out->len - start);
        memcpy(out->data + at, len, (size_t)n);
        out->len -= lenroom - (size_t)n;
    } else if (r->lf) {
        buf_putc(out, '\n');
    }
}

/* ---- finding tags ---------------------------------------------------------- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* How many bytes of p[0..n) (n <= BENCH_TAG_LEN) agree with a tag of run. */
static size_t agree(const char *run, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        int ok;
        if (i < 4)
            ok = c == "lsb_"[i];
        else if (i < 20)
            ok = c == run[i - 4];
        else if (i == 20 || i == 33)
            ok = c == '_';
        else
            ok = is_digit(c);
        if (!ok)
            return i;
    }
    return n;
}

static uint64_t number(const char *p, int w)
{
    uint64_t v = 0;
    for (int i = 0; i < w; i++)
        v = v * 10 + (uint64_t)(p[i] - '0');
    return v;
}

/* Scans p[0..n) for tags; a tag that might go on past the end is left:
 * *tail is where it starts (n when none). */
static size_t scan(const char *run, const char *p, size_t n, bench_tag_fn fn, void *arg,
                   size_t *tail)
{
    size_t found = 0, i = 0;
    *tail = n;
    while (i < n) {
        const char *l = memchr(p + i, 'l', n - i);
        if (!l)
            break;
        i = (size_t)(l - p);
        size_t left = n - i;
        if (left < BENCH_TAG_LEN) {
            if (agree(run, l, left) == left) {
                *tail = i;
                break;
            }
            i++;
            continue;
        }
        if (agree(run, l, BENCH_TAG_LEN) == BENCH_TAG_LEN) {
            fn(arg, number(l + 21, 12), number(l + 34, 20));
            found++;
            i += BENCH_TAG_LEN;
        } else {
            i++;
        }
    }
    return found;
}

size_t bench_tags_scan(const char *run, const char *p, size_t n, bench_tag_fn fn, void *arg)
{
    size_t tail;
    return scan(run, p, n, fn, arg, &tail);
}

size_t bench_tags_feed(bench_tag_stream_t *st, const char *run, const char *p, size_t n,
                       bench_tag_fn fn, void *arg)
{
    size_t found = 0, tail;
    if (st->ncarry) {
        /* the carried start of a tag and enough of p to finish it: a tag
         * has no 'l' after its first byte, so none starts inside it, and
         * scanning p from its start below finds no part of it again */
        char tmp[2 * BENCH_TAG_LEN];
        size_t take = n < BENCH_TAG_LEN ? n : BENCH_TAG_LEN;
        memcpy(tmp, st->carry, st->ncarry);
        memcpy(tmp + st->ncarry, p, take);
        size_t tn = st->ncarry + take;
        if (agree(run, tmp, tn < BENCH_TAG_LEN ? tn : BENCH_TAG_LEN) <
            (tn < BENCH_TAG_LEN ? tn : BENCH_TAG_LEN)) {
            /* not a tag after all: what was carried has no other 'l' that
             * could start one (it agreed with a tag up to its end) */
            st->ncarry = 0;
        } else if (tn < BENCH_TAG_LEN) {
            memcpy(st->carry, tmp, tn); /* still not whole: p was short */
            st->ncarry = tn;
            return 0;
        } else {
            fn(arg, number(tmp + 21, 12), number(tmp + 34, 20));
            found++;
            size_t used = BENCH_TAG_LEN - st->ncarry;
            st->ncarry = 0;
            p += used;
            n -= used;
        }
    }
    found += scan(run, p, n, fn, arg, &tail);
    if (tail < n) {
        st->ncarry = n - tail;
        memcpy(st->carry, p + tail, st->ncarry);
    }
    return found;
}
