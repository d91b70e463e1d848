/* tls.h - TLS for logshipd's listeners (OpenSSL): a server context that a
 * reload can replace, and a session that turns ciphertext into plaintext
 * and back in memory, with no socket inside.
 *
 * Context (tls_ctx_t): the certificate chain and key (PEM files), an
 * optional client CA (then every client must present a certificate it
 * signed), TLS 1.2 or newer. Every listener of the process shares one.
 * tls_ctx_reload() builds a new SSL_CTX from the files and swaps it in for
 * connections accepted from then on; an SSL_CTX is reference-counted, so
 * the sessions open keep the one they started with until they end. A file
 * that does not load leaves the old context in place.
 *
 * Session (tls_session_t): a server SSL between two fixed buffers, a BIO
 * pair: the I/O glue puts what the socket read into the input buffer
 * (tls_in_room, tls_in_commit, or tls_feed), reads plaintext out
 * (tls_read), writes plaintext in (tls_write) and sends what the output
 * buffer holds (tls_out_peek, tls_out_consume). The handshake runs inside
 * tls_read and tls_write. The buffers are allocated once per session
 * (TLS_IN_BUF, TLS_OUT_BUF): nothing is allocated per record.
 *
 * Invariants:
 *   T1. After TLS_FAILED a session reads and writes nothing more but
 *       what is already in its output buffer (an alert); tls_why() says
 *       why, and the failure was counted once (a handshake failure when
 *       the handshake had not finished).
 *   T2. tls_read returns TLS_WANT only when the input buffer is empty or
 *       the output buffer is full: whatever the glue put in is consumed
 *       before it asks for more, unless what it must send holds it up
 *       (then tls_has_input says so; send, and read again).
 *
 * A session is used by one thread at a time; contexts are created and
 * reloaded on the loop thread.
 */
#ifndef LOGSHIP_TLS_TLS_H
#define LOGSHIP_TLS_TLS_H

#include <stddef.h>
#include <stdint.h>

#define TLS_IN_BUF  (32u * 1024) /* ciphertext read, not yet decrypted */
#define TLS_OUT_BUF (32u * 1024) /* ciphertext made, not yet sent */

/* What tls_read and tls_write return besides a byte count. */
#define TLS_WANT   (-1) /* no progress until more input arrives (or output is sent) */
#define TLS_CLOSED (-2) /* the peer sent close_notify: no more plaintext */
#define TLS_FAILED (-3) /* a protocol or verification error: see tls_why() (T1) */

/* Why a session failed. */
enum tls_fail {
    TLS_OK,
    TLS_PLAINTEXT, /* the first bytes were not TLS (plain HTTP on a TLS port, say) */
    TLS_HANDSHAKE, /* the handshake failed (version, certificate, alert) */
    TLS_PROTOCOL,  /* a bad record after the handshake */
};

/* Counters of the TLS connections of one listener kind, owned by the
 * listener's module (the HTTP layer's, syslog's, raw TCP's). */
typedef struct tls_stats {
    uint64_t sessions;           /* TLS connections accepted */
    uint64_t handshakes;         /* completed */
    uint64_t handshake_failures; /* refused or broken before completion */
    uint64_t errors;             /* bad records after the handshake */
} tls_stats_t;

/* Where the context's files are. */
typedef struct tls_files {
    const char *cert;      /* PEM: the server's certificate, then its chain */
    const char *key;       /* PEM: its private key */
    const char *client_ca; /* PEM: CAs for client certificates; NULL or "": none asked */
} tls_files_t;

typedef struct tls_ctx tls_ctx_t;
typedef struct tls_session tls_session_t;

/* Loads the files into a new context. NULL with the reason in err. */
tls_ctx_t *tls_ctx_create(const tls_files_t *f, char *err, size_t cap);
/* Loads the files again into a new SSL_CTX and uses it for sessions
 * created from now on (open ones keep theirs). 0, or -1 with the reason in
 * err, and the context unchanged. */
int tls_ctx_reload(tls_ctx_t *t, const tls_files_t *f, char *err, size_t cap);
/* Reloads that took effect. */
uint64_t tls_ctx_generation(const tls_ctx_t *t);
/* Frees the context; open sessions keep their SSL_CTX. Accepts NULL. */
void tls_ctx_destroy(tls_ctx_t *t);

/* A server session on the context's current SSL_CTX, counting into stats
 * (NULL: nowhere). NULL when OpenSSL cannot allocate one. */
tls_session_t *tls_session_create(tls_ctx_t *t, tls_stats_t *stats);
void tls_session_destroy(tls_session_t *s);
/* Sends no TLS 1.3 session tickets on s: for listeners whose clients only
 * send (syslog, raw TCP, GELF, forward). A sender that closes without
 * reading leaves the tickets unread, and its kernel then answers with a
 * reset, which on our side discards the records not yet read. Call before
 * the handshake. */
void tls_session_no_tickets(tls_session_t *s);

/* Room in the input buffer: *p and its length (0 when full, or failed). */
size_t tls_in_room(tls_session_t *s, char **p);
/* n bytes were put at tls_in_room()'s pointer. */
void tls_in_commit(tls_session_t *s, size_t n);
/* Copies up to n bytes of ciphertext in; returns how many fitted. */
size_t tls_feed(tls_session_t *s, const char *p, size_t n);
/* Decrypts into out: bytes (> 0), TLS_WANT, TLS_CLOSED or TLS_FAILED. */
long tls_read(tls_session_t *s, char *out, size_t cap);
/* Encrypts p[0..n): bytes taken (> 0; fewer when the output buffer is
 * full), TLS_WANT (the output buffer is full, or the handshake waits for
 * input: see tls_wants_input) or TLS_FAILED. A write that returned
 * TLS_WANT must be repeated with the same bytes first. */
long tls_write(tls_session_t *s, const char *p, size_t n);
/* 1 when the session can go on only after more input (the handshake). */
int tls_wants_input(const tls_session_t *s);
/* Ciphertext waiting to be sent: *p and its length (0: none). */
size_t tls_out_peek(tls_session_t *s, const char **p);
/* n bytes of it were sent. */
void tls_out_consume(tls_session_t *s, size_t n);
/* 1 when plaintext or ciphertext is buffered that tls_read has not
 * returned yet (call it again without waiting for the socket). */
int tls_has_input(const tls_session_t *s);
/* The connection ends (the peer closed it, a deadline passed): a
 * handshake that had begun and not finished counts as failed, for why. */
void tls_abandon(tls_session_t *s, const char *why);
/* Queues close_notify (once; sent with the output). */
void tls_shutdown(tls_session_t *s);
int tls_handshake_done(const tls_session_t *s);
enum tls_fail tls_failure(const tls_session_t *s);
/* Why the session failed ("" while it has not). */
const char *tls_why(const tls_session_t *s);
/* The protocol and cipher, once the handshake is done ("" before). */
const char *tls_version(const tls_session_t *s);
/* The subject of the client's certificate, or "" (none asked or given). */
const char *tls_peer_subject(tls_session_t *s, char *buf, size_t cap);

#endif
