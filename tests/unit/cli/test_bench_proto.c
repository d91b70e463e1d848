/* test_bench_proto.c - what logship bench reads from servers
 * (src/cli/bench_proto.c): HTTP responses one at a time in any pieces, the
 * acknowledged TCP mode's replies, the WebSocket handshake and frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/bench_proto.h"

static bench_http_reader_t r;

/* Feeds s in pieces of `piece` bytes; returns the statuses of the
 * responses that ended, in order, in st (up to 8), and their count; -1 when
 * the reader refused the input. */
static int responses(const char *s, size_t piece, int closes, int st[8], int ka[8])
{
    size_t n = strlen(s), at = 0;
    int k = 0;
    const char *err = NULL;
    bench_http_reader_init(&r);
    while (at < n) {
        size_t len = n - at < piece ? n - at : piece;
        long used = bench_http_feed(&r, s + at, len, &err);
        if (used < 0)
            return -1;
        at += (size_t)used;
        if (r.done) {
            st[k] = r.status;
            ka[k] = r.keep_alive;
            k++;
        } else if ((size_t)used < len) {
            return -1; /* stopped without a response */
        }
    }
    if (closes) {
        if (bench_http_feed(&r, "", 0, &err) < 0)
            return -1;
        if (r.done) {
            st[k] = r.status;
            ka[k] = r.keep_alive;
            k++;
        }
    }
    return k;
}

static void test_http_responses_in_any_pieces(void **state)
{
    (void)state;
    const char *two = "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{\"accepted\":1}"
                      "HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\n0\r\n\r\n"
                      "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
    for (size_t piece = 1; piece <= strlen(two); piece++) {
        int st[8], ka[8];
        assert_int_equal(responses(two, piece, 0, st, ka), 3);
        assert_int_equal(st[0], 200);
        assert_int_equal(st[1], 503);
        assert_int_equal(st[2], 204);
        assert_true(ka[0] && ka[1]);
        assert_false(ka[2]);
    }
}

static void test_http_body_to_the_close(void **state)
{
    (void)state;
    int st[8], ka[8];
    /* HTTP/1.0 without a length: the close ends it */
    assert_int_equal(responses("HTTP/1.0 200 OK\r\n\r\nbody", 3, 1, st, ka), 1);
    assert_int_equal(st[0], 200);
    assert_false(ka[0]);
    /* cut inside a body with a length: an error */
    assert_int_equal(responses("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 100, 1, st, ka),
                     -1);
    /* a close between responses is no error */
    assert_int_equal(responses("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 100, 1, st, ka), 1);
    /* garbage */
    assert_int_equal(responses("SMTP ready\r\n", 100, 0, st, ka), -1);
}

static void test_acks(void **state)
{
    (void)state;
    bench_ack_t a;
    const char *ack = "{\"logship\":\"ack\",\"batch\":7,\"first_seq\":10,\"last_seq\":19}";
    assert_int_equal(bench_ack_parse(ack, strlen(ack), &a), 0);
    assert_int_equal(a.kind, BENCH_REPLY_ACK);
    assert_int_equal(a.batch, 7);
    assert_false(a.duplicate);
    const char *dup = " {\"logship\":\"ack\",\"batch\":8,\"duplicate\":true}\r";
    assert_int_equal(bench_ack_parse(dup, strlen(dup), &a), 0);
    assert_true(a.duplicate);
    const char *nack = "{\"logship\":\"nack\",\"batch\":9,\"error\":\"store is behind; resend\"}";
    assert_int_equal(bench_ack_parse(nack, strlen(nack), &a), 0);
    assert_int_equal(a.kind, BENCH_REPLY_NACK);
    assert_string_equal(a.error, "store is behind; resend");
    const char *hello = "{\"logship\":\"hello\",\"version\":1,\"last_seq\":5,\"last_batch\":0,"
                        "\"producer\":\"p\\\"x\",\"x\":null,\"y\":-1.5e3}";
    assert_int_equal(bench_ack_parse(hello, strlen(hello), &a), 0);
    assert_int_equal(a.kind, BENCH_REPLY_HELLO);
    const char *error = "{\"logship\":\"error\",\"error\":\"batch 7 is larger\"}";
    assert_int_equal(bench_ack_parse(error, strlen(error), &a), 0);
    assert_int_equal(a.kind, BENCH_REPLY_ERROR);
    const char *bad[] = {"",
                         "{}",
                         "{\"logship\":\"ack\"",
                         "{\"logship\":\"what\"}",
                         "{\"logship\":\"ack\",\"batch\":-1}",
                         "{\"logship\":\"ack\",\"batch\":99999999999999999999}",
                         "{\"logship\":\"ack\"} trailing",
                         "[1]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(bench_ack_parse(bad[i], strlen(bad[i]), &a), -1);
}

static void test_ws_handshake_and_key(void **state)
{
    (void)state;
    const unsigned char raw[16] = "the sample nonce";
    char key[25];
    bench_ws_key(raw, key);
    assert_string_equal(key, "dGhlIHNhbXBsZSBub25jZQ=="); /* RFC 6455, 1.3 */
    buf_t b = BUF_INIT;
    bench_ws_request(&b, "127.0.0.1:8080", "/api/tail?n=0", key);
    assert_non_null(strstr(buf_cstr(&b), "GET /api/tail?n=0 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"));
    assert_non_null(strstr(buf_cstr(&b), "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
    buf_free(&b);

    const char *ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi";
    int status = 0;
    assert_int_equal(bench_ws_handshake(ok, 20, &status), 0); /* not whole */
    long head = bench_ws_handshake(ok, strlen(ok), &status);
    assert_int_equal(head, strlen(ok) - 4);
    assert_int_equal(status, 101);
    const char *refused = "HTTP/1.1 429 Too Many\r\n\r\n";
    assert_int_equal(bench_ws_handshake(refused, strlen(refused), &status), strlen(refused));
    assert_int_equal(status, 429);
    assert_int_equal(bench_ws_handshake("SSH-2.0\r\n\r\n", 11, &status), -1);
    assert_int_equal(bench_ws_handshake("HTTP/1.1 1x1 no\r\n\r\n", 19, &status), -1);
}

static void test_ws_frames(void **state)
{
    (void)state;
    bench_ws_frame_t f;
    const char *err = NULL;
    assert_int_equal(bench_ws_frame_parse("\x81", 1, &f, &err), 0);
    assert_int_equal(bench_ws_frame_parse("\x81\x05hello", 7, &f, &err), 2);
    assert_true(f.fin);
    assert_int_equal(f.opcode, BENCH_WS_TEXT);
    assert_int_equal(f.len, 5);
    assert_int_equal(bench_ws_frame_parse("\x01\x7e\x01", 3, &f, &err), 0);
    assert_int_equal(bench_ws_frame_parse("\x01\x7e\x01\x00", 4, &f, &err), 4);
    assert_false(f.fin);
    assert_int_equal(f.len, 256);
    assert_int_equal(bench_ws_frame_parse("\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10, &f, &err),
                     10);
    assert_int_equal(f.len, 65536);
    assert_int_equal(bench_ws_frame_parse("\x89\x00", 2, &f, &err), 2); /* ping */
    assert_int_equal(f.opcode, BENCH_WS_PING);
    /* refused */
    assert_int_equal(bench_ws_frame_parse("\x81\x85", 2, &f, &err), -1);
    assert_non_null(strstr(err, "masked"));
    assert_int_equal(bench_ws_frame_parse("\xc1\x00", 2, &f, &err), -1);
    assert_int_equal(bench_ws_frame_parse("\x83\x00", 2, &f, &err), -1);
    assert_int_equal(bench_ws_frame_parse("\x09\x00", 2, &f, &err), -1);
    assert_int_equal(bench_ws_frame_parse("\x89\x7e\x00\x80", 4, &f, &err), -1);
    assert_int_equal(bench_ws_frame_parse("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10, &f, &err),
                     -1);

    /* a client frame: masked, and unmasking gives the payload back */
    buf_t b = BUF_INIT;
    char payload[300];
    memset(payload, 'p', sizeof payload);
    bench_ws_frame_build(&b, BENCH_WS_PONG, "abc", 3, 0x01020304);
    assert_int_equal(b.len, 2 + 4 + 3);
    assert_int_equal((unsigned char)b.data[0], 0x8a);
    assert_int_equal((unsigned char)b.data[1], 0x83);
    assert_int_equal(b.data[6], 'a' ^ 1);
    assert_int_equal(b.data[8], 'c' ^ 3);
    buf_reset(&b);
    bench_ws_frame_build(&b, BENCH_WS_TEXT, payload, sizeof payload, 0xdeadbeef);
    assert_int_equal(b.len, 4 + 4 + sizeof payload);
    assert_int_equal((unsigned char)b.data[1], 0x80 | 126);
    assert_int_equal(((unsigned char)b.data[2] << 8) | (unsigned char)b.data[3], 300);
    for (size_t i = 0; i < sizeof payload; i++)
        assert_int_equal(b.data[8 + i] ^ b.data[4 + (i & 3)], 'p');
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_responses_in_any_pieces),
        cmocka_unit_test(test_http_body_to_the_close),
        cmocka_unit_test(test_acks),
        cmocka_unit_test(test_ws_handshake_and_key),
        cmocka_unit_test(test_ws_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
