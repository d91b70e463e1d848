/* test_index.c - a segment's sparse index (src/store/index.c): blocks by
 * seq with their time bounds, lookups in and between blocks, and the index
 * file: saved, loaded, and refused when it is for another file size or
 * segment, or damaged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/index.h"
#include "store/segment.h"

static void test_index_find(void **state)
{
    (void)state;
    seg_index_t ix;
    index_init(&ix, 10);
    /* 1000 records of 1 KiB: a new block every 64 */
    for (uint64_t i = 0; i < 1000; i++)
        index_add(&ix, 10 + i * 2, SEGMENT_HDR + i * 1024, 1024, (int64_t)(5000 - i));
    assert_int_equal(ix.records, 1000);
    assert_int_equal(ix.last_seq, 10 + 999 * 2);
    assert_int_equal(ix.min_ts, 5000 - 999);
    assert_int_equal(ix.max_ts, 5000);
    assert_true(ix.n >= 15 && ix.n <= 17);
    for (uint64_t i = 0; i < 1000; i++) {
        uint64_t seq = 10 + i * 2;
        size_t e = index_find(&ix, seq);
        assert_true(ix.e[e].seq <= seq);
        assert_true(e + 1 == ix.n || ix.e[e + 1].seq > seq);
        /* a seq in a gap finds the block before the gap */
        assert_int_equal(index_find(&ix, seq + 1), e);
    }
    assert_int_equal(index_find(&ix, 0), 0);
    /* per-block time bounds cover exactly that block's records */
    assert_int_equal(ix.e[0].max_ts, 5000);
    assert_int_equal(ix.e[0].min_ts, 5000 - 63);

    char path[] = "/tmp/logship-test-index.XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    assert_int_equal(index_save(&ix, path), 0);
    seg_index_t back;
    index_init(&back, 10);
    assert_int_equal(index_load(&back, path, ix.bytes), 0);
    assert_int_equal(back.n, ix.n);
    assert_memory_equal(back.e, ix.e, ix.n * sizeof *ix.e);
    assert_int_equal(back.records, 1000);
    index_free(&back);
    /* an index for a different file size is refused (it is rebuilt) */
    index_init(&back, 10);
    assert_int_equal(index_load(&back, path, ix.bytes + 1), -1);
    index_free(&back);
    /* so is one for another segment */
    index_init(&back, 11);
    assert_int_equal(index_load(&back, path, ix.bytes), -1);
    index_free(&back);
    /* and a damaged one */
    FILE *fp = fopen(path, "r+b");
    fseek(fp, 70, SEEK_SET);
    fputc('X', fp);
    fclose(fp);
    index_init(&back, 10);
    assert_int_equal(index_load(&back, path, ix.bytes), -1);
    index_free(&back);
    unlink(path);
    index_free(&ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
