/* tls_client.c - client TLS on OpenSSL for the logship command and
 * liblogship: see tls_client.h.
 *
 * OpenSSL reports a failure three ways, and a reason is looked for in
 * this order: the verification result of the session (the chain or the
 * name did not pass), the error queue (an alert from the server arrives
 * as a reason code SSL_AD_REASON_OFFSET + the alert; anything else is
 * OpenSSL's own text), errno for a failed system call. The error queue is
 * per thread, so it is cleared before each call and read right after.
 *
 * libwebsockets runs its sessions itself and clears the error queue
 * before the caller hears of a failure: for those, tls_client_ctx_watch()
 * hangs an info callback on the context (fatal alerts from the server)
 * and tls_client_note_verify() takes the verification error from lws's
 * verify callback, both into the caller's tls_client_watch_t.
 */
#include "tls_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the socket BIO: send(MSG_NOSIGNAL), never SIGPIPE ------------------ */

static BIO_METHOD *g_method;
static pthread_once_t g_method_once = PTHREAD_ONCE_INIT;

static int fd_of(BIO *b)
{
    return (int)(intptr_t)BIO_get_data(b);
}

static int again(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

static int bio_write(BIO *b, const char *p, int n)
{
    BIO_clear_retry_flags(b);
    ssize_t w = send(fd_of(b), p, (size_t)n, MSG_NOSIGNAL);
    if (w < 0 && again())
        BIO_set_retry_write(b);
    return (int)w;
}

static int bio_read(BIO *b, char *p, int n)
{
    BIO_clear_retry_flags(b);
    ssize_t r = recv(fd_of(b), p, (size_t)n, 0);
    if (r < 0 && again())
        BIO_set_retry_read(b);
    return (int)r;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0; /* nothing is buffered here */
}

static void make_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                 "logship socket");
    if (m && BIO_meth_set_write(m, bio_write) && BIO_meth_set_read(m, bio_read) &&
        BIO_meth_set_ctrl(m, bio_ctrl)) {
        g_method = m;
        return;
    }
    BIO_meth_free(m);
}

/* ---- reasons ------------------------------------------------------------- */

const char *tls_client_alert_name(int a)
{
    /* TLS 1.3's (RFC 8446 section 6), unnamed in OpenSSL 3.0 */
    switch (a & 0xff) {
    case 109:
        return "missing extension";
    case 115:
        return "unknown PSK identity";
    case 116:
        return "certificate required";
    case 120:
        return "no application protocol";
    }
    return SSL_alert_desc_string_long(a & 0xff);
}

/* The reason of the first error on the queue, into err; the queue is
 * emptied. Returns 0 when there was none, 2 for an alert from the server,
 * 1 for anything else. */
static int queue_reason(char *err, size_t errlen)
{
    unsigned long e = ERR_get_error();
    if (!e)
        return 0;
    int r = ERR_GET_REASON(e), kind = 1;
    if (ERR_GET_LIB(e) == ERR_LIB_SSL && r > SSL_AD_REASON_OFFSET &&
        r < SSL_AD_REASON_OFFSET + 256) {
        snprintf(err, errlen, "the server refused the TLS session (alert: %s)",
                 tls_client_alert_name(r - SSL_AD_REASON_OFFSET));
        kind = 2;
    } else if (ERR_GET_LIB(e) == ERR_LIB_SYS) {
        snprintf(err, errlen, "%s", strerror(r));
    } else {
        const char *s = ERR_reason_error_string(e);
        snprintf(err, errlen, "%s", s ? s : "TLS error");
    }
    ERR_clear_error();
    return kind;
}

static void verify_reason(long v, char *err, size_t errlen)
{
    snprintf(err, errlen, "certificate verify failed: %s", X509_verify_cert_error_string(v));
}

/* What a call that returned ret means; the reason in err for EOF and
 * ERROR. */
static int outcome(SSL *ssl, int ret, char *err, size_t errlen)
{
    int saved = errno;
    switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_NONE:
        return TLS_CLIENT_DONE;
    case SSL_ERROR_WANT_READ:
        return TLS_CLIENT_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return TLS_CLIENT_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        snprintf(err, errlen, "the server closed the TLS session");
        return TLS_CLIENT_EOF;
    case SSL_ERROR_SYSCALL: {
        int q = queue_reason(err, errlen);
        if (q)
            return q == 2 ? TLS_CLIENT_REFUSED : TLS_CLIENT_ERROR;
        if (ret == 0 || saved == 0) {
            snprintf(err, errlen, "the server closed the connection%s",
                     SSL_is_init_finished(ssl) ? "" : " during the TLS handshake");
            return TLS_CLIENT_EOF;
        }
        snprintf(err, errlen, "%s", strerror(saved));
        return TLS_CLIENT_ERROR;
    }
    default: {
        long v = SSL_get_verify_result(ssl);
        unsigned long e = ERR_peek_error();
        if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
            ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            /* closed without close_notify: to us, a close like any other */
            ERR_clear_error();
            snprintf(err, errlen, "the server closed the connection%s",
                     SSL_is_init_finished(ssl) ? "" : " during the TLS handshake");
            return TLS_CLIENT_EOF;
        }
        if (v != X509_V_OK) {
            verify_reason(v, err, errlen);
            ERR_clear_error();
            return TLS_CLIENT_ERROR;
        }
        int q = queue_reason(err, errlen);
        if (!q)
            snprintf(err, errlen, "TLS error");
        return q == 2 ? TLS_CLIENT_REFUSED : TLS_CLIENT_ERROR;
    }
    }
}

/* ---- contexts ------------------------------------------------------------ */

static int is_ip(const char *host)
{
    unsigned char a[16];
    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* The identity to verify: host as an IP address or as a DNS name. */
static int set_host(X509_VERIFY_PARAM *p, const char *host)
{
    X509_VERIFY_PARAM_set_hostflags(p, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (is_ip(host))
        return X509_VERIFY_PARAM_set1_host(p, NULL, 0) == 1 &&
                       X509_VERIFY_PARAM_set1_ip_asc(p, host) == 1
                   ? 0
                   : -1;
    return X509_VERIFY_PARAM_set1_ip(p, NULL, 0) == 1 &&
                   X509_VERIFY_PARAM_set1_host(p, host, 0) == 1
               ? 0
               : -1;
}

/* A file that can not be opened says why in errno's words. */
static int readable(const char *what, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s '%s': %s", what, path, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

/* A file OpenSSL could not use: what it should have held, and OpenSSL's
 * words for why not. */
static void file_error(const char *what, const char *path, const char *want, char *err,
                       size_t errlen)
{
    char why[160];
    if (!queue_reason(why, sizeof why))
        snprintf(why, sizeof why, "not usable");
    snprintf(err, errlen, "%s '%s': %s (%s)", what, path, want, why);
}

SSL_CTX *tls_client_ctx_create(const tls_client_opts_t *o, char *err, size_t errlen)
{
    static const tls_client_opts_t none = {NULL, NULL, NULL};
    if (!o)
        o = &none;
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        if (!queue_reason(err, errlen))
            snprintf(err, errlen, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (o->ca_file) {
        if (readable("CA file", o->ca_file, err, errlen))
            goto fail;
        if (SSL_CTX_load_verify_file(ctx, o->ca_file) != 1) {
            file_error("CA file", o->ca_file, "no PEM certificates in it", err, errlen);
            goto fail;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        file_error("the system's trust store", X509_get_default_cert_file(), "not usable", err,
                   errlen);
        goto fail;
    }
    if (o->key_file && !o->cert_file) {
        snprintf(err, errlen, "a key file '%s' without a certificate file", o->key_file);
        goto fail;
    }
    if (o->cert_file) {
        const char *key = o->key_file ? o->key_file : o->cert_file;
        if (readable("certificate file", o->cert_file, err, errlen) ||
            readable("key file", key, err, errlen))
            goto fail;
        if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1) {
            file_error("certificate file", o->cert_file, "no PEM certificate in it", err, errlen);
            goto fail;
        }
        int used = SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1;
        unsigned long e = used ? 0 : ERR_peek_last_error();
        /* OpenSSL checks the key against the certificate as it takes it */
        int mismatch = used ? SSL_CTX_check_private_key(ctx) != 1
                            : ERR_GET_LIB(e) == ERR_LIB_X509 &&
                                  ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH;
        if (mismatch) {
            ERR_clear_error();
            snprintf(err, errlen, "key file '%s' does not match certificate file '%s'", key,
                     o->cert_file);
            goto fail;
        }
        if (!used) {
            file_error("key file", key, "no PEM private key in it", err, errlen);
            goto fail;
        }
    }
    return ctx;

fail:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

static void on_info(const SSL *ssl, int where, int ret)
{
    if (!(where & SSL_CB_ALERT) || (ret >> 8) != SSL3_AL_FATAL)
        return;
    tls_client_watch_t *w = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    const char **slot = !w ? NULL : (where & SSL_CB_READ) ? &w->alert : &w->sent;
    if (slot && !*slot)
        *slot = tls_client_alert_name(ret);
}

int tls_client_watch_reason(const tls_client_watch_t *w, const char *lws_why, char *out, size_t cap)
{
    if (w->why[0])
        snprintf(out, cap, "TLS handshake failed: %s", w->why);
    else if (w->alert)
        snprintf(out, cap, "the server refused the TLS session (alert: %s)", w->alert);
    else if (w->sent)
        snprintf(out, cap, "TLS handshake failed (alert: %s)", w->sent);
    else if (lws_why && (strncmp(lws_why, "connect SSL", 11) == 0 ||
                         strncmp(lws_why, "connect SYSCALL", 15) == 0 ||
                         strncmp(lws_why, "server's cert", 13) == 0))
        snprintf(out, cap, "TLS handshake failed");
    else
        return 0;
    return 1;
}

int tls_client_ctx_watch(SSL_CTX *ctx, const char *host, tls_client_watch_t *w)
{
    SSL_CTX_set_app_data(ctx, w);
    SSL_CTX_set_info_callback(ctx, on_info);
    int rc = set_host(SSL_CTX_get0_param(ctx), host);
    ERR_clear_error();
    return rc;
}

void tls_client_ctx_unwatch(SSL_CTX *ctx)
{
    SSL_CTX_set_app_data(ctx, NULL);
}

void tls_client_note_verify(SSL_CTX *ctx, X509_STORE_CTX *store)
{
    tls_client_watch_t *w = SSL_CTX_get_app_data(ctx);
    int v = X509_STORE_CTX_get_error(store);
    if (w && v != X509_V_OK && !w->why[0])
        verify_reason(v, w->why, sizeof w->why);
}

/* ---- sessions ------------------------------------------------------------ */

SSL *tls_client_new(SSL_CTX *ctx, int fd, const char *host, char *err, size_t errlen)
{
    pthread_once(&g_method_once, make_method);
    ERR_clear_error();
    SSL *ssl = g_method ? SSL_new(ctx) : NULL;
    BIO *bio = ssl ? BIO_new(g_method) : NULL;
    if (!bio) {
        if (!queue_reason(err, errlen))
            snprintf(err, errlen, "cannot create a TLS session");
        SSL_free(ssl);
        return NULL;
    }
    BIO_set_data(bio, (void *)(intptr_t)fd);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl, bio, bio);
    /* a write may end after any record, and be retried from a buffer that
     * moved (the caller's offset advanced, the bytes are the same) */
    SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (set_host(SSL_get0_param(ssl), host) ||
        (!is_ip(host) && SSL_set_tlsext_host_name(ssl, host) != 1)) {
        ERR_clear_error();
        snprintf(err, errlen, "cannot verify the name '%s'", host);
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_connect_state(ssl);
    return ssl;
}

int tls_client_handshake(SSL *ssl, char *err, size_t errlen)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_connect(ssl);
    if (r == 1)
        return TLS_CLIENT_DONE;
    return outcome(ssl, r, err, errlen);
}

ssize_t tls_client_read(SSL *ssl, void *p, size_t n, char *err, size_t errlen)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_read(ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
    if (r > 0)
        return r;
    int o = outcome(ssl, r, err, errlen);
    return o == TLS_CLIENT_DONE ? TLS_CLIENT_WANT_READ : o;
}

ssize_t tls_client_write(SSL *ssl, const void *p, size_t n, char *err, size_t errlen)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_write(ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
    if (r > 0)
        return r;
    int o = outcome(ssl, r, err, errlen);
    return o == TLS_CLIENT_DONE ? TLS_CLIENT_WANT_WRITE : o;
}

void tls_client_close(SSL *ssl)
{
    if (!ssl)
        return;
    if (SSL_is_init_finished(ssl))
        SSL_shutdown(ssl);
    ERR_clear_error();
    SSL_free(ssl);
}

void tls_client_free(SSL *ssl)
{
    SSL_free(ssl);
}
