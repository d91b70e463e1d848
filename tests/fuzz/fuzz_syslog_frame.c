/* fuzz_syslog_frame.c - RFC 6587 framing on arbitrary bytes. The first byte
 * picks max_line, the next two a split point. Checks: no frame is empty or
 * longer than max_line, and only a frame that starts with a digit is
 * unframed; the frames (bytes and flags) are the same unsplit, split in two, split at every byte
 * and in uneven chunks; a stream built from the input's lines, LF-framed or octet-counted (counts
 * up to the ceiling, 64 x max_line, so longer lines are cut by their count
 * and the stream stays in sync), gives back exactly those lines (cut to
 * max_line); and the same lines led by digits that are not octet counting
 * come back whole, flagged unframed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "ingest/syslog/syslog_frame.h"

typedef struct out {
    buf_t log; /* per frame: 8-byte length, truncated byte, unframed byte, the bytes */
    size_t max;
} out_t;

static const char *const reasons[] = {
    NULL,
    SYSLOG_UNFRAMED_NO_SP,
    SYSLOG_UNFRAMED_DIGITS,
    SYSLOG_UNFRAMED_NO_PRI,
    SYSLOG_UNFRAMED_ZERO,
    SYSLOG_UNFRAMED_TOO_LONG,
};

static void log_frame(out_t *o, const char *p, size_t n, int truncated, int why)
{
    uint64_t len = n;
    buf_append(&o->log, &len, 8);
    buf_putc(&o->log, (char)truncated);
    buf_putc(&o->log, (char)why);
    buf_append(&o->log, p, n);
}

static void on_frame(void *arg, const char *p, size_t n, int truncated, const char *unframed)
{
    out_t *o = arg;
    if (n == 0 || n > o->max || (truncated != 0 && truncated != 1))
        abort();
    int why = 0;
    while (reasons[why] != unframed)
        if (++why == (int)(sizeof reasons / sizeof reasons[0]))
            abort(); /* not one of the reasons */
    if (why && !(p[0] >= '0' && p[0] <= '9'))
        abort(); /* only a digit-led frame is unframed */
    log_frame(o, p, n, truncated, why);
}

/* Feeds s in pieces of the sizes in cuts (0 ends the list; the rest goes in
 * the last piece), then finishes. */
static void run(const char *s, size_t n, size_t max, const size_t *cuts, out_t *o)
{
    syslog_framer_t f;
    syslog_framer_init(&f, max);
    o->max = max;
    buf_reset(&o->log);
    size_t at = 0;
    for (size_t k = 0; at < n; k++) {
        size_t piece = cuts && cuts[k] ? cuts[k] : n - at;
        if (piece > n - at)
            piece = n - at;
        syslog_framer_feed(&f, s + at, piece, on_frame, o);
        if (f.len > f.max_line + 1 || f.hlen > SYSLOG_HEAD_MAX)
            abort();
        at += piece;
    }
    syslog_framer_finish(&f, on_frame, o);
    syslog_framer_free(&f);
}

static void same(const out_t *a, const out_t *b)
{
    if (a->log.len != b->log.len || (a->log.len && memcmp(a->log.data, b->log.data, a->log.len)))
        abort();
}

/* The frames expected for the non-empty lines of lines (LF-separated);
 * why: the reason each is unframed (0: none). */
static void expect_lines(const buf_t *lines, size_t max, int why, out_t *o)
{
    buf_reset(&o->log);
    o->max = max;
    size_t i = 0;
    while (i < lines->len) {
        const char *nl = memchr(lines->data + i, '\n', lines->len - i);
        size_t e = nl ? (size_t)(nl - lines->data) : lines->len;
        if (e > i)
            log_frame(o, lines->data + i, e - i > max ? max : e - i, e - i > max, why);
        i = e + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    size_t max = 1 + data[0] % 64;
    size_t ceiling = syslog_frame_ceiling(max);
    size_t split = ((size_t)data[1] << 8 | data[2]);
    const char *s = (const char *)data + 3;
    size_t n = size - 3;
    split = n ? split % (n + 1) : 0;

    out_t whole = {BUF_INIT, 0}, other = {BUF_INIT, 0};
    run(s, n, max, NULL, &whole);

    size_t two[3] = {split, 0, 0};
    if (split == 0)
        two[0] = n + 1; /* all in one piece again, through the cut path */
    run(s, n, max, two, &other);
    same(&whole, &other);

    if (n <= 2048) {
        size_t *ones = malloc((n + 1) * sizeof *ones);
        for (size_t k = 0; k < n; k++)
            ones[k] = 1;
        ones[n] = 0;
        run(s, n, max, ones, &other);
        same(&whole, &other);
        /* uneven pieces: 1, 2, 3, ... */
        size_t k = 0;
        for (size_t at = 0; at < n; k++)
            at += ones[k] = k + 1;
        ones[k] = 0;
        run(s, n, max, ones, &other);
        same(&whole, &other);
        free(ones);
    }

    /* valid streams from the input's lines: no NUL or CR inside a line, no
     * digit first (that is for the digit-led stream below) */
    buf_t lines = BUF_INIT, oc = BUF_INIT, dl = BUF_INIT;
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - s) : n;
        if (e > i && s[i] >= '0' && s[i] <= '9')
            buf_putc(&lines, '<');
        for (size_t k = i; k < e; k++)
            buf_putc(&lines, s[k] == '\0' || s[k] == '\r' ? '.' : s[k]);
        buf_putc(&lines, '\n');
        i = e + 1;
    }
    out_t want = {BUF_INIT, 0};
    expect_lines(&lines, max, 0, &want);
    run(lines.data, lines.len, max, NULL, &other);
    same(&want, &other);
    size_t lsplit = lines.len ? split % (lines.len + 1) : 0;
    size_t lcut[2] = {lsplit ? lsplit : lines.len + 1, 0};
    run(lines.data, lines.len, max, lcut, &other);
    same(&want, &other);
    /* the same lines octet-counted (those that start with '<' and whose
     * length is within the ceiling: longer than max is cut by the count),
     * CRLF-terminated or NUL-terminated */
    i = 0;
    int mode = 0;
    while (i < lines.len) {
        const char *nl = memchr(lines.data + i, '\n', lines.len - i);
        size_t e = (size_t)(nl - lines.data);
        int m = mode++ % 3;
        if (m == 0 && (e == i || lines.data[i] != '<' || e - i > ceiling))
            m = 1;
        switch (m) {
        case 0:
            buf_printf(&oc, "%zu ", e - i);
            buf_append(&oc, lines.data + i, e - i);
            break;
        case 1:
            buf_append(&oc, lines.data + i, e - i);
            buf_append(&oc, "\r\n", 2);
            break;
        default:
            buf_append(&oc, lines.data + i, e - i);
            buf_putc(&oc, '\0');
        }
        i = e + 1;
    }
    size_t ocut[2] = {oc.len ? split % (oc.len + 1) : 0, 0};
    if (!ocut[0])
        ocut[0] = oc.len + 1;
    run(oc.data, oc.len, max, ocut, &other);
    same(&want, &other);

    /* the lines led by digits that are not octet counting: "N x", "N <" with
     * N over the ceiling, "N" + LF, "0 <", ten digits; each comes back whole */
    for (int kind = 0; kind < 5; kind++) {
        static const int why[5] = {3, 5, 1, 4, 2};
        buf_reset(&dl);
        i = 0;
        while (i < lines.len) {
            const char *nl = memchr(lines.data + i, '\n', lines.len - i);
            size_t e = (size_t)(nl - lines.data);
            switch (kind) {
            case 0:
                buf_printf(&dl, "%zu x", e - i);
                break;
            case 1:
                buf_printf(&dl, "%zu <", ceiling + 1 + (e - i));
                break;
            case 2:
                buf_printf(&dl, "%zu\n", e - i); /* a line of digits */
                break;
            case 3:
                buf_puts(&dl, "0 <");
                break;
            default:
                buf_puts(&dl, "1234567890 ");
            }
            buf_append(&dl, lines.data + i, e - i + 1);
            i = e + 1;
        }
        expect_lines(&dl, max, why[kind], &want);
        if (kind == 2) {
            /* digits-only lines are NO_SP; the others are the input's
             * lines, which start with a non-digit: ordinary frames */
            buf_reset(&want.log);
            size_t j = 0, line = 0;
            while (j < dl.len) {
                const char *nl = memchr(dl.data + j, '\n', dl.len - j);
                size_t e = (size_t)(nl - dl.data);
                if (e > j)
                    log_frame(&want, dl.data + j, e - j > max ? max : e - j, e - j > max,
                              line % 2 == 0 ? 1 : 0);
                line++;
                j = e + 1;
            }
        }
        size_t dcut[2] = {dl.len ? split % (dl.len + 1) : 0, 0};
        if (!dcut[0])
            dcut[0] = dl.len + 1;
        run(dl.data, dl.len, max, dcut, &other);
        same(&want, &other);
    }

    buf_free(&lines);
    buf_free(&oc);
    buf_free(&dl);
    buf_free(&want.log);
    buf_free(&whole.log);
    buf_free(&other.log);
    return 0;
}
