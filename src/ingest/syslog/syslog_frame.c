/* syslog_frame.c - RFC 6587 framing of a syslog TCP stream: see syslog_frame.h.
 *
 * A state machine over the bytes of the stream. Invariants:
 *   1. f->len > 0 only in SF_OCTETS and SF_LINE: the part of the current
 *      frame that arrived in earlier feeds (at most what will be delivered).
 *   2. In SF_OCTETS, f->len <= min(count, max_line); in SF_LINE,
 *      f->len <= max_line + 1 (one more byte may be a CR that an LF removes).
 *   3. A frame is delivered from data when it starts in this feed (f->len
 *      == 0) and all the bytes that will be delivered are in data.
 */
#include "syslog_frame.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/buf.h"

void syslog_framer_init(syslog_framer_t *f, size_t max_line)
{
    memset(f, 0, sizeof *f);
    if (max_line == 0)
        max_line = SYSLOG_FRAME_DEFAULT_MAX;
    f->max_line = max_line > SYSLOG_FRAME_MAX ? SYSLOG_FRAME_MAX : max_line;
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

static int fail(syslog_framer_t *f)
{
    f->state = SF_FAILED;
    f->len = 0;
    return -1;
}

int syslog_framer_feed(syslog_framer_t *f, const char *data, size_t n, syslog_frame_fn fn,
                       void *arg)
{
    size_t i = 0, lf = SIZE_MAX, nul = SIZE_MAX, max = f->max_line;

    if (f->state == SF_FAILED)
        return -1;
    while (i < n) {
        switch (f->state) {
        case SF_START: {
            char c = data[i];
            if (c >= '0' && c <= '9') {
                f->state = SF_COUNT;
                f->count = f->digits = 0;
            } else if (c == '\n' || c == '\0') {
                i++; /* an empty frame */
            } else {
                f->state = SF_LINE;
            }
            break;
        }
        case SF_COUNT:
            while (i < n && data[i] >= '0' && data[i] <= '9') {
                if (++f->digits > SYSLOG_COUNT_DIGITS)
                    return fail(f);
                f->count = f->count * 10 + (size_t)(data[i] - '0');
                i++;
            }
            if (i == n)
                break;
            if (data[i] != ' ')
                return fail(f);
            i++;
            f->left = f->count;
            f->state = f->count ? SF_OCTETS : SF_START;
            break;
        case SF_OCTETS: {
            size_t want = min_sz(f->count, max), avail = n - i;
            size_t take = min_sz(f->left, avail);
            if (f->len == 0 && avail >= want) {
                fn(arg, data + i, want, f->count > max);
            } else {
                keep(f, data + i, min_sz(take, want - f->len));
                if (f->len == want) {
                    fn(arg, f->buf, want, f->count > max);
                    f->len = 0;
                } else {
                    i += take;
                    f->left -= take;
                    break;
                }
            }
            /* delivered: whatever of the frame is left is skipped */
            i += take;
            f->left -= take;
            f->len = 0;
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
                        fn(arg, data + i, max, 1);
                    } else {
                        if (f->len < max)
                            keep(f, data + i, max - f->len);
                        fn(arg, f->buf, max, 1);
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
                    fn(arg, data + i, out, len > max);
                } else {
                    if (out > f->len)
                        keep(f, data + i, out - f->len);
                    fn(arg, f->buf, out, len > max);
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
        case SF_FAILED:
            return -1;
        }
    }
    return 0;
}

void syslog_framer_finish(syslog_framer_t *f, syslog_frame_fn fn, void *arg)
{
    if (f->state == SF_FAILED)
        return;
    if (f->state == SF_LINE && f->len) {
        /* end of stream ends the last line like an LF would */
        size_t len = f->len;
        if (f->buf[len - 1] == '\r')
            len--;
        if (len)
            fn(arg, f->buf, min_sz(len, f->max_line), len > f->max_line);
    } else if (f->state == SF_OCTETS && f->len) {
        fn(arg, f->buf, f->len, 1);
    }
    f->len = 0;
    f->count = f->digits = f->left = 0;
    f->state = SF_START;
}
