/* tls.c - server contexts and memory-buffered sessions on OpenSSL: see
 * tls.h. */
#include "tls.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/log.h"

struct tls_ctx {
    SSL_CTX *cur; /* for new sessions; each SSL holds its own reference */
    uint64_t generation;
};

/* OpenSSL's error queue is empty between calls: every failure drains it
 * (ssl_reason), and so do the calls whose errors do not matter (SSL_shutdown),
 * so the hot path does not clear it before each SSL_read and SSL_write. */
struct tls_session {
    SSL *ssl;
    BIO *net; /* our end of the pair: ciphertext in and out */
    tls_stats_t *stats;
    int started;   /* bytes have come in */
    int hs_done;   /* the handshake finished (counted) */
    int closed;    /* close_notify received */
    int shut;      /* ours queued */
    int want_read; /* the last SSL call needs more input */
    enum tls_fail fail;
    char why[192];
    char version[64];
};

/* "what: reason" from OpenSSL's error queue (cleared) into err. */
static void ssl_reason(char *err, size_t cap, const char *what)
{
    unsigned long e, last = 0;
    while ((e = ERR_get_error()))
        last = e; /* the last one says most: "no such file", "key values mismatch" */
    const char *r = last ? ERR_reason_error_string(last) : NULL;
    if (last && ERR_GET_LIB(last) == ERR_LIB_SYS)
        r = strerror(ERR_GET_REASON(last));
    snprintf(err, cap, "%s: %s", what, r ? r : last ? "OpenSSL error" : "unknown error");
}

static SSL_CTX *build(const tls_files_t *f, char *err, size_t cap)
{
    char what[4200];
    ERR_clear_error();
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    if (!c) {
        ssl_reason(err, cap, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_COMPRESSION);
    /* tls_write takes what fits in the output buffer; a repeated write may
     * come from a buffer that moved (the connection's queue grew) */
    SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* resumed sessions (tickets) must not skip the client check */
    SSL_CTX_set_session_id_context(c, (const unsigned char *)"logshipd", 8);
    if (!f->cert || !*f->cert || !f->key || !*f->key) {
        snprintf(err, cap, "both --tls-cert and --tls-key are needed");
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(c, f->cert) != 1) {
        snprintf(what, sizeof what, "cannot load the certificate chain from %s", f->cert);
        ssl_reason(err, cap, what);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(c, f->key, SSL_FILETYPE_PEM) != 1) {
        snprintf(what, sizeof what, "cannot load the private key from %s", f->key);
        ssl_reason(err, cap, what);
        goto fail;
    }
    if (SSL_CTX_check_private_key(c) != 1) {
        snprintf(what, sizeof what, "the key in %s does not match the certificate in %s", f->key,
                 f->cert);
        ssl_reason(err, cap, what);
        goto fail;
    }
    if (f->client_ca && *f->client_ca) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(f->client_ca);
        if (!names || SSL_CTX_load_verify_locations(c, f->client_ca, NULL) != 1) {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            snprintf(what, sizeof what, "cannot load client CAs from %s", f->client_ca);
            ssl_reason(err, cap, what);
            if (!strstr(err, ": ") || strstr(err, "unknown error"))
                snprintf(err, cap, "cannot load client CAs from %s: no certificate in it",
                         f->client_ca);
            goto fail;
        }
        SSL_CTX_set_client_CA_list(c, names); /* c owns names now */
        SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    X509 *x = SSL_CTX_get0_certificate(c);
    if (x && X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
        log_warn("tls: the certificate in %s has expired: clients will refuse it", f->cert);
    return c;
fail:
    SSL_CTX_free(c);
    return NULL;
}

tls_ctx_t *tls_ctx_create(const tls_files_t *f, char *err, size_t cap)
{
    SSL_CTX *c = build(f, err, cap);
    if (!c)
        return NULL;
    tls_ctx_t *t = xcalloc(1, sizeof *t);
    t->cur = c;
    return t;
}

int tls_ctx_reload(tls_ctx_t *t, const tls_files_t *f, char *err, size_t cap)
{
    SSL_CTX *c = build(f, err, cap);
    if (!c)
        return -1;
    SSL_CTX_free(t->cur); /* sessions still on it hold their reference */
    t->cur = c;
    t->generation++;
    return 0;
}

uint64_t tls_ctx_generation(const tls_ctx_t *t)
{
    return t->generation;
}

void tls_ctx_destroy(tls_ctx_t *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->cur);
    free(t);
}

/* ---- sessions ---------------------------------------------------------------- */

tls_session_t *tls_session_create(tls_ctx_t *t, tls_stats_t *stats)
{
    tls_session_t *s = xcalloc(1, sizeof *s);
    BIO *inner = NULL;
    s->stats = stats;
    ERR_clear_error();
    s->ssl = SSL_new(t->cur);
    /* bio1 is SSL's: its writes (ciphertext out) get TLS_OUT_BUF; ours
     * (ciphertext in) get TLS_IN_BUF */
    if (!s->ssl || BIO_new_bio_pair(&inner, TLS_OUT_BUF, &s->net, TLS_IN_BUF) != 1) {
        ERR_clear_error();
        SSL_free(s->ssl);
        free(s);
        return NULL;
    }
    SSL_set_bio(s->ssl, inner, inner);
    SSL_set_accept_state(s->ssl);
    if (stats)
        stats->sessions++;
    return s;
}

void tls_session_no_tickets(tls_session_t *s)
{
    SSL_set_num_tickets(s->ssl, 0);
}

void tls_session_destroy(tls_session_t *s)
{
    if (!s)
        return;
    SSL_free(s->ssl); /* frees inner, and drops its SSL_CTX reference */
    BIO_free(s->net);
    free(s);
}

/* T1: fails once, counting and saying why. */
static void fail(tls_session_t *s, enum tls_fail kind, const char *why)
{
    if (s->fail)
        return;
    s->fail = kind;
    snprintf(s->why, sizeof s->why, "%s", why);
    if (s->stats) {
        if (kind == TLS_PROTOCOL)
            s->stats->errors++;
        else
            s->stats->handshake_failures++;
    }
}

/* The reason of a failed SSL call: the verification result when the
 * client's certificate was refused, else OpenSSL's error. */
static void fail_ssl(tls_session_t *s)
{
    char why[192];
    long v = SSL_get_verify_result(s->ssl);
    if (!s->hs_done && v != X509_V_OK) {
        snprintf(why, sizeof why, "client certificate refused: %s",
                 X509_verify_cert_error_string(v));
        ERR_clear_error();
    } else {
        ssl_reason(why, sizeof why, s->hs_done ? "TLS error" : "TLS handshake failed");
    }
    fail(s, s->hs_done ? TLS_PROTOCOL : TLS_HANDSHAKE, why);
}

static void check_done(tls_session_t *s)
{
    if (!s->hs_done && SSL_is_init_finished(s->ssl)) {
        s->hs_done = 1;
        if (s->stats)
            s->stats->handshakes++;
    }
}

/* A client's first byte is a handshake record (22); readable text is
 * someone speaking plaintext to a TLS port. */
static void first_bytes(tls_session_t *s, const char *p, size_t n)
{
    if (s->started || !n)
        return;
    s->started = 1;
    unsigned char b = (unsigned char)p[0];
    if (b >= 0x20 && b < 0x7f)
        fail(s, TLS_PLAINTEXT, "not TLS: the client sent plaintext (plain HTTP to a TLS port?)");
}

size_t tls_in_room(tls_session_t *s, char **p)
{
    if (s->fail)
        return 0;
    ossl_ssize_t n = BIO_nwrite0(s->net, p);
    return n > 0 ? (size_t)n : 0;
}

void tls_in_commit(tls_session_t *s, size_t n)
{
    char *p;
    if (!n || s->fail)
        return;
    if (!s->started && BIO_nwrite0(s->net, &p) > 0)
        first_bytes(s, p, n);
    if (s->fail)
        return; /* dropped: none of it goes to OpenSSL */
    BIO_nwrite(s->net, NULL, (int)n);
}

size_t tls_feed(tls_session_t *s, const char *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        char *room;
        size_t r = tls_in_room(s, &room);
        if (!r)
            break;
        if (r > n - done)
            r = n - done;
        memcpy(room, p + done, r);
        tls_in_commit(s, r);
        if (s->fail)
            return n; /* taken, and dropped */
        done += r;
    }
    return done;
}

/* After an SSL call that returned ret <= 0: TLS_WANT, TLS_CLOSED or
 * TLS_FAILED. */
static long after(tls_session_t *s, int ret)
{
    int e = SSL_get_error(s->ssl, ret);
    check_done(s);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        s->want_read = 1;
        return TLS_WANT;
    case SSL_ERROR_WANT_WRITE:
        s->want_read = 0;
        return TLS_WANT;
    case SSL_ERROR_ZERO_RETURN:
        s->closed = 1;
        return TLS_CLOSED;
    default:
        fail_ssl(s);
        return TLS_FAILED;
    }
}

long tls_read(tls_session_t *s, char *out, size_t cap)
{
    size_t got = 0;
    if (s->fail)
        return TLS_FAILED;
    if (s->closed)
        return TLS_CLOSED;
    while (got < cap) {
        int want = cap - got > INT32_MAX ? INT32_MAX : (int)(cap - got);
        int r = SSL_read(s->ssl, out + got, want);
        if (r > 0) {
            got += (size_t)r;
            s->want_read = 0;
            check_done(s);
            if (!SSL_pending(s->ssl) && !BIO_ctrl_pending(SSL_get_rbio(s->ssl))) {
                /* all of the input is read: the next SSL_read could only say
                 * so (T2), and costs as much as the one that read */
                s->want_read = 1;
                break;
            }
            continue;
        }
        long st = after(s, r);
        if (got)
            break; /* closed or failed: said at the next call (sticky) */
        return st;
    }
    return (long)got;
}

long tls_write(tls_session_t *s, const char *p, size_t n)
{
    if (s->fail)
        return TLS_FAILED;
    if (s->shut || !n)
        return TLS_WANT;
    int want = n > INT32_MAX ? INT32_MAX : (int)n;
    int r = SSL_write(s->ssl, p, want);
    if (r > 0) {
        s->want_read = 0;
        check_done(s);
        return r;
    }
    return after(s, r);
}

int tls_wants_input(const tls_session_t *s)
{
    return !s->fail && s->want_read;
}

size_t tls_out_peek(tls_session_t *s, const char **p)
{
    char *q;
    ossl_ssize_t n = BIO_nread0(s->net, &q);
    if (n <= 0)
        return 0;
    *p = q;
    return (size_t)n;
}

void tls_out_consume(tls_session_t *s, size_t n)
{
    if (n)
        BIO_nread(s->net, NULL, (int)n);
}

int tls_has_input(const tls_session_t *s)
{
    if (s->fail || s->closed)
        return 0;
    return SSL_pending(s->ssl) > 0 || BIO_ctrl_pending(SSL_get_rbio(s->ssl)) > 0;
}

void tls_abandon(tls_session_t *s, const char *why)
{
    if (s->started && !s->hs_done)
        fail(s, TLS_HANDSHAKE, why);
}

void tls_shutdown(tls_session_t *s)
{
    if (s->shut || s->fail)
        return;
    s->shut = 1;
    if (!s->hs_done)
        return; /* no session to close: the TCP close says it */
    ERR_clear_error();
    SSL_shutdown(s->ssl); /* queues close_notify; the peer's is not awaited */
    ERR_clear_error();
}

int tls_handshake_done(const tls_session_t *s)
{
    return s->hs_done;
}

enum tls_fail tls_failure(const tls_session_t *s)
{
    return s->fail;
}

const char *tls_why(const tls_session_t *s)
{
    return s->why;
}

const char *tls_version(const tls_session_t *s)
{
    tls_session_t *m = (tls_session_t *)s;
    if (!s->hs_done)
        return "";
    snprintf(m->version, sizeof m->version, "%s %s", SSL_get_version(s->ssl),
             SSL_get_cipher_name(s->ssl));
    return s->version;
}

const char *tls_peer_subject(tls_session_t *s, char *buf, size_t cap)
{
    buf[0] = '\0';
    X509 *x = SSL_get0_peer_certificate(s->ssl);
    if (x)
        X509_NAME_oneline(X509_get_subject_name(x), buf, (int)cap);
    return buf;
}
