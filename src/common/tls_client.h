/* tls_client.h - TLS for logship's clients (the logship command and
 * liblogship) on OpenSSL: a client context made from the user's files, a
 * session over a non-blocking socket the caller owns and polls, and
 * one-line reasons for what went wrong.
 *
 * Verification is always on: the server's certificate must chain to the
 * CA file given (PEM), else to the system's trust store, and must be for
 * the host the caller connects to (a DNS name, or an IP address literal
 * checked against the certificate's IP address SANs). There is no switch
 * to turn it off.
 *
 * The socket's I/O goes through send(MSG_NOSIGNAL) and recv(): a session
 * never raises SIGPIPE. Nothing here prints, aborts, or keeps global state
 * besides OpenSSL's own (and one BIO method made once): liblogship's
 * sender threads use it concurrently, one session each.
 */
#ifndef LOGSHIP_TLS_CLIENT_H
#define LOGSHIP_TLS_CLIENT_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <sys/types.h>

/* What the user gave (every member may be NULL). */
typedef struct tls_client_opts {
    const char *ca_file;   /* PEM CAs to trust instead of the system's store */
    const char *cert_file; /* PEM client certificate (chain) to present */
    const char *key_file;  /* its PEM private key; NULL: in cert_file */
} tls_client_opts_t;

/* Step results of the session calls. */
enum tls_client_result {
    TLS_CLIENT_DONE = 0,        /* handshake complete / shutdown sent */
    TLS_CLIENT_WANT_READ = -1,  /* poll for POLLIN, then call again */
    TLS_CLIENT_WANT_WRITE = -2, /* poll for POLLOUT, then call again */
    TLS_CLIENT_EOF = -3,        /* the peer closed the session or the connection */
    TLS_CLIENT_ERROR = -4,      /* failed; the reason is in err */
    TLS_CLIENT_REFUSED = -5,    /* the server sent a fatal alert: it will not talk to us
                                   (a client certificate it wants or does not take...);
                                   the reason is in err */
};

/* The name of TLS alert code a ("certificate required"), for alerts
 * OpenSSL 3.0 has no name for too. A static string. */
const char *tls_client_alert_name(int a);

/* A client context: TLS 1.2 or later, peer verification on, trusting
 * o->ca_file or else the system's store, presenting o->cert_file with
 * o->key_file when given (o may be NULL). Returns it (free with
 * SSL_CTX_free()), or NULL with a reason in err that names the file
 * ("CA file 'x': No such file or directory", "key file 'k' does not match
 * certificate file 'c'"). Any thread. */
SSL_CTX *tls_client_ctx_create(const tls_client_opts_t *o, char *err, size_t errlen);

/* For sessions made by someone else from ctx (libwebsockets): checks
 * host (a name, or an IP address literal) on every session created from
 * ctx after the call, and records the reason of a failed verification
 * and the fatal alert a server sends into w (which must outlive those
 * sessions; set w->why[0] = '\0' and w->alert = NULL before each
 * connection). One watcher per ctx at a time. Returns 0, or -1 when host
 * can not be set. */
typedef struct tls_client_watch {
    char why[160];     /* "certificate verify failed: hostname mismatch" */
    const char *alert; /* tls_client_alert_name() of a fatal alert from the server */
    const char *sent;  /* ... of one we sent (the server's answer was not TLS...) */
} tls_client_watch_t;
int tls_client_ctx_watch(SSL_CTX *ctx, const char *host, tls_client_watch_t *w);
/* What w saw, as the reason a connection failed: "TLS handshake failed:
 * certificate verify failed: ...", "the server refused the TLS session
 * (alert: certificate required)", "TLS handshake failed (alert: protocol
 * version)"; when it saw nothing but lws_why (lws's reason, may be NULL)
 * is one of lws's TLS texts (which lose OpenSSL's reason), "TLS handshake
 * failed". Returns 1 with it in out (cap bytes), else 0. */
int tls_client_watch_reason(const tls_client_watch_t *w, const char *lws_why, char *out,
                            size_t cap);
/* Stops watching (w may go away now); the host check stays. */
void tls_client_ctx_unwatch(SSL_CTX *ctx);

/* For a verify callback that sees the store (libwebsockets'
 * LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION, whose `in` is
 * the session): when store holds an error, writes its reason to the watch
 * of ctx (SSL_get_SSL_CTX() of the session), unless one is there. */
void tls_client_note_verify(SSL_CTX *ctx, X509_STORE_CTX *store);

/* A session on the connected socket fd (borrowed: not closed) for host
 * (SNI for a name, and the identity to verify). Returns it, or NULL with
 * a reason in err. Start with tls_client_handshake(). */
SSL *tls_client_new(SSL_CTX *ctx, int fd, const char *host, char *err, size_t errlen);

/* One step of the handshake. Returns TLS_CLIENT_DONE, WANT_READ,
 * WANT_WRITE, or ERROR / REFUSED / EOF with the reason in err
 * ("certificate verify failed: unable to get local issuer certificate",
 * "the server refused the TLS session (alert: handshake failure)", "the
 * server closed the connection during the TLS handshake"). With TLS 1.3
 * the server judges a client certificate after the client's handshake is
 * done: a refusal then comes with the first read. */
int tls_client_handshake(SSL *ssl, char *err, size_t errlen);

/* Reads up to n bytes. Returns the count (> 0), or a tls_client_result:
 * WANT_READ when nothing is there yet, WANT_WRITE (poll for POLLOUT and
 * read again), EOF, or ERROR / REFUSED with the reason in err. */
ssize_t tls_client_read(SSL *ssl, void *p, size_t n, char *err, size_t errlen);

/* Writes up to n bytes (n > 0); what was not written must be offered
 * again, from the same bytes, after the wait. Returns the count written
 * (> 0), or WANT_WRITE, WANT_READ, EOF, or ERROR / REFUSED with the
 * reason. */
ssize_t tls_client_write(SSL *ssl, const void *p, size_t n, char *err, size_t errlen);

/* Sends close_notify (one try, no wait) and frees the session. NULL is
 * fine. The socket stays open. */
void tls_client_close(SSL *ssl);
/* Frees the session without a word to the peer (in a fork child: the
 * connection is the parent's). NULL is fine. */
void tls_client_free(SSL *ssl);

#endif
