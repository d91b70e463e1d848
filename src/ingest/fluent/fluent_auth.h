/* fluent_auth.h - the forward protocol's shared-key handshake (Fluentd
 * forward protocol v1, "Handshake Messages"), pure: bytes in, a verdict and
 * the bytes to answer out; no sockets, no clock, no randomness (the glue,
 * fluent_conn.c, gives the nonce and salt).
 *
 *   server  HELO  ["HELO", {"nonce": NONCE, "auth": SALT, "keepalive": true}]
 *   client  PING  ["PING", client_hostname, shared_key_salt,
 *                  hex(sha512(shared_key_salt client_hostname NONCE shared_key)),
 *                  username, hex(sha512(SALT username password))]
 *   server  PONG  ["PONG", ok, reason, server_hostname,
 *                  hex(sha512(shared_key_salt server_hostname NONCE shared_key))]
 *
 * NONCE and SALT are sent as strings of FLUENT_NONCE_LEN lowercase hex
 * digits: every client hashes the bytes it received, and printable ones
 * survive the clients that decode strings as text. SALT is empty when no
 * users are configured; username and password digest are then not
 * checked. A failed PING gets a PONG with ok false and fluentd's reasons
 * ("shared_key mismatch", "username/password mismatch"); the glue closes
 * after it. Digests are compared in constant time.
 *
 * THE FILE (--forward-auth FILE): one setting a line, fields separated by
 * spaces or tabs; '#' starts a comment line; blank lines are skipped.
 *
 *   shared_key KEY           exactly once: 1 to 256 printable characters
 *   user NAME PASSWORD       any number (at most FLUENT_USERS_MAX): then
 *                            every client must send one of them
 *
 * A file with an error is refused whole; the message names the line and
 * never quotes a key or a password.
 */
#ifndef LOGSHIP_FLUENT_AUTH_H
#define LOGSHIP_FLUENT_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/buf.h"

#define FLUENT_NONCE_LEN  32 /* hex digits of 16 random bytes */
#define FLUENT_SECRET_MAX 256
#define FLUENT_USERS_MAX  256
#define FLUENT_PING_MAX   4096 /* bytes of a PING: longer is refused */
#define FLUENT_AUTH_ERR   160

typedef struct fluent_user {
    char name[FLUENT_SECRET_MAX + 1];
    char password[FLUENT_SECRET_MAX + 1];
} fluent_user_t;

/* What the server checks, from --forward-auth. */
typedef struct fluent_auth {
    char shared_key[FLUENT_SECRET_MAX + 1];
    fluent_user_t *users; /* NULL when none */
    size_t nusers;
    char hostname[256]; /* ours, sent in PONG */
} fluent_auth_t;

/* Parses a --forward-auth file's text[0..n) into a (caller-allocated;
 * hostname is left as it was). 0, or -1 with a NUL-terminated message in
 * err[0..cap) ("line 2: ..."); then nothing needs freeing. */
int fluent_auth_parse(fluent_auth_t *a, const char *text, size_t n, char *err, size_t cap);
/* Frees the users and wipes the secrets; a may be zeroed. */
void fluent_auth_free(fluent_auth_t *a);

/* The HELO for nonce and salt (FLUENT_NONCE_LEN hex digits each; salt is
 * sent empty when a has no users) into out (reset first). */
void fluent_helo(buf_t *out, const fluent_auth_t *a, const char *nonce, const char *salt);

/* A client's PING: the fields point into the bytes read. */
typedef struct fluent_ping {
    slice_t hostname, salt, digest, user, password_digest;
} fluent_ping_t;

/* Reads the PING at the start of p[0..n). Returns the bytes it took (> 0)
 * with *ping set, 0 when more bytes are needed, or -1 with *why when it is
 * not a PING (not MessagePack, not an array of 6 strings starting "PING",
 * longer than FLUENT_PING_MAX). */
long fluent_ping_read(const char *p, size_t n, fluent_ping_t *ping, const char **why);

/* Checks ping against a for the nonce and salt of our HELO, and writes
 * the PONG into out (reset first) either way. Returns 1 when the client
 * is let in, 0 with *reason (the PONG's) when not. */
int fluent_ping_check(const fluent_auth_t *a, const fluent_ping_t *ping, const char *nonce,
                      const char *salt, buf_t *out, const char **reason);

/* hex(sha512(parts...)) into hex (128 digits and a NUL), for tests and
 * the clients' side of the handshake. */
void fluent_sha512_hex(const slice_t *parts, size_t n, char hex[129]);

#endif
