/* test_tcp_parse.c - the raw TCP protocol's acknowledged batches and their
 * caps (src/ingest/tcp/tcp_parse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/tcp/tcp_parse.h"

typedef struct seen {
    int hellos, batches, errors;
    uint64_t last_no;
    size_t last_count;
    char error[200];
} seen_t;

static void ev_hello(void *arg, const char *producer)
{
    (void)producer;
    ((seen_t *)arg)->hellos++;
}

static void ev_batch(void *arg, uint64_t n, batch_t *b)
{
    seen_t *s = arg;
    s->batches++;
    s->last_no = n;
    s->last_count = b->count;
}

static void ev_error(void *arg, const char *why)
{
    seen_t *s = arg;
    s->errors++;
    snprintf(s->error, sizeof s->error, "%s", why);
}

static const tcp_events_t events = {ev_hello, ev_batch, ev_error};
static const rec_defaults_t defs = {.level = -1, .now = 1, .host = SLICE_LIT("127.0.0.1")};

typedef struct fixture {
    tcp_session_t s;
    batch_t out;
    seen_t seen;
} fixture_t;

static int feed(fixture_t *f, const char *p, size_t n)
{
    return tcp_feed(&f->s, p, n, &f->out, &defs, &events, &f->seen);
}

static int feeds(fixture_t *f, const char *p)
{
    return feed(f, p, strlen(p));
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    tcp_session_init(&f->s, 1000);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    tcp_session_free(&f->s);
    batch_free(&f->out);
    free(f);
    return 0;
}

static void hello(fixture_t *f)
{
    assert_int_equal(feeds(f, "{\"logship\":\"hello\",\"version\":1,\"producer\":\"p\"}\n"), 0);
    assert_int_equal(f->seen.hellos, 1);
}

static void test_batches_complete(void **state)
{
    fixture_t *f = *state;
    hello(f);
    assert_int_equal(f->s.max_batch_bytes, TCP_BATCH_BYTES_DEFAULT);
    assert_int_equal(feeds(f,
                           "{\"logship\":\"batch\",\"batch\":1,\"count\":2}\n{\"msg\":\"a\"}\nb\n"
                           "{\"logship\":\"batch\",\"batch\":2,\"count\":0}\n"),
                     0);
    assert_int_equal(f->seen.batches, 2);
    assert_int_equal(f->seen.last_no, 2);
    assert_int_equal(f->seen.last_count, 0);
    assert_int_equal(f->out.count, 0); /* nothing in plain mode */
}

/* A header that announces 100,000 records costs nothing until they come. */
static void test_announced_count_reserves_nothing(void **state)
{
    fixture_t *f = *state;
    hello(f);
    assert_int_equal(feeds(f, "{\"logship\":\"batch\",\"batch\":1,\"count\":100000}\n"), 0);
    char line[1001];
    memset(line, 'x', 999);
    line[999] = '\n';
    for (int i = 0; i < 3; i++)
        assert_int_equal(feed(f, line, 1000), 0);
    assert_int_equal(f->seen.batches, 0);
    assert_true(f->s.acked.frames.cap < 16 * 1024);
    assert_int_equal(f->s.batch_bytes, 3000);
}

static void test_count_cap(void **state)
{
    fixture_t *f = *state;
    hello(f);
    assert_int_equal(feeds(f, "{\"logship\":\"batch\",\"batch\":1,\"count\":100001}\n"), -1);
    assert_int_equal(f->seen.errors, 1);
    assert_non_null(strstr(f->seen.error, "count 0..100000"));
}

/* The byte cap: exactly max_batch_bytes of record lines pass, one more
 * byte fails, and it counts bytes as they arrive, before a newline. */
static void test_byte_cap(void **state)
{
    fixture_t *f = *state;
    f->s.max_batch_bytes = 100;
    hello(f);
    char lines[101];
    memset(lines, 'y', sizeof lines);
    for (int i = 9; i < 100; i += 10)
        lines[i] = '\n'; /* ten lines of ten bytes */
    assert_int_equal(feeds(f, "{\"logship\":\"batch\",\"batch\":1,\"count\":10}\n"), 0);
    assert_int_equal(feed(f, lines, 100), 0);
    assert_int_equal(f->seen.batches, 1);
    assert_int_equal(f->seen.last_count, 10);
    /* the next batch starts from zero; the header does not count */
    assert_int_equal(feeds(f, "{\"logship\":\"batch\",\"batch\":2,\"count\":11}\n"), 0);
    assert_int_equal(feed(f, lines, 100), 0);
    assert_int_equal(f->seen.errors, 0);
    assert_int_equal(feed(f, "z", 1), -1); /* the 101st byte, no newline yet */
    assert_int_equal(f->seen.batches, 1);
    assert_int_equal(f->seen.errors, 1);
    assert_string_equal(
        f->seen.error,
        "batch 2 is larger than 100 bytes (--max-batch-bytes): send smaller batches");
    assert_int_equal(feeds(f, "x\n"), -1); /* failed for good */
}

/* One huge line within a huge batch: the bytes cut from an over-long
 * line count too, though they are never kept. */
static void test_cut_lines_count(void **state)
{
    fixture_t *f = *state;
    f->s.max_batch_bytes = 5000;
    hello(f);
    assert_int_equal(feeds(f, "{\"logship\":\"batch\",\"batch\":1,\"count\":3}\n"), 0);
    static char big[6000];
    memset(big, 'q', sizeof big);
    assert_int_equal(feed(f, big, 4000), 0); /* cut at max_line 1000, rest dropped */
    assert_int_equal(feed(f, big, 1001), -1);
    assert_int_equal(f->seen.errors, 1);
}

static void test_memory_let_go_after_batch(void **state)
{
    fixture_t *f = *state;
    hello(f);
    assert_int_equal(feeds(f, "{\"logship\":\"batch\",\"batch\":1,\"count\":2000}\n"), 0);
    char line[1001];
    memset(line, 'w', 999);
    line[999] = '\n';
    for (int i = 0; i < 2000; i++)
        assert_int_equal(feed(f, line, 1000), 0);
    assert_int_equal(f->seen.batches, 1);
    assert_int_equal(f->seen.last_count, 2000);
    assert_true(f->s.acked.frames.cap <= 256 * 1024);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batches_complete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_announced_count_reserves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_byte_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_lines_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_let_go_after_batch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
