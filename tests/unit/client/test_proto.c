/* test_proto.c - the lines of liblogship's acknowledged TCP protocol
 * (src/client/proto.c): the server's replies it parses (hello, ack, nack,
 * error; anything malformed refused) and the lines it writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "client/client.h"

static void test_reply_parse(void **state)
{
    reply_t r;
    const char *hello = "{\"logship\":\"hello\",\"version\":1,\"last_seq\":50,\"last_batch\":5,"
                        "\"producer\":\"node-1\"}";
    assert_int_equal(proto_parse_reply(hello, strlen(hello), &r), 0);
    assert_int_equal(r.kind, REPLY_HELLO);
    assert_int_equal(r.last_batch, 5);
    const char *ack = "{\"logship\":\"ack\",\"batch\":5,\"first_seq\":41,\"last_seq\":50,"
                      "\"duplicate\":true}";
    assert_int_equal(proto_parse_reply(ack, strlen(ack), &r), 0);
    assert_int_equal(r.kind, REPLY_ACK);
    assert_int_equal(r.batch, 5);
    assert_int_equal(r.first_seq, 41);
    assert_int_equal(r.last_seq, 50);
    assert_true(r.duplicate);
    const char *nack = " {\"logship\" : \"nack\", \"batch\":18446744073709551615,"
                       "\"error\":\"store is behind; resend\"}\r";
    assert_int_equal(proto_parse_reply(nack, strlen(nack), &r), 0);
    assert_int_equal(r.kind, REPLY_NACK);
    assert_true(r.batch == UINT64_MAX);
    assert_string_equal(r.error, "store is behind; resend");
    const char *err = "{\"logship\":\"error\",\"error\":\"bad \\\"x\\\"\"}";
    assert_int_equal(proto_parse_reply(err, strlen(err), &r), 0);
    assert_int_equal(r.kind, REPLY_ERROR);
    assert_string_equal(r.error, "bad \"x\"");

    static const char *const bad[] = {
        "",
        "{}",
        "[1]",
        "{\"logship\":\"ack\",\"batch\":1}",                               /* no seqs */
        "{\"logship\":\"ack\",\"batch\":1,\"first_seq\":1,\"last_seq\":2", /* cut */
        "{\"logship\":\"ack\",\"batch\":18446744073709551616,\"first_seq\":1,\"last_seq\":2}",
        "{\"logship\":\"ack\",\"batch\":1.5,\"first_seq\":1,\"last_seq\":2}",
        "{\"logship\":\"ack\",\"batch\":1,\"first_seq\":{},\"last_seq\":2}",
        "{\"logship\":\"what\"}",
        "{\"logship\":\"hello\"}", /* no last_batch */
        "{\"logship\":\"nack\",\"batch\":1} x",
        "{\"logship\":\"nack\",\"batch\":1,}",
        "{\"logship\":\"nack\",\"batch\":1,\"error\":\"\x01\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (proto_parse_reply(bad[i], strlen(bad[i]), &r) == 0)
            fail_msg("accepted: %s", bad[i]);
}

static void test_lines_out(void **state)
{
    char b[160];
    size_t n = proto_hello(b, sizeof b, "host-1-abc");
    assert_int_equal(n, strlen(b));
    assert_string_equal(b, "{\"logship\":\"hello\",\"version\":1,\"producer\":\"host-1-abc\"}\n");
    n = proto_batch_header(b, sizeof b, 7, 1000);
    assert_string_equal(b, "{\"logship\":\"batch\",\"batch\":7,\"count\":1000}\n");
    assert_int_equal(n, strlen(b));
    assert_int_equal(proto_batch_header(b, 10, 7, 1000), 0); /* does not fit */
    assert_int_equal(proto_id_check("a-b.c_1:2"), 0);
    assert_int_equal(proto_id_check(""), -1);
    assert_int_equal(proto_id_check("has space"), -1);
    assert_int_equal(proto_id_check("quo\"te"), -1);
    assert_int_equal(
        proto_id_check("0123456789012345678901234567890123456789012345678901234567890123"), 0);
    assert_int_equal(
        proto_id_check("01234567890123456789012345678901234567890123456789012345678901234"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_parse),
        cmocka_unit_test(test_lines_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
