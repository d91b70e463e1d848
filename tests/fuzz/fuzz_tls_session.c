/* fuzz_tls_session.c - a server TLS session (src/tls/) fed arbitrary
 * bytes, in process: no sockets, the session's buffers are the wire.
 *
 * The server's certificate and key are made at start (an EC P-256 key and
 * a self-signed certificate for localhost) and loaded through the files
 * path, as logshipd does.
 *
 * Input: byte 0 picks the mode (bits 0-1) and how the rest is cut into
 * pieces (bits 2-7 seed a pseudo-random cut, 0: whole).
 *   mode 0  the rest is what a client sends: a ClientHello (the seed
 *           corpus has real ones), anything else.
 *   mode 1  an in-process OpenSSL client does a real handshake; the rest is
 *           the plaintext it writes, and the server sends it back.
 *   mode 2  the handshake, then the rest as raw bytes after it.
 *   mode 3  as mode 0, but the client closes after the bytes.
 * What must hold, or the driver aborts:
 *   - T1: after TLS_FAILED, reads and writes fail, no room for input is
 *     offered, the reason is not empty, and it was counted once;
 *   - T2: TLS_WANT from tls_read leaves no input buffered unless output
 *     is waiting to be sent;
 *   - bytes from the fuzzer alone never finish a handshake nor decrypt to
 *     plaintext (modes 0, 2, 3); readable text first fails as TLS_PLAINTEXT;
 *   - mode 1: the server reads exactly what the client wrote, the client
 *     reads exactly what the server wrote back, and close_notify ends it.
 */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "tls/tls.h"
#include "tls_cert.h"

static tls_ctx_t *server_ctx;
static SSL_CTX *client_ctx;

static void setup(void)
{
    if (server_ctx)
        return;
    char dir[] = "/tmp/fuzz_tls.XXXXXX";
    if (!mkdtemp(dir))
        abort();
    char cert[64], key[64], err[256];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    tls_cert_make(cert, key);
    tls_files_t f = {cert, key, NULL};
    server_ctx = tls_ctx_create(&f, err, sizeof err);
    if (!server_ctx) {
        fprintf(stderr, "fuzz_tls_session: %s\n", err);
        abort();
    }
    /* a reload of the same files works, and a bad one keeps the context */
    tls_files_t bad = {cert, "/nonexistent/key.pem", NULL};
    if (tls_ctx_reload(server_ctx, &f, err, sizeof err) ||
        tls_ctx_reload(server_ctx, &bad, err, sizeof err) == 0 ||
        tls_ctx_generation(server_ctx) != 1 || !strstr(err, "/nonexistent/key.pem"))
        abort();
    unlink(cert);
    unlink(key);
    rmdir(dir);
    client_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_mode(client_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
    SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
}

/* ---- pieces ------------------------------------------------------------------ */

static uint32_t rng;

static size_t piece(size_t left)
{
    if (!rng)
        return left;
    rng = rng * 1103515245u + 12345u;
    size_t n = 1 + (rng >> 16) % 300;
    return n < left ? n : left;
}

/* ---- checks ------------------------------------------------------------------- */

static void check_failed(tls_session_t *s, const tls_stats_t *st)
{
    char *p;
    char b[16];
    if (!tls_why(s)[0] || tls_failure(s) == TLS_OK)
        abort();
    if (tls_read(s, b, sizeof b) != TLS_FAILED || tls_write(s, "x", 1) != TLS_FAILED)
        abort();
    if (tls_in_room(s, &p) != 0)
        abort();
    if (st->handshake_failures + st->errors != 1)
        abort(); /* counted once */
}

/* Reads everything the server can; returns the last status and appends
 * plaintext to got. */
static long server_read_all(tls_session_t *s, buf_t *got)
{
    char b[4096];
    for (;;) {
        long r = tls_read(s, b, sizeof b);
        if (r > 0) {
            buf_append(got, b, (size_t)r);
            continue;
        }
        if (r == TLS_WANT && tls_has_input(s)) {
            /* only the output buffer may hold it up: it is drained by the
             * caller, so this means T2 broke */
            const char *o;
            if (!tls_out_peek(s, &o))
                abort();
        }
        return r;
    }
}

/* Drops what the server has sent (nobody listens in modes 0, 2, 3). */
static void drop_out(tls_session_t *s)
{
    const char *p;
    size_t n;
    while ((n = tls_out_peek(s, &p)))
        tls_out_consume(s, n);
}

/* Feeds bytes as the client's, in pieces, reading after each. */
static void feed_raw(tls_session_t *s, const char *p, size_t n, buf_t *got, int after_hs)
{
    size_t at = 0;
    while (at < n) {
        size_t k = piece(n - at);
        size_t took = tls_feed(s, p + at, k);
        long r = server_read_all(s, got);
        drop_out(s);
        if (r == TLS_FAILED)
            return;
        if (!took && r == TLS_WANT)
            abort(); /* the input buffer is full and nothing consumes it */
        at += took;
    }
    (void)after_hs;
}

/* ---- an in-process client -------------------------------------------------------- */

typedef struct client {
    SSL *ssl;
    BIO *net;
} client_t;

static void client_init(client_t *c)
{
    BIO *inner;
    c->ssl = SSL_new(client_ctx);
    if (!c->ssl || BIO_new_bio_pair(&inner, 32768, &c->net, 32768) != 1)
        abort();
    SSL_set_bio(c->ssl, inner, inner);
    SSL_set_connect_state(c->ssl);
    SSL_set_tlsext_host_name(c->ssl, "localhost");
}

static void client_free(client_t *c)
{
    SSL_free(c->ssl);
    BIO_free(c->net);
}

/* Moves ciphertext both ways until neither side has any to move. */
static void pump(client_t *c, tls_session_t *s)
{
    for (int round = 0; round < 64; round++) {
        int moved = 0;
        char *cp;
        const char *sp;
        ossl_ssize_t n;
        while ((n = BIO_nread0(c->net, &cp)) > 0) {
            size_t took = tls_feed(s, cp, (size_t)n);
            if (!took)
                break;
            BIO_nread(c->net, NULL, (int)took);
            moved = 1;
        }
        size_t m;
        while ((m = tls_out_peek(s, &sp)) > 0) {
            char *room;
            ossl_ssize_t r = BIO_nwrite0(c->net, &room);
            if (r <= 0)
                break;
            if ((size_t)r > m)
                r = (ossl_ssize_t)m;
            memcpy(room, sp, (size_t)r);
            BIO_nwrite(c->net, NULL, (int)r);
            tls_out_consume(s, (size_t)r);
            moved = 1;
        }
        if (!moved)
            return;
        /* the client processes what came in (the server does in tls_read) */
        if (!SSL_is_init_finished(c->ssl))
            SSL_do_handshake(c->ssl);
    }
}

static void handshake(client_t *c, tls_session_t *s)
{
    for (int i = 0; i < 16 && !(SSL_is_init_finished(c->ssl) && tls_handshake_done(s)); i++) {
        SSL_do_handshake(c->ssl);
        pump(c, s);
        char b[16];
        if (tls_read(s, b, sizeof b) > 0)
            abort(); /* no application data yet */
        pump(c, s);
    }
    if (!SSL_is_init_finished(c->ssl) || !tls_handshake_done(s) || !tls_version(s)[0])
        abort();
}

/* Mode 1: what the client writes comes out of the server, and back. */
static void echo(const char *p, size_t n)
{
    tls_stats_t st = {0};
    tls_session_t *s = tls_session_create(server_ctx, &st);
    client_t c;
    client_init(&c);
    handshake(&c, s);
    buf_t got = BUF_INIT, back = BUF_INIT;
    size_t at = 0, k = 0;
    for (int i = 0; at < n && i < 100000; i++) {
        if (!k)
            k = piece(n - at); /* a write that must wait is repeated as it was */
        int w = SSL_write(c.ssl, p + at, (int)k);
        if (w <= 0) {
            pump(&c, s);
            server_read_all(s, &got);
            continue;
        }
        at += (size_t)w;
        k = 0;
        pump(&c, s);
        if (server_read_all(s, &got) == TLS_FAILED)
            abort();
    }
    for (int i = 0; i < 8 && got.len < n; i++) {
        pump(&c, s);
        server_read_all(s, &got);
    }
    if (got.len != n || (n && memcmp(got.data, p, n)))
        abort();
    /* and back, through the server's output buffer */
    size_t sent = 0;
    for (int i = 0; sent < n && i < 100000; i++) {
        long w = tls_write(s, p + sent, n - sent);
        if (w > 0)
            sent += (size_t)w;
        else if (w != TLS_WANT)
            abort();
        pump(&c, s);
        char b[4096];
        int r;
        while ((r = SSL_read(c.ssl, b, sizeof b)) > 0)
            buf_append(&back, b, (size_t)r);
    }
    for (int i = 0; i < 8 && back.len < n; i++) {
        pump(&c, s);
        char b[4096];
        int r;
        while ((r = SSL_read(c.ssl, b, sizeof b)) > 0)
            buf_append(&back, b, (size_t)r);
    }
    if (back.len != n || (n && memcmp(back.data, p, n)))
        abort();
    SSL_shutdown(c.ssl);
    pump(&c, s);
    if (server_read_all(s, &got) != TLS_CLOSED || got.len != n)
        abort();
    if (st.handshakes != 1 || st.handshake_failures || st.errors)
        abort();
    buf_free(&got);
    buf_free(&back);
    client_free(&c);
    tls_session_destroy(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    if (size < 1)
        return 0;
    int mode = data[0] & 3;
    rng = data[0] >> 2;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    if (mode == 1) {
        echo(p, n);
        return 0;
    }
    tls_stats_t st = {0};
    tls_session_t *s = tls_session_create(server_ctx, &st);
    if (!s || st.sessions != 1)
        abort();
    buf_t got = BUF_INIT;
    client_t c = {0};
    if (mode == 2) {
        client_init(&c);
        handshake(&c, s);
    }
    feed_raw(s, p, n, &got, mode == 2);
    if (got.len)
        abort(); /* nothing forged decrypts */
    if (mode != 2 && tls_handshake_done(s))
        abort(); /* nor finishes a handshake */
    if (mode == 3)
        tls_abandon(s, "the client closed the connection during the handshake");
    if (tls_failure(s) != TLS_OK) {
        check_failed(s, &st);
        unsigned char b0 = n ? (unsigned char)p[0] : 0;
        if (mode != 2 && n && b0 >= 0x20 && b0 < 0x7f && tls_failure(s) != TLS_PLAINTEXT)
            abort();
        if (mode == 2 && tls_failure(s) != TLS_PROTOCOL)
            abort();
    } else if (mode != 2 && n && (unsigned char)p[0] >= 0x20 && (unsigned char)p[0] < 0x7f) {
        abort(); /* text first must fail at once */
    } else if (st.handshake_failures || st.errors) {
        abort(); /* counted without failing */
    }
    if (mode == 2)
        client_free(&c);
    tls_session_destroy(s);
    buf_free(&got);
    return 0;
}
