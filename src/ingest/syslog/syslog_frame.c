/* syslog_frame.c - RFC 6587 framing of a syslog TCP stream: see syslog_frame.h.
 *
 * A state machine over the bytes of the stream. A frame that starts with a
 * digit is undecided (SF_COUNT, SF_COUNT_SP) until its start either is
 * "DIGITS SP <" with a count of 1..ceiling (octet counting) or is not (trailer
 * framing, digits included: the frame is re-read as a line from its first
 * byte). Invariants:
 *   1. f->len > 0 only in SF_OCTETS and SF_LINE: the part of the current
 *      frame that arrived in earlier feeds (at most what will be delivered).
 *   2. In SF_OCTETS, f->len <= min(count, max_line) and count <= ceiling;
 *      in SF_LINE, f->len <= max_line + 1 (one more byte may be a CR that an
 *      LF removes). In SF_SKIP_OCTETS, f->len == 0 and left > 0.
 *   3. f->hlen > 0 only in SF_COUNT and SF_COUNT_SP: the undecided start of
 *      the frame that arrived in earlier feeds (digits, maybe a SP), at most
 *      SYSLOG_HEAD_MAX bytes. The rest of it is data[hstart..i) in this feed.
 *   4. A frame is delivered from data when it starts in this feed (f->len
 *      == 0, f->hlen == 0) and all the bytes that will be delivered are in
 *      data.
 */
#include "syslog_frame.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/buf.h"

#define NOT_OCTET                                                                                  \
    "starts with a digit but is not RFC 6587 octet counting (\"MSG-LEN SP <PRI>...\"): "
const char SYSLOG_UNFRAMED_NO_SP[] = NOT_OCTET "no space after the digits; framed as a line";
const char SYSLOG_UNFRAMED_DIGITS[] = NOT_OCTET "more than 9 digits; framed as a line";
const char SYSLOG_UNFRAMED_NO_PRI[] = NOT_OCTET "no '<' after the length; framed as a line";
const char SYSLOG_UNFRAMED_ZERO[] = NOT_OCTET "a length of 0; framed as a line";
const char SYSLOG_UNFRAMED_TOO_LONG[] =
    NOT_OCTET "a length over 64 x --max-line (at most 64 MiB); framed as a line";

size_t syslog_frame_ceiling(size_t max_line)
{
    size_t c = max_line <= SYSLOG_COUNT_CEILING_MAX / SYSLOG_COUNT_FACTOR
                   ? max_line * SYSLOG_COUNT_FACTOR
                   : SYSLOG_COUNT_CEILING_MAX;
    return c < max_line ? max_line : c;
}

void syslog_framer_init(syslog_framer_t *f, size_t max_line)
{
    memset(f, 0, sizeof *f);
    if (max_line == 0)
        max_line = SYSLOG_FRAME_DEFAULT_MAX;
    f->max_line = max_line > SYSLOG_FRAME_MAX ? SYSLOG_FRAME_MAX : max_line;
    f->ceiling = syslog_frame_ceiling(f->max_line);
    f->state = SF_START;
}

void syslog_framer_free(syslog_framer_t *f)
{
    if (!f)
        return;
    free(f->buf);
    f->buf = NULL;
    f->len = f->cap = 0;
}

/* Keeps k more bytes of the current frame (invariant 2 bounds them). */
static void keep(syslog_framer_t *f, const char *p, size_t k)
{
    if (!f->buf) {
        f->cap = f->max_line + 1;
        f->buf = xmalloc(f->cap);
    }
    if (k > f->cap - f->len)
        k = f->cap - f->len; /* unreachable by invariant 2; never overflow */
    memcpy(f->buf + f->len, p, k);
    f->len += k;
}

static inline size_t min_sz(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* Index of the first LF or NUL at or after i, or n. *lf and *nul remember
 * the last answers (SIZE_MAX: not searched), so a feed full of NUL-framed
 * frames is not rescanned for an LF per frame. */
static size_t next_end(const char *d, size_t i, size_t n, size_t *lf, size_t *nul)
{
    if (*lf == SIZE_MAX || *lf < i) {
        const char *p = memchr(d + i, '\n', n - i);
        *lf = p ? (size_t)(p - d) : n;
    }
    if (*nul == SIZE_MAX || *nul < i) {
        const char *p = memchr(d + i, '\0', min_sz(*lf, n) - i);
        *nul = p ? (size_t)(p - d) : *lf;
    }
    return min_sz(*lf, *nul);
}

/* The undecided start of the frame is not octet counting: the frame is a
 * line from its first byte. Its bytes from earlier feeds go to the buffer;
 * those in this feed (from hstart) are read again by SF_LINE. Returns where
 * reading goes on. */
static size_t to_line(syslog_framer_t *f, size_t hstart, const char *why, syslog_frame_fn fn,
                      void *arg)
{
    size_t max = f->max_line;
    f->unframed = why;
    f->state = SF_LINE;
    if (f->hlen > max + 1) {
        /* digits and SP only (never CR): surely longer than max */
        keep(f, f->head, max);
        fn(arg, f->buf, max, 1, why);
        f->len = 0;
        f->state = SF_SKIP_LINE;
    } else if (f->hlen) {
        keep(f, f->head, f->hlen);
    }
    f->hlen = 0;
    return hstart;
}

void syslog_framer_feed(syslog_framer_t *f, const char *data, size_t n, syslog_frame_fn fn,
                        void *arg)
{
    size_t i = 0, lf = SIZE_MAX, nul = SIZE_MAX, max = f->max_line;
    size_t hstart = 0; /* invariant 3 */

    while (i < n) {
        switch (f->state) {
        case SF_START: {
            char c = data[i];
            if (c >= '0' && c <= '9') {
                f->state = SF_COUNT;
                f->count = f->digits = 0;
                f->hlen = 0;
                hstart = i;
            } else if (c == '\n' || c == '\0') {
                i++; /* an empty frame */
            } else {
                f->state = SF_LINE;
                f->unframed = NULL;
            }
            break;
        }
        case SF_COUNT:
            while (i < n && data[i] >= '0' && data[i] <= '9') {
                if (f->digits == SYSLOG_COUNT_DIGITS)
                    break;
                f->digits++;
                f->count = f->count * 10 + (size_t)(data[i] - '0');
                i++;
            }
            if (i == n)
                break;
            if (data[i] >= '0' && data[i] <= '9')
                i = to_line(f, hstart, SYSLOG_UNFRAMED_DIGITS, fn, arg);
            else if (data[i] != ' ')
                i = to_line(f, hstart, SYSLOG_UNFRAMED_NO_SP, fn, arg);
            else {
                i++;
                f->state = SF_COUNT_SP;
            }
            break;
        case SF_COUNT_SP:
            if (data[i] != '<')
                i = to_line(f, hstart, SYSLOG_UNFRAMED_NO_PRI, fn, arg);
            else if (f->count == 0)
                i = to_line(f, hstart, SYSLOG_UNFRAMED_ZERO, fn, arg);
            else if (f->count > f->ceiling)
                i = to_line(f, hstart, SYSLOG_UNFRAMED_TOO_LONG, fn, arg);
            else {
                /* octet counting: the '<' is the first byte of MSG */
                f->hlen = 0;
                f->left = f->count;
                f->state = SF_OCTETS;
            }
            break;
        case SF_OCTETS: {
            /* the first min(count, max) bytes are delivered, the rest of a
             * longer MSG skipped */
            size_t want = min_sz(f->count, max), avail = n - i;
            int cut = f->count > max;
            if (f->len == 0 && avail >= want) {
                fn(arg, data + i, want, cut, NULL);
                i += want;
                f->left -= want;
            } else {
                size_t take = min_sz(want - f->len, avail);
                keep(f, data + i, take);
                i += take;
                f->left -= take;
                if (f->len < want)
                    break;
                fn(arg, f->buf, f->len, cut, NULL);
                f->len = 0;
            }
            f->state = f->left ? SF_SKIP_OCTETS : SF_START;
            break;
        }
        case SF_SKIP_OCTETS: {
            size_t take = min_sz(f->left, n - i);
            i += take;
            f->left -= take;
            if (!f->left)
                f->state = SF_START;
            break;
        }
        case SF_LINE: {
            size_t e = next_end(data, i, n, &lf, &nul);
            if (e == n) {
                /* no end in this feed: keep it, or cut it once it is surely
                 * longer than max even without a CR before an LF */
                size_t chunk = n - i;
                if (f->len + chunk > max + 1) {
                    if (f->len == 0) {
                        fn(arg, data + i, max, 1, f->unframed);
                    } else {
                        if (f->len < max)
                            keep(f, data + i, max - f->len);
                        fn(arg, f->buf, max, 1, f->unframed);
                    }
                    f->len = 0;
                    f->state = SF_SKIP_LINE;
                } else {
                    keep(f, data + i, chunk);
                }
                i = n;
                break;
            }
            size_t len = f->len + (e - i);
            char last = e > i ? data[e - 1] : f->len ? f->buf[f->len - 1] : '\0';
            if (data[e] == '\n' && last == '\r')
                len--;
            size_t out = min_sz(len, max);
            if (out) {
                if (f->len == 0) {
                    fn(arg, data + i, out, len > max, f->unframed);
                } else {
                    if (out > f->len)
                        keep(f, data + i, out - f->len);
                    fn(arg, f->buf, out, len > max, f->unframed);
                }
            }
            f->len = 0;
            f->state = SF_START;
            i = e + 1;
            break;
        }
        case SF_SKIP_LINE: {
            size_t e = next_end(data, i, n, &lf, &nul);
            if (e < n)
                f->state = SF_START;
            i = e < n ? e + 1 : n;
            break;
        }
        }
    }
    if (f->state == SF_COUNT || f->state == SF_COUNT_SP) {
        /* undecided at the end of the feed: hold the start (invariant 3) */
        size_t k = min_sz(n - hstart, SYSLOG_HEAD_MAX - f->hlen);
        memcpy(f->head + f->hlen, data + hstart, k);
        f->hlen += k;
    }
}

void syslog_framer_finish(syslog_framer_t *f, syslog_frame_fn fn, void *arg)
{
    size_t max = f->max_line;
    if (f->state == SF_LINE && f->len) {
        /* end of stream ends the last line like an LF would */
        size_t len = f->len;
        if (f->buf[len - 1] == '\r')
            len--;
        if (len)
            fn(arg, f->buf, min_sz(len, max), len > max, f->unframed);
    } else if ((f->state == SF_COUNT || f->state == SF_COUNT_SP) && f->hlen) {
        /* digits (and a SP) and then the end: a line of its own */
        fn(arg, f->head, min_sz(f->hlen, max), f->hlen > max,
           f->state == SF_COUNT ? SYSLOG_UNFRAMED_NO_SP : SYSLOG_UNFRAMED_NO_PRI);
    } else if (f->state == SF_OCTETS && f->len) {
        fn(arg, f->buf, f->len, 1, NULL);
    }
    f->len = f->hlen = 0;
    f->count = f->digits = f->left = 0;
    f->unframed = NULL;
    f->state = SF_START;
}
