/* test_syslog_frame.c - RFC 6587 framing of syslog TCP streams
 * (src/ingest/syslog/syslog_frame.c): octet counting, LF, NUL and CRLF
 * trailers, cut frames (octet-counted ones longer than --max-line skipped by
 * their count, up to the count ceiling), digit-led lines that are not octet
 * counting ("2026-12-02 plain", "5 apples"), and streams split at every
 * byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "ingest/syslog/syslog_frame.h"

#define MAXF 64

typedef struct frame {
    char bytes[256];
    size_t n;
    int truncated;
    const char *unframed;
    int in_data; /* delivered as a pointer into the feed's data */
} frame_t;

typedef struct got {
    frame_t f[MAXF];
    size_t count;
    const char *data; /* the feed being run */
    size_t data_n;
    const syslog_framer_t *framer;
} got_t;

static void on_frame(void *arg, const char *p, size_t n, int truncated, const char *unframed)
{
    got_t *g = arg;
    assert_true(g->count < MAXF);
    assert_true(n >= 1);
    assert_true(n <= g->framer->max_line);
    assert_true(n <= sizeof g->f[0].bytes);
    frame_t *f = &g->f[g->count++];
    memcpy(f->bytes, p, n);
    f->n = n;
    f->truncated = truncated;
    f->unframed = unframed;
    f->in_data = g->data && p >= g->data && p + n <= g->data + g->data_n;
    if (!f->in_data) /* else it is the framer's own buffer, or its head */
        assert_true(
            (p >= g->framer->head && p + n <= g->framer->head + SYSLOG_HEAD_MAX) ||
            (g->framer->buf && p >= g->framer->buf && p + n <= g->framer->buf + g->framer->cap));
}

static void feed(syslog_framer_t *fr, got_t *g, const char *s, size_t n)
{
    g->data = s;
    g->data_n = n;
    g->framer = fr;
    syslog_framer_feed(fr, s, n, on_frame, g);
    /* invariants 2 and 3 of syslog_frame.c: the buffers stay bounded */
    assert_true(fr->len <= fr->max_line + 1);
    assert_true(fr->cap == 0 || fr->cap == fr->max_line + 1);
    assert_true(fr->hlen <= SYSLOG_HEAD_MAX);
    assert_true(fr->hlen == 0 || fr->state == SF_COUNT || fr->state == SF_COUNT_SP);
    g->data = NULL;
}

static void finish(syslog_framer_t *fr, got_t *g)
{
    g->framer = fr;
    syslog_framer_finish(fr, on_frame, g);
}

/* Frame i is want, framed as expected: unframed is the reason a digit-led
 * frame was taken as a line, NULL for any other frame. */
static void unframed_is(const got_t *g, size_t i, const char *want, int truncated,
                        const char *unframed)
{
    if (i >= g->count)
        fail_msg("frame %zu missing (have %zu), want \"%s\"", i, g->count, want);
    const frame_t *f = &g->f[i];
    if (f->n != strlen(want) || memcmp(f->bytes, want, f->n) != 0)
        fail_msg("frame %zu: got \"%.*s\", want \"%s\"", i, (int)f->n, f->bytes, want);
    assert_int_equal(f->truncated, truncated);
    if (f->unframed != unframed)
        fail_msg("frame %zu \"%s\": unframed \"%s\", want \"%s\"", i, want,
                 f->unframed ? f->unframed : "(none)", unframed ? unframed : "(none)");
}

static void frame_is(const got_t *g, size_t i, const char *want, int truncated)
{
    unframed_is(g, i, want, truncated, NULL);
}

/* Runs the whole of s (n bytes) through a new framer in one feed plus
 * finish. */
static void run(const char *s, size_t n, size_t max, got_t *g)
{
    syslog_framer_t fr;
    memset(g, 0, sizeof *g);
    syslog_framer_init(&fr, max);
    feed(&fr, g, s, n);
    finish(&fr, g);
    syslog_framer_free(&fr);
}

static void run_s(const char *s, size_t max, got_t *g)
{
    run(s, strlen(s), max, g);
}

static void test_octet_counting(void **state)
{
    (void)state;
    got_t g;
    run_s("9 <13>hello10 <14>world!", 100, &g);
    assert_int_equal(g.count, 2);
    frame_is(&g, 0, "<13>hello", 0);
    frame_is(&g, 1, "<14>world!", 0);
    assert_true(g.f[0].in_data && g.f[1].in_data);

    /* logger --tcp --octet-count */
    const char *logger = "96 <13>1 2026-11-21T11:03:30.123456+00:00 vm myapp - - [timeQuality "
                         "tzKnown=\"1\" isSynced=\"0\"] hello";
    run_s(logger, 2048, &g);
    assert_int_equal(g.count, 1);
    frame_is(&g, 0, logger + 3, 0);

    /* the MSG is not looked into: LF, NUL and digits are data */
    run("8 <a\nb\0c 13 <x\n", 15, 100, &g);
    assert_int_equal(g.count, 2);
    assert_int_equal(g.f[0].n, 8);
    assert_memory_equal(g.f[0].bytes, "<a\nb\0c 1", 8);
    frame_is(&g, 1, "<x\n", 0); /* "3 <x\n" is counted too */

    /* an LF between octet-counted frames is an empty frame */
    run_s("4 <abc\n4 <def\r\n", 100, &g);
    assert_int_equal(g.count, 2);
    frame_is(&g, 0, "<abc", 0);
    frame_is(&g, 1, "<def", 0);

    /* leading zeros; nine digits; the longest count is max_line */
    run_s("003 <ab000000004 <cde", 100, &g);
    assert_int_equal(g.count, 2);
    frame_is(&g, 0, "<ab", 0);
    frame_is(&g, 1, "<cde", 0);
    run_s("10 <13>012345", 10, &g);
    assert_int_equal(g.count, 1);
    frame_is(&g, 0, "<13>012345", 0);
    assert_true(g.f[0].in_data);
    /* a count beyond the data: the frame waits for it, then is cut at finish */
    run_s("99 <ab", 100, &g);
    assert_int_equal(g.count, 1);
    frame_is(&g, 0, "<ab", 1);
}

static void test_trailers(void **state)
{
    (void)state;
    got_t g;
    run_s("<13>a\n<13>bb\n", 100, &g);
    assert_int_equal(g.count, 2);
    frame_is(&g, 0, "<13>a", 0);
    frame_is(&g, 1, "<13>bb", 0);
    assert_true(g.f[0].in_data && g.f[1].in_data);

    /* Python's SysLogHandler over TCP */
    run("<132>one\0<132>two\0", 18, 100, &g);
    assert_int_equal(g.count, 2);
    frame_is(&g, 0, "<132>one", 0);
    frame_is(&g, 1, "<132>two", 0);

    /* CRLF: the CR before the LF goes, other CRs stay */
    run_s("<13>a\r\n<13>b\rc\n<13>d\r\r\n", 100, &g);
    assert_int_equal(g.count, 3);
    frame_is(&g, 0, "<13>a", 0);
    frame_is(&g, 1, "<13>b\rc", 0);
    frame_is(&g, 2, "<13>d\r", 0);
    /* before a NUL the CR stays (the parser strips it) */
    run("<13>a\r\0", 7, 100, &g);
    assert_int_equal(g.count, 1);
    frame_is(&g, 0, "<13>a\r", 0);

    /* empty frames are skipped */
    run("\n\n<13>a\n\n\r\n\0\0\r\0<13>b\n\r", 22, 100, &g);
    assert_int_equal(g.count, 3);
    frame_is(&g, 0, "<13>a", 0);
    frame_is(&g, 1, "\r", 0); /* CR then NUL: not CRLF */
    frame_is(&g, 2, "<13>b", 0);
    run_s("", 100, &g);
    assert_int_equal(g.count, 0);

    /* a trailer frame may start with anything but a digit */
    run_s(" x\nabc\n-\n", 100, &g);
    assert_int_equal(g.count, 3);
    frame_is(&g, 0, " x", 0);
    frame_is(&g, 1, "abc", 0);
    frame_is(&g, 2, "-", 0);
}

static void test_mixed(void **state)
{
    (void)state;
    got_t g;
    const char s[] = "9 <13>hello<14>lf line\n6 <13>ab<132>nul\0<13>crlf\r\n3 abc\n\n"
                     "2026-12-02 plain\n11 <13>counted5 apples\n<13>last";
    run(s, sizeof s - 1, 100, &g);
    assert_int_equal(g.count, 10);
    frame_is(&g, 0, "<13>hello", 0);
    frame_is(&g, 1, "<14>lf line", 0);
    frame_is(&g, 2, "<13>ab", 0);
    frame_is(&g, 3, "<132>nul", 0);
    frame_is(&g, 4, "<13>crlf", 0);
    unframed_is(&g, 5, "3 abc", 0, SYSLOG_UNFRAMED_NO_PRI);
    unframed_is(&g, 6, "2026-12-02 plain", 0, SYSLOG_UNFRAMED_NO_SP);
    frame_is(&g, 7, "<13>counted", 0);
    unframed_is(&g, 8, "5 apples", 0, SYSLOG_UNFRAMED_NO_PRI);
    frame_is(&g, 9, "<13>last", 0); /* at finish */
    for (size_t i = 0; i < 9; i++)
        assert_true(g.f[i].in_data);
}

static void test_count_beyond_data(void **state)
{
    (void)state;
    syslog_framer_t fr;
    got_t g;
    memset(&g, 0, sizeof g);
    syslog_framer_init(&fr, 100);
    feed(&fr, &g, "<13>x\n100 <13>short", 19);
    assert_int_equal(g.count, 1);
    feed(&fr, &g, " more", 5);
    assert_int_equal(g.count, 1); /* still waiting for 100 bytes */
    finish(&fr, &g);
    assert_int_equal(g.count, 2);
    frame_is(&g, 1, "<13>short more", 1);
    assert_false(g.f[1].in_data);
    /* finish reset the framer: a new stream works, finish again is a no-op */
    finish(&fr, &g);
    assert_int_equal(g.count, 2);
    feed(&fr, &g, "3 <ok", 5);
    frame_is(&g, 2, "<ok", 0);
    /* a count and then the end: not a count after all, but a line */
    feed(&fr, &g, "5 ", 2);
    assert_int_equal(g.count, 3);
    finish(&fr, &g);
    assert_int_equal(g.count, 4);
    unframed_is(&g, 3, "5 ", 0, SYSLOG_UNFRAMED_NO_PRI);
    assert_false(g.f[3].in_data);
    /* nor digits cut before any SP */
    feed(&fr, &g, "12", 2);
    finish(&fr, &g);
    assert_int_equal(g.count, 5);
    unframed_is(&g, 4, "12", 0, SYSLOG_UNFRAMED_NO_SP);
    syslog_framer_free(&fr);
    syslog_framer_free(&fr);
    syslog_framer_free(NULL);
}

static void test_too_long(void **state)
{
    (void)state;
    got_t g;
    /* a count over max (up to the ceiling, 64 x max) is octet counting: the
     * frame is cut to max and the rest of its count skipped; the next frame
     * is intact */
    assert_int_equal(syslog_frame_ceiling(8), 512);
    run_s("20 <13>0123456789abcdef\n7 <13>xyz", 8, &g);
    assert_int_equal(g.count, 2);
    frame_is(&g, 0, "<13>0123", 1);
    frame_is(&g, 1, "<13>xyz", 0);
    assert_true(g.f[0].in_data);
    run_s("8 <13>0123", 8, &g);
    frame_is(&g, 0, "<13>0123", 0);
    run_s("9 <13>01234", 8, &g);
    frame_is(&g, 0, "<13>0123", 1);
    /* the count is longer than the data: cut once max bytes are in, and
     * nothing more at the end */
    run_s("50 <13>0123456789", 8, &g);
    assert_int_equal(g.count, 1);
    frame_is(&g, 0, "<13>0123", 1);
    /* over the ceiling: a line, cut to max and skipped to its LF */
    run_s("513 <13>0123456789\n7 <13>xyz", 8, &g);
    assert_int_equal(g.count, 2);
    unframed_is(&g, 0, "513 <13>", 1, SYSLOG_UNFRAMED_TOO_LONG);
    frame_is(&g, 1, "<13>xyz", 0);

    /* trailer framing, LF and NUL */
    run_s("<13>0123456789\n<13>x\n", 8, &g);
    assert_int_equal(g.count, 2);
    frame_is(&g, 0, "<13>0123", 1);
    frame_is(&g, 1, "<13>x", 0);
    run("<13>0123456789\0<13>x\0", 21, 8, &g);
    assert_int_equal(g.count, 2);
    frame_is(&g, 0, "<13>0123", 1);
    frame_is(&g, 1, "<13>x", 0);
    /* exactly max, with and without a CR to remove */
    run_s("<13>0123\n<13>4567\r\n<13>012\r\n", 8, &g);
    assert_int_equal(g.count, 3);
    frame_is(&g, 0, "<13>0123", 0);
    frame_is(&g, 1, "<13>4567", 0);
    frame_is(&g, 2, "<13>012", 0);
    run("<13>012\r\0", 9, 8, &g);
    frame_is(&g, 0, "<13>012\r", 0);
    run("<13>0123\r\0", 10, 8, &g);
    frame_is(&g, 0, "<13>0123", 1);
    /* max + 1 then a CR that is not before an LF */
    run_s("<13>0123\rx\n", 8, &g);
    frame_is(&g, 0, "<13>0123", 1);
    /* a last line too long, with no LF */
    run_s("<13>0123456789", 8, &g);
    assert_int_equal(g.count, 1);
    frame_is(&g, 0, "<13>0123", 1);
    run_s("<13>0123\r", 8, &g);
    frame_is(&g, 0, "<13>0123", 0);

    /* max_line 1 */
    run_s("ab\nc\n1 <2 de\n1 <", 1, &g);
    assert_int_equal(g.count, 5);
    frame_is(&g, 0, "a", 1);
    frame_is(&g, 1, "c", 0);
    frame_is(&g, 2, "<", 0);
    unframed_is(&g, 3, "2", 1, SYSLOG_UNFRAMED_NO_PRI);
    frame_is(&g, 4, "<", 0);
}

static void test_long_line_in_pieces(void **state)
{
    (void)state;
    /* a 1 MB line fed in pieces never grows the buffer past max + 1 */
    syslog_framer_t fr;
    got_t g;
    memset(&g, 0, sizeof g);
    syslog_framer_init(&fr, 100);
    char piece[1000];
    memset(piece, 'x', sizeof piece);
    piece[0] = '<';
    feed(&fr, &g, piece, 50);
    piece[0] = 'x';
    for (int i = 0; i < 1000; i++)
        feed(&fr, &g, piece, sizeof piece);
    assert_int_equal(g.count, 1);
    assert_int_equal(g.f[0].n, 100);
    assert_int_equal(g.f[0].truncated, 1);
    assert_false(g.f[0].in_data);
    feed(&fr, &g, "tail\n<13>next\n", 14);
    assert_int_equal(g.count, 2);
    frame_is(&g, 1, "<13>next", 0);
    /* a count over max is a line, cut the same way, until its LF */
    feed(&fr, &g, "100000 <", 8);
    for (int i = 0; i < 99; i++)
        feed(&fr, &g, piece, sizeof piece);
    assert_int_equal(g.count, 3);
    assert_int_equal(g.f[2].n, 100);
    assert_int_equal(g.f[2].truncated, 1);
    assert_memory_equal(g.f[2].bytes, "100000 <xxx", 11);
    assert_ptr_equal(g.f[2].unframed, SYSLOG_UNFRAMED_TOO_LONG);
    feed(&fr, &g, piece, 999);
    feed(&fr, &g, "\n5 <13>z", 8);
    assert_int_equal(g.count, 4);
    frame_is(&g, 3, "<13>z", 0);
    assert_true(fr.hlen == 0 && fr.len == 0);
    syslog_framer_free(&fr);

    /* max_line 0 is the default */
    syslog_framer_init(&fr, 0);
    assert_int_equal(fr.max_line, SYSLOG_FRAME_DEFAULT_MAX);
    syslog_framer_free(&fr);
}

static void test_digit_led_lines(void **state)
{
    (void)state;
    got_t g;
    /* what used to fail the stream: lines kept whole, the stream goes on */
    run_s("2026-11-21 plain text\n<13>next\n", 100, &g);
    assert_int_equal(g.count, 2);
    unframed_is(&g, 0, "2026-11-21 plain text", 0, SYSLOG_UNFRAMED_NO_SP);
    frame_is(&g, 1, "<13>next", 0);
    assert_true(g.f[0].in_data);
    run_s("5 apples\n", 100, &g);
    assert_int_equal(g.count, 1);
    unframed_is(&g, 0, "5 apples", 0, SYSLOG_UNFRAMED_NO_PRI);
    run_s("12a <13>x\n", 100, &g);
    unframed_is(&g, 0, "12a <13>x", 0, SYSLOG_UNFRAMED_NO_SP);
    run_s("1234567890 <x\r\n", 100, &g); /* ten digits */
    unframed_is(&g, 0, "1234567890 <x", 0, SYSLOG_UNFRAMED_DIGITS);
    run_s("5\n<13>x\n", 100, &g);
    assert_int_equal(g.count, 2);
    unframed_is(&g, 0, "5", 0, SYSLOG_UNFRAMED_NO_SP);
    frame_is(&g, 1, "<13>x", 0);
    run("5\0"
        "42",
        4, 100, &g);
    assert_int_equal(g.count, 2);
    unframed_is(&g, 0, "5", 0, SYSLOG_UNFRAMED_NO_SP);
    unframed_is(&g, 1, "42", 0, SYSLOG_UNFRAMED_NO_SP); /* at finish */
    run_s("0 <13>x\n5  <x\n", 100, &g);
    assert_int_equal(g.count, 2);
    unframed_is(&g, 0, "0 <13>x", 0, SYSLOG_UNFRAMED_ZERO);
    unframed_is(&g, 1, "5  <x", 0, SYSLOG_UNFRAMED_NO_PRI); /* one SP only */
    run_s("6401 <13>x\n", 100, &g);                         /* over the ceiling, 64 x 100 */
    unframed_is(&g, 0, "6401 <13>x", 0, SYSLOG_UNFRAMED_TOO_LONG);
    /* a digit inside a line or an octet-counted frame is data */
    run_s("<13>5 apples\n9 <13>5 abc", 100, &g);
    assert_int_equal(g.count, 2);
    frame_is(&g, 0, "<13>5 apples", 0);
    frame_is(&g, 1, "<13>5 abc", 0);

    /* frames before and after stay delivered, across feeds */
    syslog_framer_t fr;
    memset(&g, 0, sizeof g);
    syslog_framer_init(&fr, 100);
    feed(&fr, &g, "<13>ok\n3 abc12", 14);
    assert_int_equal(g.count, 1);
    feed(&fr, &g, "x <13>more\n", 11);
    feed(&fr, &g, "<13>after\n20", 12);
    feed(&fr, &g, "26-12-02 plain\n", 15);
    finish(&fr, &g);
    assert_int_equal(g.count, 4);
    frame_is(&g, 0, "<13>ok", 0);
    unframed_is(&g, 1, "3 abc12x <13>more", 0, SYSLOG_UNFRAMED_NO_PRI);
    frame_is(&g, 2, "<13>after", 0);
    unframed_is(&g, 3, "2026-12-02 plain", 0, SYSLOG_UNFRAMED_NO_SP);
    assert_false(g.f[3].in_data);
    syslog_framer_free(&fr);
}

static void split_everywhere(const char *s, size_t n, size_t max, const got_t *whole);

static void test_count_over_max_keeps_sync(void **state)
{
    (void)state;
    got_t g;
    /* an LF-less octet-counted stream whose frames are longer than max:
     * each is cut, and the next one starts where its count says */
    static const char oc[] = "20 <13>0123456789abcdef12 <14>abcdefgh3 <ok"
                             "9 <15>\n\n\n\n\n8 <16>1234";
    const size_t n = sizeof oc - 1;
    run(oc, n, 8, &g);
    assert_int_equal(g.count, 5);
    frame_is(&g, 0, "<13>0123", 1);
    frame_is(&g, 1, "<14>abcd", 1);
    frame_is(&g, 2, "<ok", 0);
    frame_is(&g, 3, "<15>\n\n\n\n", 1); /* LFs inside a count are data */
    frame_is(&g, 4, "<16>1234", 0);
    split_everywhere(oc, n, 8, &g);

    /* a frame of exactly the ceiling, fed in pieces: one cut frame, the
     * buffer never past max + 1, then the next frame */
    syslog_framer_t fr;
    memset(&g, 0, sizeof g);
    syslog_framer_init(&fr, 100);
    assert_int_equal(fr.ceiling, 6400);
    char piece[640];
    memset(piece, 'x', sizeof piece);
    feed(&fr, &g, "6400 <", 6);
    feed(&fr, &g, piece, 639); /* 640 of the MSG, '<' included */
    for (int i = 0; i < 9; i++) {
        assert_int_equal(g.count, 1);
        feed(&fr, &g, piece, sizeof piece);
    }
    assert_int_equal(g.count, 1);
    assert_int_equal(g.f[0].n, 100);
    assert_int_equal(g.f[0].truncated, 1);
    assert_memory_equal(g.f[0].bytes, "<xxx", 4);
    assert_true(fr.state == SF_START && fr.len == 0);
    feed(&fr, &g, "5 <13>z", 7);
    assert_int_equal(g.count, 2);
    frame_is(&g, 1, "<13>z", 0);
    /* the end of the stream inside a skipped part adds nothing */
    feed(&fr, &g, "300 <", 5);
    feed(&fr, &g, piece, 150);
    assert_int_equal(g.count, 3);
    finish(&fr, &g);
    assert_int_equal(g.count, 3);
    assert_int_equal(g.f[2].truncated, 1);
    /* one over the ceiling: a line */
    feed(&fr, &g, "6401 <13>y\n", 11);
    assert_int_equal(g.count, 4);
    unframed_is(&g, 3, "6401 <13>y", 0, SYSLOG_UNFRAMED_TOO_LONG);
    syslog_framer_free(&fr);

    /* the ceiling: 64 x max, at most 64 MiB, never below max */
    assert_int_equal(syslog_frame_ceiling(1), 64);
    assert_int_equal(syslog_frame_ceiling(65536), 4u << 20);
    assert_int_equal(syslog_frame_ceiling(1u << 20), 64u << 20);
    assert_int_equal(syslog_frame_ceiling(8u << 20), 64u << 20);
    assert_int_equal(syslog_frame_ceiling(100u << 20), 100u << 20);
}

static void test_undecided_start_over_max(void **state)
{
    (void)state;
    /* max 3: the digits held across feeds are already longer than a frame */
    syslog_framer_t fr;
    got_t g;
    memset(&g, 0, sizeof g);
    syslog_framer_init(&fr, 3);
    feed(&fr, &g, "12345", 5);
    feed(&fr, &g, " ", 1);
    assert_int_equal(fr.hlen, 6);
    feed(&fr, &g, "<x\n2 <a", 7);
    assert_int_equal(g.count, 2);
    unframed_is(&g, 0, "123", 1, SYSLOG_UNFRAMED_TOO_LONG);
    frame_is(&g, 1, "<a", 0);
    feed(&fr, &g, "1234", 4);
    finish(&fr, &g);
    assert_int_equal(g.count, 3);
    unframed_is(&g, 2, "123", 1, SYSLOG_UNFRAMED_NO_SP);
    /* max held, then CR LF: fits; max + 1 held: cut */
    feed(&fr, &g, "123", 3);
    feed(&fr, &g, "\r\n", 2);
    assert_int_equal(g.count, 4);
    unframed_is(&g, 3, "123", 0, SYSLOG_UNFRAMED_NO_SP);
    feed(&fr, &g, "1234", 4);
    feed(&fr, &g, "\r\n", 2);
    assert_int_equal(g.count, 5);
    unframed_is(&g, 4, "123", 1, SYSLOG_UNFRAMED_NO_SP);
    syslog_framer_free(&fr);
}

/* A stream with every kind of frame, with max 8 so some are cut. */
static const char stream[] = "8 <13>hell<14>lf\n6 <13>ab<132>nul\0<13>crlf\r\n3 abc\n\n"
                             "<13>012345678901\n20 <13>0123456789abcdef\n"
                             "<13>0123\r\n<13>0123\rx\n\r\n\0"
                             "<13>0123\r\0007 <13>end2026-12-02 plain\n5 apples\r\n42\0"
                             "1234567890 x\n0 <13>z\n<13>last\r";

static void same_frames(const got_t *a, const got_t *b, size_t split)
{
    if (a->count != b->count)
        fail_msg("split at %zu: %zu frames, want %zu", split, b->count, a->count);
    for (size_t i = 0; i < a->count; i++) {
        if (a->f[i].n != b->f[i].n || memcmp(a->f[i].bytes, b->f[i].bytes, a->f[i].n) ||
            a->f[i].truncated != b->f[i].truncated || a->f[i].unframed != b->f[i].unframed)
            fail_msg("split at %zu: frame %zu differs", split, i);
    }
}

/* The frames of s with max are the same however s is split in two, and fed
 * one byte at a time. */
static void split_everywhere(const char *s, size_t n, size_t max, const got_t *whole)
{
    got_t g;
    for (size_t split = 0; split <= n; split++) {
        syslog_framer_t fr;
        memset(&g, 0, sizeof g);
        syslog_framer_init(&fr, max);
        feed(&fr, &g, s, split);
        feed(&fr, &g, s + split, n - split);
        finish(&fr, &g);
        syslog_framer_free(&fr);
        same_frames(whole, &g, split);
    }
    syslog_framer_t fr;
    memset(&g, 0, sizeof g);
    syslog_framer_init(&fr, max);
    for (size_t i = 0; i < n; i++)
        feed(&fr, &g, s + i, 1);
    finish(&fr, &g);
    syslog_framer_free(&fr);
    same_frames(whole, &g, 1);
}

static void test_split_everywhere(void **state)
{
    (void)state;
    const size_t n = sizeof stream - 1, max = 8;
    got_t whole;
    run(stream, n, max, &whole);
    assert_int_equal(whole.count, 18);
    frame_is(&whole, 0, "<13>hell", 0);
    frame_is(&whole, 1, "<14>lf", 0);
    frame_is(&whole, 2, "<13>ab", 0);
    frame_is(&whole, 3, "<132>nul", 0);
    frame_is(&whole, 4, "<13>crlf", 0);
    unframed_is(&whole, 5, "3 abc", 0, SYSLOG_UNFRAMED_NO_PRI);
    frame_is(&whole, 6, "<13>0123", 1);
    frame_is(&whole, 7, "<13>0123", 1); /* count 20: cut, the rest skipped */
    frame_is(&whole, 8, "<13>0123", 0);
    frame_is(&whole, 9, "<13>0123", 1);
    frame_is(&whole, 10, "<13>0123", 1);
    frame_is(&whole, 11, "<13>end", 0);
    unframed_is(&whole, 12, "2026-12-", 1, SYSLOG_UNFRAMED_NO_SP);
    unframed_is(&whole, 13, "5 apples", 0, SYSLOG_UNFRAMED_NO_PRI);
    unframed_is(&whole, 14, "42", 0, SYSLOG_UNFRAMED_NO_SP);
    unframed_is(&whole, 15, "12345678", 1, SYSLOG_UNFRAMED_DIGITS);
    unframed_is(&whole, 16, "0 <13>z", 0, SYSLOG_UNFRAMED_ZERO);
    /* at finish the last CR goes: "<13>last" fits exactly */
    frame_is(&whole, 17, "<13>last", 0);
    split_everywhere(stream, n, max, &whole);
}

static void test_split_everywhere_roomy(void **state)
{
    (void)state;
    /* nothing cut: the frames are the messages; split ones are copied once */
    const size_t n = sizeof stream - 1, max = 100;
    got_t whole, g;
    run(stream, n, max, &whole);
    assert_int_equal(whole.count, 18);
    frame_is(&whole, 0, "<13>hell", 0);
    unframed_is(&whole, 5, "3 abc", 0, SYSLOG_UNFRAMED_NO_PRI);
    frame_is(&whole, 6, "<13>012345678901", 0);
    frame_is(&whole, 7, "<13>0123456789abcdef", 0);
    frame_is(&whole, 8, "<13>0123", 0);
    frame_is(&whole, 9, "<13>0123\rx", 0);
    frame_is(&whole, 10, "<13>0123\r", 0);
    frame_is(&whole, 11, "<13>end", 0);
    unframed_is(&whole, 12, "2026-12-02 plain", 0, SYSLOG_UNFRAMED_NO_SP);
    unframed_is(&whole, 13, "5 apples", 0, SYSLOG_UNFRAMED_NO_PRI);
    unframed_is(&whole, 14, "42", 0, SYSLOG_UNFRAMED_NO_SP);
    unframed_is(&whole, 15, "1234567890 x", 0, SYSLOG_UNFRAMED_DIGITS);
    unframed_is(&whole, 16, "0 <13>z", 0, SYSLOG_UNFRAMED_ZERO);
    frame_is(&whole, 17, "<13>last", 0);
    split_everywhere(stream, n, max, &whole);
    for (size_t split = 0; split <= n; split++) {
        syslog_framer_t fr;
        memset(&g, 0, sizeof g);
        syslog_framer_init(&fr, max);
        feed(&fr, &g, stream, split);
        feed(&fr, &g, stream + split, n - split);
        finish(&fr, &g);
        syslog_framer_free(&fr);
        /* only the frame the split falls in was copied */
        size_t copied = 0;
        for (size_t i = 0; i < g.count; i++)
            copied += !g.f[i].in_data;
        assert_true(copied <= 2); /* the split one and "<13>last" at finish */
    }
}

static void test_split_everywhere_small_max(void **state)
{
    (void)state;
    /* small max: undecided digits held across feeds may be longer than a frame */
    static const char digits[] = "123456789 <x\n12345 <1234\n1 <2 <3\n99\r\n7 <abcdefg"
                                 "1234567890\n2026-12-02 plain\n5 apples\n4 <5 \n";
    for (size_t max = 1; max <= 12; max++) {
        got_t whole;
        run(stream, sizeof stream - 1, max, &whole);
        split_everywhere(stream, sizeof stream - 1, max, &whole);
        run(digits, sizeof digits - 1, max, &whole);
        split_everywhere(digits, sizeof digits - 1, max, &whole);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_octet_counting),
        cmocka_unit_test(test_trailers),
        cmocka_unit_test(test_mixed),
        cmocka_unit_test(test_count_beyond_data),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_long_line_in_pieces),
        cmocka_unit_test(test_digit_led_lines),
        cmocka_unit_test(test_count_over_max_keeps_sync),
        cmocka_unit_test(test_undecided_start_over_max),
        cmocka_unit_test(test_split_everywhere),
        cmocka_unit_test(test_split_everywhere_roomy),
        cmocka_unit_test(test_split_everywhere_small_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
