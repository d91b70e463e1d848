/* test_bench_rec.c - the records of logship bench and their tags
 * (src/cli/bench_rec.c): each encoding byte for byte, --size exactly, the
 * corpus, and tags found again in whole texts and in streams cut at every
 * byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/bench_rec.h"

#define RUN "0123456789abcdef"

static bench_rec_t r;
static buf_t out;
static char err[128];

typedef struct seen {
    uint64_t id[64], t[64];
    size_t n;
} seen_t;

static void on_tag(void *arg, uint64_t id, uint64_t t)
{
    seen_t *s = arg;
    if (s->n < 64) {
        s->id[s->n] = id;
        s->t[s->n] = t;
    }
    s->n++;
}

static const char *text(void)
{
    return buf_cstr(&out);
}

static int teardown(void **state)
{
    (void)state;
    bench_rec_free(&r);
    buf_free(&out);
    return 0;
}

static void test_tag_is_fixed_width(void **state)
{
    (void)state;
    char tag[BENCH_TAG_LEN + 1] = {0};
    bench_tag(tag, RUN, 42, 1234567890123ULL);
    assert_string_equal(tag, "lsb_0123456789abcdef_000000000042_00000001234567890123");
    bench_tag(tag, RUN, BENCH_ID_MAX, UINT64_MAX);
    assert_string_equal(tag, "lsb_0123456789abcdef_999999999999_18446744073709551615");
}

static void test_form_and_json(void **state)
{
    (void)state;
    assert_int_equal(bench_rec_init(&r, BENCH_ENC_FORM, RUN, 54, NULL, 0, err, sizeof err), 0);
    bench_rec_append(&r, &out, 7, 99, NULL);
    assert_string_equal(text(),
                        "log=lsb_0123456789abcdef_000000000007_00000000000000000099&app=bench");
    bench_rec_free(&r);
    buf_reset(&out);
    assert_int_equal(bench_rec_init(&r, BENCH_ENC_JSON, RUN, 60, NULL, 0, err, sizeof err), 0);
    bench_rec_append(&r, &out, 1, 2, NULL);
    assert_string_equal(text(),
                        "{\"app\":\"bench\",\"level\":\"info\",\"msg\":\"lsb_0123456789abcdef_"
                        "000000000001_00000000000000000002 GET /\"}");
    assert_true(out.len <= bench_rec_max(&r));
}

/* The message is --size bytes: in JSON (nothing to escape in the filler)
 * the text between the quotes. */
static void test_size_is_the_message_length(void **state)
{
    (void)state;
    const size_t sizes[] = {54, 55, 56, 128, 1000, 5000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        assert_int_equal(
            bench_rec_init(&r, BENCH_ENC_JSON, RUN, sizes[i], NULL, 0, err, sizeof err), 0);
        buf_reset(&out);
        bench_rec_append(&r, &out, 3, 4, NULL);
        const char *m = strstr(text(), "\"msg\":\"") + 7;
        assert_int_equal(strlen(m) - 2, sizes[i]); /* less the closing "} */
        assert_true(out.len <= bench_rec_max(&r));
        bench_rec_free(&r);
    }
}

static void test_syslog_3164_and_5424_lf_and_octets(void **state)
{
    (void)state;
    bench_stamp_t st = {0};
    assert_int_equal(bench_rec_init(&r, BENCH_ENC_SYSLOG, RUN, 54, NULL, 0, err, sizeof err), 0);
    snprintf(r.host, sizeof r.host, "h1");
    r.pid = 42;
    r.rfc5424 = 1;
    bench_stamp_set(&r, &st, 1764763200); /* 2025-12-03T12:00:00Z */
    bench_rec_append(&r, &out, 5, 6, &st);
    assert_string_equal(text(), "<14>1 2025-12-03T12:00:00Z h1 bench 42 - - "
                                "lsb_0123456789abcdef_000000000005_00000000000000000006\n");
    buf_reset(&out);
    r.octet_count = 1;
    r.lf = 0;
    bench_rec_append(&r, &out, 5, 6, &st);
    const char *frame = "<14>1 2025-12-03T12:00:00Z h1 bench 42 - - "
                        "lsb_0123456789abcdef_000000000005_00000000000000000006";
    char want[256];
    snprintf(want, sizeof want, "%zu %s", strlen(frame), frame);
    assert_string_equal(text(), want);
    bench_rec_append(&r, &out, 6, 6, &st); /* frames follow each other */
    assert_int_equal(out.len, 2 * strlen(want));
    assert_true(out.len / 2 <= bench_rec_max(&r));

    buf_reset(&out);
    r.rfc5424 = 0;
    r.octet_count = 0;
    r.lf = 1;
    st.len = 0;
    bench_stamp_set(&r, &st, 1764763200);
    bench_rec_append(&r, &out, 5, 6, &st);
    /* <14>Mmm dd hh:mm:ss h1 bench[42]: tag (local time: the 3rd or 4th) */
    assert_int_equal(strncmp(text(), "<14>Dec  ", 9), 0);
    assert_int_equal(text()[4 + 15], ' ');
    assert_non_null(strstr(text(), " h1 bench[42]: lsb_0123456789abcdef_000000000005_"));
    assert_int_equal(text()[out.len - 1], '\n');
    /* within the same second the stamp is kept */
    char before[40];
    memcpy(before, st.text, sizeof before);
    bench_stamp_set(&r, &st, 1764763200);
    assert_memory_equal(before, st.text, sizeof before);
}

static void test_corpus_lines_cycle_escaped(void **state)
{
    (void)state;
    const char corpus[] = "first \"quoted\" line\r\n\n\tsecond a=b&c\nthird\\";
    assert_int_equal(
        bench_rec_init(&r, BENCH_ENC_JSON, RUN, 0, corpus, sizeof corpus - 1, err, sizeof err), 0);
    assert_int_equal(r.nlines, 3);          /* the empty line is skipped */
    bench_rec_append(&r, &out, 3, 0, NULL); /* id % 3 == 0: the first */
    assert_non_null(strstr(text(), "_00000000000000000000 first \\\"quoted\\\" line\"}"));
    buf_reset(&out);
    bench_rec_append(&r, &out, 4, 0, NULL);
    assert_non_null(strstr(text(), " \\u0009second a=b&c\"}"));
    buf_reset(&out);
    bench_rec_append(&r, &out, 5, 0, NULL);
    assert_non_null(strstr(text(), " third\\\\\"}"));
    bench_rec_free(&r);

    buf_reset(&out);
    assert_int_equal(
        bench_rec_init(&r, BENCH_ENC_FORM, RUN, 0, corpus, sizeof corpus - 1, err, sizeof err), 0);
    bench_rec_append(&r, &out, 4, 0, NULL);
    assert_non_null(strstr(text(), "+%09second+a%3Db%26c&app=bench"));
    bench_rec_free(&r);

    assert_int_equal(bench_rec_init(&r, BENCH_ENC_JSON, RUN, 0, "\n\r\n", 3, err, sizeof err), -1);
    assert_non_null(strstr(err, "no line"));
}

static void test_tags_found_in_text(void **state)
{
    (void)state;
    char a[BENCH_TAG_LEN], b[BENCH_TAG_LEN], other[BENCH_TAG_LEN];
    bench_tag(a, RUN, 1, 10);
    bench_tag(b, RUN, 2, 20);
    bench_tag(other, "fedcba9876543210", 3, 30);
    buf_t t = BUF_INIT;
    buf_puts(&t, "{\"seq\":1,\"msg\":\"");
    buf_append(&t, a, sizeof a);
    buf_puts(&t, " x\"}\n{\"msg\":\"l ls lsb lsb_ ");
    buf_append(&t, other, sizeof other); /* another run's: not ours */
    buf_puts(&t, "lsb_0123456789abcdef_00000000000x_");
    buf_append(&t, b, sizeof b);
    buf_append(&t, a, 30); /* cut short at the end */
    seen_t s = {0};
    assert_int_equal(bench_tags_scan(RUN, t.data, t.len, on_tag, &s), 2);
    assert_int_equal(s.id[0], 1);
    assert_int_equal(s.t[0], 10);
    assert_int_equal(s.id[1], 2);
    assert_int_equal(s.t[1], 20);

    /* the same text fed in two pieces cut at every byte, and byte by byte */
    for (size_t cut = 0; cut <= t.len; cut++) {
        bench_tag_stream_t st = {0};
        seen_t f = {0};
        bench_tags_feed(&st, RUN, t.data, cut, on_tag, &f);
        bench_tags_feed(&st, RUN, t.data + cut, t.len - cut, on_tag, &f);
        assert_int_equal(f.n, 2);
        assert_int_equal(f.id[0], 1);
        assert_int_equal(f.id[1], 2);
        assert_int_equal(f.t[1], 20);
    }
    bench_tag_stream_t st = {0};
    seen_t f = {0};
    for (size_t i = 0; i < t.len; i++)
        bench_tags_feed(&st, RUN, t.data + i, 1, on_tag, &f);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.id[1], 2);
    buf_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_tag_is_fixed_width, teardown),
        cmocka_unit_test_teardown(test_form_and_json, teardown),
        cmocka_unit_test_teardown(test_size_is_the_message_length, teardown),
        cmocka_unit_test_teardown(test_syslog_3164_and_5424_lf_and_octets, teardown),
        cmocka_unit_test_teardown(test_corpus_lines_cycle_escaped, teardown),
        cmocka_unit_test_teardown(test_tags_found_in_text, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
