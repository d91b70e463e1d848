/* test_outstate.c - the AMQP output's files in the data directory
 * (src/amqp/outstate.c): the node id is made once and kept, the confirmed
 * seq round-trips, and files that do not parse are refused by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "amqp/outstate.h"

static void test_parse_confirmed(void **state)
{
    (void)state;
    uint64_t v;
    const char *why;
    assert_int_equal(outstate_parse_confirmed("confirmed 42\n", 13, &v, &why), 0);
    assert_int_equal(v, 42);
    assert_int_equal(outstate_parse_confirmed("confirmed 0", 11, &v, &why), 0);
    assert_int_equal(v, 0);
    const char *max = "confirmed 18446744073709551615\n";
    assert_int_equal(outstate_parse_confirmed(max, strlen(max), &v, &why), 0);
    assert_true(v == UINT64_MAX);
    static const char *const bad[] = {
        "",
        "confirmed",
        "confirmed ",
        "confirmed -1",
        "confirmed 1 ",
        "confirmed 1\n\n",
        "Confirmed 1",
        "confirmed 18446744073709551616",
        "confirmed 000000000000000000001",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        if (outstate_parse_confirmed(bad[i], strlen(bad[i]), &v, &why) != -1)
            fail_msg("'%s' was accepted", bad[i]);
        assert_non_null(why);
    }
}

static void test_parse_node_id(void **state)
{
    (void)state;
    char id[NODE_ID_LEN + 1];
    const char *why;
    assert_int_equal(outstate_parse_node_id("0123456789abcdef0123456789abcdef\n", 33, id, &why), 0);
    assert_string_equal(id, "0123456789abcdef0123456789abcdef");
    assert_int_equal(outstate_parse_node_id("0123456789ABCDEF0123456789abcdef", 32, id, &why), -1);
    assert_int_equal(outstate_parse_node_id("0123456789abcdef0123456789abcde", 31, id, &why), -1);
    assert_int_equal(outstate_parse_node_id("", 0, id, &why), -1);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_load_and_save(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_outstate.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char id[NODE_ID_LEN + 1], id2[NODE_ID_LEN + 1], err[512];
    uint64_t c = 99;

    /* a new directory: an id is made, nothing is confirmed */
    assert_int_equal(outstate_load(dir, id, &c, err, sizeof err), 0);
    assert_int_equal(strlen(id), NODE_ID_LEN);
    assert_int_equal(strspn(id, "0123456789abcdef"), NODE_ID_LEN);
    assert_int_equal(c, 0);

    /* the id stays; the seq saved is the seq loaded */
    assert_int_equal(outstate_save_confirmed(dir, 123456789), 0);
    assert_int_equal(outstate_load(dir, id2, &c, err, sizeof err), 0);
    assert_string_equal(id, id2);
    assert_int_equal(c, 123456789);
    char path[512];
    snprintf(path, sizeof path, "%s/amqp-out.confirmed.tmp", dir);
    assert_int_not_equal(access(path, F_OK), 0); /* no temporary left behind */

    /* damaged files are refused, naming the file */
    write_file(dir, "amqp-out.confirmed", "confirmed twelve\n");
    assert_int_equal(outstate_load(dir, id2, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "amqp-out.confirmed"));
    write_file(dir, "node-id", "not an id\n");
    assert_int_equal(outstate_load(dir, id2, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "node-id"));

    snprintf(path, sizeof path, "%s/node-id", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/amqp-out.confirmed", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_confirmed),
        cmocka_unit_test(test_parse_node_id),
        cmocka_unit_test(test_load_and_save),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
