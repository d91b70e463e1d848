/* test_syslog_frame.c - RFC 6587 framing of syslog TCP streams
 * (src/ingest/syslog/syslog_frame.c): octet counting, LF, NUL and CRLF
 * trailers, cut frames, garbage, and streams split at every byte. */
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
    int in_data; /* delivered as a pointer into the feed's data */
} frame_t;

typedef struct got {
    frame_t f[MAXF];
    size_t count;
    const char *data; /* the feed being run */
    size_t data_n;
    const syslog_framer_t *framer;
} got_t;

static void on_frame(void *arg, const char *p, size_t n, int truncated)
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
    f->in_data = g->data && p >= g->data && p + n <= g->data + g->data_n;
    if (!f->in_data) /* else it is the framer's own buffer */
        assert_true(p >= g->framer->buf && p + n <= g->framer->buf + g->framer->cap);
}

static int feed(syslog_framer_t *fr, got_t *g, const char *s, size_t n)
{
    g->data = s;
    g->data_n = n;
    g->framer = fr;
    int rc = syslog_framer_feed(fr, s, n, on_frame, g);
    /* invariant 2 of syslog_frame.c: the buffer stays bounded */
    assert_true(fr->len <= fr->max_line + 1);
    assert_true(fr->cap == 0 || fr->cap == fr->max_line + 1);
    g->data = NULL;
    return rc;
}

static void finish(syslog_framer_t *fr, got_t *g)
{
    g->framer = fr;
    syslog_framer_finish(fr, on_frame, g);
}

static void frame_is(const got_t *g, size_t i, const char *want, int truncated)
{
    if (i >= g->count)
        fail_msg("frame %zu missing (have %zu), want \"%s\"", i, g->count, want);
    const frame_t *f = &g->f[i];
    if (f->n != strlen(want) || memcmp(f->bytes, want, f->n) != 0)
        fail_msg("frame %zu: got \"%.*s\", want \"%s\"", i, (int)f->n, f->bytes, want);
    assert_int_equal(f->truncated, truncated);
}

/* Runs the whole of s (n bytes) through a new framer in one feed plus
 * finish; returns feed's result. */
static int run(const char *s, size_t n, size_t max, got_t *g)
{
    syslog_framer_t fr;
    memset(g, 0, sizeof *g);
    syslog_framer_init(&fr, max);
    int rc = feed(&fr, g, s, n);
    if (rc == 0)
        finish(&fr, g);
    syslog_framer_free(&fr);
    return rc;
}

static int run_s(const char *s, size_t max, got_t *g)
{
    return run(s, strlen(s), max, g);
}

static void test_octet_counting(void **state)
{
    (void)state;
    got_t g;
    assert_int_equal(run_s("9 <13>hello10 <14>world!", 100, &g), 0);
    assert_int_equal(g.count, 2);
    frame_is(&g, 0, "<13>hello", 0);
    frame_is(&g, 1, "<14>world!", 0);
    assert_true(g.f[0].in_data && g.f[1].in_data);

    /* logger --tcp --octet-count */
    const char *logger = "96 <13>1 2026-11-21T11:03:30.123456+00:00 vm myapp - - [timeQuality "
                         "tzKnown=\"1\" isSynced=\"0\"] hello";
    assert_int_equal(run_s(logger, 2048, &g), 0);
    assert_int_equal(g.count, 1);
    frame_is(&g, 0, logger + 3, 0);

    /* the MSG is not looked into: LF, NUL and digits are data */
    assert_int_equal(run("7 a\nb\0c 12 x\n", 13, 100, &g), 0);
    assert_int_equal(g.count, 2);
    assert_int_equal(g.f[0].n, 7);
    assert_memory_equal(g.f[0].bytes, "a\nb\0c 1", 7);
    frame_is(&g, 1, "x\n", 0); /* "2 x\n" is counted too */

    /* an LF between octet-counted frames is an empty frame */
    assert_int_equal(run_s("3 abc\n3 def\r\n", 100, &g), 0);
    assert_int_equal(g.count, 2);
    frame_is(&g, 0, "abc", 0);
    frame_is(&g, 1, "def", 0);

    /* leading zeros; a zero count is an empty frame */
    assert_int_equal(run_s("003 abc0 <13>x\n", 100, &g), 0);
    assert_int_equal(g.count, 2);
    frame_is(&g, 0, "abc", 0);
    frame_is(&g, 1, "<13>x", 0);
    /* nine digits are allowed (the frame then waits for its data) */
    assert_int_equal(run_s("999999999 ab", 100, &g), 0);
    assert_int_equal(g.count, 1);
    frame_is(&g, 0, "ab", 1);
}

static void test_trailers(void **state)
{
    (void)state;
    got_t g;
    assert_int_equal(run_s("<13>a\n<13>bb\n", 100, &g), 0);
    assert_int_equal(g.count, 2);
    frame_is(&g, 0, "<13>a", 0);
    frame_is(&g, 1, "<13>bb", 0);
    assert_true(g.f[0].in_data && g.f[1].in_data);

    /* Python's SysLogHandler over TCP */
    assert_int_equal(run("<132>one\0<132>two\0", 18, 100, &g), 0);
    assert_int_equal(g.count, 2);
    frame_is(&g, 0, "<132>one", 0);
    frame_is(&g, 1, "<132>two", 0);

    /* CRLF: the CR before the LF goes, other CRs stay */
    assert_int_equal(run_s("<13>a\r\n<13>b\rc\n<13>d\r\r\n", 100, &g), 0);
    assert_int_equal(g.count, 3);
    frame_is(&g, 0, "<13>a", 0);
    frame_is(&g, 1, "<13>b\rc", 0);
    frame_is(&g, 2, "<13>d\r", 0);
    /* before a NUL the CR stays (the parser strips it) */
    assert_int_equal(run("<13>a\r\0", 7, 100, &g), 0);
    assert_int_equal(g.count, 1);
    frame_is(&g, 0, "<13>a\r", 0);

    /* empty frames are skipped */
    assert_int_equal(run("\n\n<13>a\n\n\r\n\0\0\r\0<13>b\n\r", 22, 100, &g), 0);
    assert_int_equal(g.count, 3);
    frame_is(&g, 0, "<13>a", 0);
    frame_is(&g, 1, "\r", 0); /* CR then NUL: not CRLF */
    frame_is(&g, 2, "<13>b", 0);
    assert_int_equal(run_s("", 100, &g), 0);
    assert_int_equal(g.count, 0);

    /* a trailer frame may start with anything but a digit */
    assert_int_equal(run_s(" x\nabc\n-\n", 100, &g), 0);
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
                     "<13>last";
    assert_int_equal(run(s, sizeof s - 1, 100, &g), 0);
    assert_int_equal(g.count, 7);
    frame_is(&g, 0, "<13>hello", 0);
    frame_is(&g, 1, "<14>lf line", 0);
    frame_is(&g, 2, "<13>ab", 0);
    frame_is(&g, 3, "<132>nul", 0);
    frame_is(&g, 4, "<13>crlf", 0);
    frame_is(&g, 5, "abc", 0);
    frame_is(&g, 6, "<13>last", 0); /* at finish */
    for (size_t i = 0; i < 6; i++)
        assert_true(g.f[i].in_data);
}

static void test_count_beyond_data(void **state)
{
    (void)state;
    syslog_framer_t fr;
    got_t g;
    memset(&g, 0, sizeof g);
    syslog_framer_init(&fr, 100);
    assert_int_equal(feed(&fr, &g, "<13>x\n100 <13>short", 19), 0);
    assert_int_equal(g.count, 1);
    assert_int_equal(feed(&fr, &g, " more", 5), 0);
    assert_int_equal(g.count, 1); /* still waiting for 100 bytes */
    finish(&fr, &g);
    assert_int_equal(g.count, 2);
    frame_is(&g, 1, "<13>short more", 1);
    assert_false(g.f[1].in_data);
    /* finish reset the framer: a new stream works, finish again is a no-op */
    finish(&fr, &g);
    assert_int_equal(g.count, 2);
    assert_int_equal(feed(&fr, &g, "2 ok", 4), 0);
    frame_is(&g, 2, "ok", 0);
    /* a count with no data at all gives no frame */
    assert_int_equal(feed(&fr, &g, "5 ", 2), 0);
    finish(&fr, &g);
    assert_int_equal(g.count, 3);
    /* nor does a count cut inside its digits */
    assert_int_equal(feed(&fr, &g, "12", 2), 0);
    finish(&fr, &g);
    assert_int_equal(g.count, 3);
    syslog_framer_free(&fr);
    syslog_framer_free(&fr);
    syslog_framer_free(NULL);
}

static void test_too_long(void **state)
{
    (void)state;
    got_t g;
    /* octet counting: cut to max, the rest skipped, the next frame intact */
    assert_int_equal(run_s("20 <13>0123456789abcdef7 <13>xyz", 8, &g), 0);
    assert_int_equal(g.count, 2);
    frame_is(&g, 0, "<13>0123", 1);
    frame_is(&g, 1, "<13>xyz", 0);
    assert_true(g.f[0].in_data);
    assert_int_equal(run_s("8 <13>0123", 8, &g), 0);
    frame_is(&g, 0, "<13>0123", 0);
    assert_int_equal(run_s("9 <13>01234", 8, &g), 0);
    frame_is(&g, 0, "<13>0123", 1);
    /* cut, and the data ends before the count: one frame only */
    assert_int_equal(run_s("50 <13>0123456789", 8, &g), 0);
    assert_int_equal(g.count, 1);
    frame_is(&g, 0, "<13>0123", 1);

    /* trailer framing, LF and NUL */
    assert_int_equal(run_s("<13>0123456789\n<13>x\n", 8, &g), 0);
    assert_int_equal(g.count, 2);
    frame_is(&g, 0, "<13>0123", 1);
    frame_is(&g, 1, "<13>x", 0);
    assert_int_equal(run("<13>0123456789\0<13>x\0", 21, 8, &g), 0);
    assert_int_equal(g.count, 2);
    frame_is(&g, 0, "<13>0123", 1);
    frame_is(&g, 1, "<13>x", 0);
    /* exactly max, with and without a CR to remove */
    assert_int_equal(run_s("<13>0123\n<13>4567\r\n<13>012\r\n", 8, &g), 0);
    assert_int_equal(g.count, 3);
    frame_is(&g, 0, "<13>0123", 0);
    frame_is(&g, 1, "<13>4567", 0);
    frame_is(&g, 2, "<13>012", 0);
    assert_int_equal(run("<13>012\r\0", 9, 8, &g), 0);
    frame_is(&g, 0, "<13>012\r", 0);
    assert_int_equal(run("<13>0123\r\0", 10, 8, &g), 0);
    frame_is(&g, 0, "<13>0123", 1);
    /* max + 1 then a CR that is not before an LF */
    assert_int_equal(run_s("<13>0123\rx\n", 8, &g), 0);
    frame_is(&g, 0, "<13>0123", 1);
    /* a last line too long, with no LF */
    assert_int_equal(run_s("<13>0123456789", 8, &g), 0);
    assert_int_equal(g.count, 1);
    frame_is(&g, 0, "<13>0123", 1);
    assert_int_equal(run_s("<13>0123\r", 8, &g), 0);
    frame_is(&g, 0, "<13>0123", 0);

    /* max_line 1 */
    assert_int_equal(run_s("ab\nc\n2 de1 f", 1, &g), 0);
    assert_int_equal(g.count, 4);
    frame_is(&g, 0, "a", 1);
    frame_is(&g, 1, "c", 0);
    frame_is(&g, 2, "d", 1);
    frame_is(&g, 3, "f", 0);
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
    assert_int_equal(feed(&fr, &g, piece, 50), 0);
    piece[0] = 'x';
    for (int i = 0; i < 1000; i++)
        assert_int_equal(feed(&fr, &g, piece, sizeof piece), 0);
    assert_int_equal(g.count, 1);
    assert_int_equal(g.f[0].n, 100);
    assert_int_equal(g.f[0].truncated, 1);
    assert_false(g.f[0].in_data);
    assert_int_equal(feed(&fr, &g, "tail\n<13>next\n", 14), 0);
    assert_int_equal(g.count, 2);
    frame_is(&g, 1, "<13>next", 0);
    /* the same for an octet-counted frame */
    assert_int_equal(feed(&fr, &g, "100000 <", 8), 0);
    for (int i = 0; i < 99; i++)
        assert_int_equal(feed(&fr, &g, piece, sizeof piece), 0);
    assert_int_equal(g.count, 3);
    assert_int_equal(g.f[2].n, 100);
    assert_int_equal(g.f[2].truncated, 1);
    assert_int_equal(feed(&fr, &g, piece, 999), 0);
    assert_int_equal(feed(&fr, &g, "5 <13>z", 7), 0);
    assert_int_equal(g.count, 4);
    frame_is(&g, 3, "<13>z", 0);
    syslog_framer_free(&fr);

    /* max_line 0 is the default */
    syslog_framer_init(&fr, 0);
    assert_int_equal(fr.max_line, SYSLOG_FRAME_DEFAULT_MAX);
    syslog_framer_free(&fr);
}

static void test_garbage_count(void **state)
{
    (void)state;
    got_t g;
    assert_int_equal(run_s("12a <13>x\n", 100, &g), -1);
    assert_int_equal(g.count, 0);
    assert_int_equal(run_s("1234567890 x", 100, &g), -1); /* ten digits */
    assert_int_equal(run_s("5\n<13>x\n", 100, &g), -1);
    assert_int_equal(run("5\0", 2, 100, &g), -1);
    assert_int_equal(run_s("2026-11-21 plain text\n", 100, &g), -1);

    /* frames before the garbage stay delivered; the framer stays failed */
    syslog_framer_t fr;
    memset(&g, 0, sizeof g);
    syslog_framer_init(&fr, 100);
    assert_int_equal(feed(&fr, &g, "<13>ok\n3 abc12", 14), 0);
    assert_int_equal(g.count, 2);
    assert_int_equal(feed(&fr, &g, "x <13>more\n", 11), -1);
    assert_int_equal(feed(&fr, &g, "<13>after\n", 10), -1);
    finish(&fr, &g);
    assert_int_equal(g.count, 2);
    frame_is(&g, 0, "<13>ok", 0);
    frame_is(&g, 1, "abc", 0);
    syslog_framer_free(&fr);
}

/* A stream with every kind of frame, with max 8 so some are cut. */
static const char stream[] = "9 <13>hello<14>lf\n6 <13>ab<132>nul\0<13>crlf\r\n3 abc\n\n"
                             "<13>012345678901\n20 <13>0123456789abcdef"
                             "<13>0123\r\n<13>0123\rx\n\r\n\0"
                             "<13>0123\r\0007 <13>end<13>last\r";

static void same_frames(const got_t *a, const got_t *b, size_t split)
{
    if (a->count != b->count)
        fail_msg("split at %zu: %zu frames, want %zu", split, b->count, a->count);
    for (size_t i = 0; i < a->count; i++) {
        if (a->f[i].n != b->f[i].n || memcmp(a->f[i].bytes, b->f[i].bytes, a->f[i].n) ||
            a->f[i].truncated != b->f[i].truncated)
            fail_msg("split at %zu: frame %zu differs", split, i);
    }
}

static void test_split_everywhere(void **state)
{
    (void)state;
    const size_t n = sizeof stream - 1, max = 8;
    got_t whole, g;
    assert_int_equal(run(stream, n, max, &whole), 0);
    assert_int_equal(whole.count, 13);
    frame_is(&whole, 0, "<13>hell", 1);
    frame_is(&whole, 1, "<14>lf", 0);
    frame_is(&whole, 2, "<13>ab", 0);
    frame_is(&whole, 3, "<132>nul", 0);
    frame_is(&whole, 4, "<13>crlf", 0);
    frame_is(&whole, 5, "abc", 0);
    frame_is(&whole, 6, "<13>0123", 1);
    frame_is(&whole, 7, "<13>0123", 1);
    frame_is(&whole, 8, "<13>0123", 0);
    frame_is(&whole, 9, "<13>0123", 1);
    frame_is(&whole, 10, "<13>0123", 1);
    frame_is(&whole, 11, "<13>end", 0);
    /* at finish the last CR goes: "<13>last" fits exactly */
    frame_is(&whole, 12, "<13>last", 0);

    for (size_t split = 0; split <= n; split++) {
        syslog_framer_t fr;
        memset(&g, 0, sizeof g);
        syslog_framer_init(&fr, max);
        assert_int_equal(feed(&fr, &g, stream, split), 0);
        assert_int_equal(feed(&fr, &g, stream + split, n - split), 0);
        finish(&fr, &g);
        syslog_framer_free(&fr);
        same_frames(&whole, &g, split);
    }
    /* and one byte at a time */
    syslog_framer_t fr;
    memset(&g, 0, sizeof g);
    syslog_framer_init(&fr, max);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(feed(&fr, &g, stream + i, 1), 0);
    finish(&fr, &g);
    syslog_framer_free(&fr);
    same_frames(&whole, &g, 1);
}

static void test_split_everywhere_roomy(void **state)
{
    (void)state;
    /* nothing cut: the frames are the messages; split ones are copied once */
    const size_t n = sizeof stream - 1, max = 100;
    got_t whole, g;
    assert_int_equal(run(stream, n, max, &whole), 0);
    assert_int_equal(whole.count, 13);
    frame_is(&whole, 0, "<13>hello", 0);
    frame_is(&whole, 6, "<13>012345678901", 0);
    frame_is(&whole, 7, "<13>0123456789abcdef", 0);
    frame_is(&whole, 9, "<13>0123\rx", 0);
    frame_is(&whole, 10, "<13>0123\r", 0);
    frame_is(&whole, 11, "<13>end", 0);
    frame_is(&whole, 12, "<13>last", 0);
    for (size_t split = 0; split <= n; split++) {
        syslog_framer_t fr;
        memset(&g, 0, sizeof g);
        syslog_framer_init(&fr, max);
        assert_int_equal(feed(&fr, &g, stream, split), 0);
        assert_int_equal(feed(&fr, &g, stream + split, n - split), 0);
        finish(&fr, &g);
        syslog_framer_free(&fr);
        same_frames(&whole, &g, split);
        /* only the frame the split falls in was copied */
        size_t copied = 0;
        for (size_t i = 0; i < g.count; i++)
            copied += !g.f[i].in_data;
        assert_true(copied <= 2); /* the split one and "<13>last" at finish */
    }
}

static void test_garbage_split_everywhere(void **state)
{
    (void)state;
    /* the failure comes at the same byte however the stream is split */
    static const char bad[] = "<13>a\n3 abc12345678901 x\n";
    const size_t n = sizeof bad - 1;
    for (size_t split = 0; split <= n; split++) {
        syslog_framer_t fr;
        got_t g;
        memset(&g, 0, sizeof g);
        syslog_framer_init(&fr, 100);
        int rc = feed(&fr, &g, bad, split);
        if (rc == 0)
            rc = feed(&fr, &g, bad + split, n - split);
        assert_int_equal(rc, -1);
        assert_int_equal(g.count, 2);
        frame_is(&g, 0, "<13>a", 0);
        frame_is(&g, 1, "abc", 0);
        syslog_framer_free(&fr);
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
        cmocka_unit_test(test_garbage_count),
        cmocka_unit_test(test_split_everywhere),
        cmocka_unit_test(test_split_everywhere_roomy),
        cmocka_unit_test(test_garbage_split_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
