/* test_spool.c - liblogship's disk spool (src/client/spool.c): order,
 * acknowledgement and deletion, another process's files, the batch numbers
 * they keep, torn and damaged tails, the size limit, prepend, the lock. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/spool.h"

static char dir[256];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/test_client_spool.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static cbatch_t *make(cproducer_t *p, int i)
{
    cbatch_t *b = cbatch_new();
    char line[64];
    int n = snprintf(line, sizeof line, "{\"msg\":\"record %d\"}\n", i);
    for (int k = 0; k <= i % 3; k++)
        cbuf_add(&b->data, line, (size_t)n);
    b->count = (uint32_t)(i % 3 + 1);
    b->prod = p;
    b->own = 1;
    b->ring_start = (uint64_t)i * 100;
    b->ring_end = (uint64_t)i * 100 + 100;
    return b;
}

static void check(const cbatch_t *b, int i)
{
    char line[64];
    int n = snprintf(line, sizeof line, "{\"msg\":\"record %d\"}\n", i);
    assert_int_equal(b->count, i % 3 + 1);
    assert_int_equal(b->data.len, (size_t)n * (size_t)(i % 3 + 1));
    assert_memory_equal(b->data.data, line, (size_t)n);
}

static int files(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)))
        n += strncmp(de->d_name, "spool-", 6) == 0;
    closedir(d);
    return n;
}

static void test_fifo_and_ack(void **state)
{
    cproducer_t own = {"me-1", 1};
    spool_t *s;
    assert_int_equal(spool_open(&s, dir, 1 << 20, &own), 0);
    assert_false(spool_pending(s));
    assert_true(spool_own_start(s) == UINT64_MAX);
    for (int i = 0; i < 10; i++) {
        cbatch_t *b = make(&own, i);
        assert_int_equal(spool_append(s, b), 0);
        cbatch_free(b);
    }
    assert_true(spool_pending(s));
    assert_int_equal(spool_own_start(s), 0);
    for (int i = 0; i < 10; i++) {
        cbatch_t *b = spool_load(s);
        assert_non_null(b);
        check(b, i);
        assert_true(b->own && b->prod == &own);
        assert_int_equal(b->no, 0); /* never sent */
        assert_int_equal(b->ring_start, (uint64_t)i * 100);
        b->no = (uint64_t)i + 1;
        spool_set_no(s, b);
        spool_acked(s, b);
        cbatch_free(b);
    }
    assert_null(spool_load(s));
    assert_false(spool_pending(s));
    assert_int_equal(files(), 0); /* all acknowledged: deleted */
    spool_close(s);
}

/* What one process leaves, the next one sends: same producer id, the
 * numbers already given, nothing acknowledged twice. */
static void test_restart(void **state)
{
    cproducer_t a = {"proc-a", 1};
    spool_t *s;
    assert_int_equal(spool_open(&s, dir, 1 << 20, &a), 0);
    for (int i = 0; i < 6; i++) {
        cbatch_t *b = make(&a, i);
        assert_int_equal(spool_append(s, b), 0);
        cbatch_free(b);
    }
    /* the first is acknowledged, the second sent (numbered) but not */
    cbatch_t *b = spool_load(s);
    b->no = 7;
    spool_set_no(s, b);
    spool_acked(s, b);
    cbatch_free(b);
    b = spool_load(s);
    b->no = 8;
    spool_set_no(s, b);
    cbatch_free(b);
    spool_close(s);

    cproducer_t me = {"proc-b", 1};
    assert_int_equal(spool_open(&s, dir, 1 << 20, &me), 0);
    assert_true(spool_pending(s));
    assert_true(spool_own_start(s) == UINT64_MAX); /* nothing of proc-b's */
    for (int i = 1; i < 6; i++) {
        b = spool_load(s);
        assert_non_null(b);
        check(b, i);
        assert_false(b->own);
        assert_string_equal(b->prod->id, "proc-a");
        assert_int_equal(b->prod->next_no, 9); /* after the highest given */
        assert_int_equal(b->no, i == 1 ? 8 : 0);
        spool_acked(s, b);
        cbatch_free(b);
    }
    assert_null(spool_load(s));
    assert_int_equal(files(), 0);
    spool_close(s);
}

static const char *only_file(char *out, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    while ((de = readdir(d)))
        if (strncmp(de->d_name, "spool-", 6) == 0)
            snprintf(out, cap, "%s/%s", dir, de->d_name);
    closedir(d);
    return out;
}

/* A crash in the middle of an append, or a damaged entry, ends the file
 * there; the entries before it are sent. */
static void test_torn_and_damaged(void **state)
{
    cproducer_t a = {"proc-a", 1};
    spool_t *s;
    assert_int_equal(spool_open(&s, dir, 1 << 20, &a), 0);
    for (int i = 0; i < 4; i++) {
        cbatch_t *b = make(&a, i);
        assert_int_equal(spool_append(s, b), 0);
        cbatch_free(b);
    }
    spool_close(s);
    char path[512];
    only_file(path, sizeof path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size - 5), 0); /* torn last entry */

    cproducer_t me = {"proc-b", 1};
    assert_int_equal(spool_open(&s, dir, 1 << 20, &me), 0);
    int n = 0;
    cbatch_t *b;
    while ((b = spool_load(s))) {
        check(b, n++);
        cbatch_free(b);
    }
    assert_int_equal(n, 3);
    spool_close(s);

    /* flip a byte in the second entry's data: only the first is left */
    int fd = open(path, O_RDWR);
    char c;
    off_t at = 128 + 40 + 18 + 40 + 2; /* inside entry 1's data */
    assert_int_equal(pread(fd, &c, 1, at), 1);
    c ^= 0x20;
    assert_int_equal(pwrite(fd, &c, 1, at), 1);
    close(fd);
    assert_int_equal(spool_open(&s, dir, 1 << 20, &me), 0);
    b = spool_load(s);
    assert_non_null(b);
    check(b, 0);
    spool_acked(s, b);
    cbatch_free(b);
    assert_null(spool_load(s));
    spool_close(s);
    assert_int_equal(files(), 0);
}

static void test_limit(void **state)
{
    cproducer_t a = {"proc-a", 1};
    spool_t *s;
    assert_int_equal(spool_open(&s, dir, 4096, &a), 0);
    int n = 0;
    for (;;) {
        cbatch_t *b = make(&a, 2);
        int rc = spool_append(s, b);
        cbatch_free(b);
        if (rc)
            break;
        n++;
    }
    assert_true(n > 10 && n < 4096 / 100);
    assert_true(spool_used(s) <= 4096);
    spool_close(s);
    /* cleanup for the next test */
    cproducer_t me = {"proc-c", 1};
    assert_int_equal(spool_open(&s, dir, 4096, &me), 0);
    cbatch_t *b;
    while ((b = spool_load(s))) {
        spool_acked(s, b);
        cbatch_free(b);
    }
    spool_close(s);
    assert_int_equal(files(), 0);
}

/* At close, batches that were only in memory are older than the spool's:
 * they are put in front. */
static void test_prepend(void **state)
{
    cproducer_t a = {"proc-a", 1};
    spool_t *s;
    assert_int_equal(spool_open(&s, dir, 1 << 20, &a), 0);
    for (int i = 3; i < 6; i++) {
        cbatch_t *b = make(&a, i);
        assert_int_equal(spool_append(s, b), 0);
        cbatch_free(b);
    }
    cbatch_t *mem[3];
    for (int i = 0; i < 3; i++) {
        mem[i] = make(&a, i);
        mem[i]->no = (uint64_t)i + 1; /* sent, not acknowledged */
    }
    assert_int_equal(spool_prepend(s, mem, 3), 0);
    for (int i = 0; i < 3; i++)
        cbatch_free(mem[i]);
    spool_close(s);
    cproducer_t me = {"proc-b", 1};
    assert_int_equal(spool_open(&s, dir, 1 << 20, &me), 0);
    for (int i = 0; i < 6; i++) {
        cbatch_t *b = spool_load(s);
        assert_non_null(b);
        check(b, i);
        assert_int_equal(b->no, i < 3 ? (uint64_t)i + 1 : 0);
        spool_acked(s, b);
        cbatch_free(b);
    }
    spool_close(s);
    assert_int_equal(files(), 0);
}

static void test_lock(void **state)
{
    cproducer_t a = {"proc-a", 1}, b = {"proc-b", 1};
    spool_t *s1, *s2;
    assert_int_equal(spool_open(&s1, dir, 1 << 20, &a), 0);
    assert_int_equal(spool_open(&s2, dir, 1 << 20, &b), LOGSHIP_EBUSY);
    spool_close(s1);
    assert_int_equal(spool_open(&s2, dir, 1 << 20, &b), 0);
    spool_close(s2);
    assert_int_equal(spool_open(&s2, "/proc/no/such/dir", 1 << 20, &b), LOGSHIP_ESPOOL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_and_ack),     cmocka_unit_test(test_restart),
        cmocka_unit_test(test_torn_and_damaged), cmocka_unit_test(test_limit),
        cmocka_unit_test(test_prepend),          cmocka_unit_test(test_lock),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
