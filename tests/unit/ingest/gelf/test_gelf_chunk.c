/* test_gelf_chunk.c - chunked GELF reassembly (src/ingest/gelf/gelf_chunk.c):
 * any order, repeats, and the bounds in memory and time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/gelf/gelf_chunk.h"

#define SEC 1000000000LL

static gelf_chunks_t t;
static buf_t out;

static int setup(void **state)
{
    (void)state;
    gelf_chunks_init(&t);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gelf_chunks_free(&t);
    buf_free(&out);
    return 0;
}

/* A chunk of message id: its sequence number, the count, the part. */
static size_t chunk(char *dst, uint64_t id, unsigned seq, unsigned count, const char *part,
                    size_t n)
{
    dst[0] = 0x1e;
    dst[1] = 0x0f;
    memcpy(dst + 2, &id, 8);
    dst[10] = (char)seq;
    dst[11] = (char)count;
    memcpy(dst + 12, part, n);
    return 12 + n;
}

static enum gelf_chunk_result add(uint64_t id, unsigned seq, unsigned count, const char *part,
                                  int64_t now)
{
    char dg[12 + 4096];
    size_t n = chunk(dg, id, seq, count, part, strlen(part));
    return gelf_chunks_add(&t, dg, n, now, &out);
}

static void test_any_order_and_repeats(void **state)
{
    (void)state;
    assert_int_equal(add(1, 2, 3, "three", 0), GELF_CHUNK_WAIT);
    assert_int_equal(add(2, 0, 2, "other-", 0), GELF_CHUNK_WAIT); /* interleaved */
    assert_int_equal(add(1, 0, 3, "one-", 0), GELF_CHUNK_WAIT);
    assert_int_equal(add(1, 0, 3, "ONE-", 0), GELF_CHUNK_WAIT); /* a repeat: ignored */
    assert_int_equal(add(1, 1, 3, "two-", 0), GELF_CHUNK_COMPLETE);
    assert_int_equal(out.len, strlen("one-two-three"));
    assert_memory_equal(out.data, "one-two-three", out.len);
    assert_int_equal(add(2, 1, 2, "message", 0), GELF_CHUNK_COMPLETE);
    assert_memory_equal(out.data, "other-message", out.len);
    assert_int_equal(t.used, 0);
    assert_int_equal(t.held, 0); /* C1 */
}

static void test_single_chunk_and_invalid(void **state)
{
    (void)state;
    assert_int_equal(add(3, 0, 1, "whole", 0), GELF_CHUNK_COMPLETE);
    assert_memory_equal(out.data, "whole", 5);
    assert_int_equal(add(4, 3, 3, "x", 0), GELF_CHUNK_INVALID);   /* seq >= count */
    assert_int_equal(add(4, 0, 0, "x", 0), GELF_CHUNK_INVALID);   /* no chunks */
    assert_int_equal(add(4, 0, 129, "x", 0), GELF_CHUNK_INVALID); /* over 128 */
    assert_int_equal(add(5, 0, 2, "a", 0), GELF_CHUNK_WAIT);
    assert_int_equal(add(5, 1, 3, "b", 0), GELF_CHUNK_INVALID); /* its count changed */
    char tiny[5] = {0x1e, 0x0f, 1, 2, 3};
    assert_int_equal(gelf_chunks_add(&t, tiny, sizeof tiny, 0, &out), GELF_CHUNK_INVALID);
    assert_int_equal(t.invalid, 5);
    assert_true(gelf_is_chunk(tiny, 2));
    assert_false(gelf_is_chunk("{}", 2));
}

static void test_time_bound(void **state)
{
    (void)state;
    assert_int_equal(add(6, 0, 2, "first half", 1 * SEC), GELF_CHUNK_WAIT);
    assert_int_equal(t.used, 1);
    /* within 5 s of its first chunk it still completes */
    assert_int_equal(add(7, 0, 2, "a", 2 * SEC), GELF_CHUNK_WAIT);
    assert_int_equal(add(7, 1, 2, "b", 6 * SEC), GELF_CHUNK_COMPLETE);
    /* past it the message is dropped whole: its late half starts anew */
    assert_int_equal(gelf_chunks_expire(&t, 6 * SEC + 1), 1);
    assert_int_equal(t.expired, 1);
    assert_int_equal(t.used, 0);
    assert_int_equal(t.held, 0);
    assert_int_equal(add(6, 1, 2, "second half", 7 * SEC), GELF_CHUNK_WAIT);
    assert_int_equal(gelf_chunks_expire(&t, 20 * SEC), 1);
}

static void test_memory_bounds(void **state)
{
    (void)state;
    /* every slot taken by a message that never completes */
    for (uint64_t id = 100; id < 100 + GELF_PENDING; id++)
        assert_int_equal(add(id, 0, 2, "x", 0), GELF_CHUNK_WAIT);
    assert_int_equal(t.used, GELF_PENDING);
    /* one more message: no room, dropped; the others are kept */
    assert_int_equal(add(99, 0, 2, "y", 0), GELF_CHUNK_DROPPED);
    assert_int_equal(t.overflowed, 1);
    assert_int_equal(add(100, 1, 2, "z", 0), GELF_CHUNK_COMPLETE);
    assert_memory_equal(out.data, "xz", 2);
    gelf_chunks_expire(&t, 10 * SEC);
    assert_int_equal(t.used, 0);

    /* bytes: parts of 4000 bytes until GELF_PENDING_BYTES would be passed */
    char part[4001];
    memset(part, 'p', 4000);
    part[4000] = '\0';
    size_t held = 0;
    unsigned seq = 0;
    uint64_t id = 500;
    enum gelf_chunk_result r = GELF_CHUNK_WAIT;
    while (r == GELF_CHUNK_WAIT) {
        r = add(id, seq, 128, part, 20 * SEC);
        if (r == GELF_CHUNK_WAIT)
            held += 4000;
        if (++seq == 127) { /* never the last part: the message stays open */
            seq = 0;
            id++;
        }
        assert_true(t.held <= GELF_PENDING_BYTES); /* C1 */
    }
    assert_int_equal(r, GELF_CHUNK_DROPPED);
    /* the message the refused chunk belonged to went with it */
    assert_true(t.held < held);
    assert_true(held + 4000 > GELF_PENDING_BYTES);
    gelf_chunks_expire(&t, 40 * SEC);
    assert_int_equal(t.held, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_any_order_and_repeats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_chunk_and_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_bounds, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
