/* auth.h - tokens with scopes and topics: the table an --auth-file holds
 * and token lookup. The HTTP layer asks the server (server/access.c)
 * whether a request may reach its route; the server answers with this.
 *
 * THE FILE (--auth-file)
 *
 * One token per line, fields separated by spaces or tabs:
 *
 *   NAME TOKEN SCOPES [TOPIC-PATTERNS]
 *
 *   NAME     who holds it, in logs: 1 to 64 of A-Z a-z 0-9 . _ - @; unique
 *   TOKEN    the secret: 16 to 256 printable ASCII characters, no space;
 *            unique
 *   SCOPES   a comma list of write (ingest), read (queries), tail (live
 *            tail), files (file tail under --tail-root), admin (/metrics)
 *   TOPIC-PATTERNS  a comma list of topic patterns (route/topic.h), at most
 *            16: the topics the token may write, and the only ones it sees
 *            in queries and tails. Default '#' (every topic). They do not
 *            limit files: those are not records.
 *
 * A line whose first non-blank character is '#' is a comment; blank lines
 * are skipped; a line ends with LF (a CR before it is dropped). A file
 * with any error is refused whole, with the first error: it names the line
 * and says why (bad field count, bad name, duplicate name or token, token
 * too short or too long, unknown scope, bad or too many patterns, too many
 * tokens). No message ever quotes a field that could be a token (a field
 * put in the wrong place, say): not the token, the name or a pattern, and a
 * scope only when it is shorter than any token may be.
 *
 * LOOKUP, IN CONSTANT TIME
 *
 * The table keeps each token's SHA-256 digest, never the token. A token
 * presented is hashed once and its digest compared with CRYPTO_memcmp
 * against every entry's, with no early exit: the time taken depends on the
 * number of entries and on the length of what was presented, never on how
 * many bytes it shares with a real token.
 *
 * LIFETIME
 *
 * A table is reference counted: whoever keeps an entry (a request in
 * progress, a WebSocket, a ticket) keeps its table with auth_ref(), so a
 * reload that replaces the table never frees an entry still in use. Loop
 * thread only: the counts are plain integers.
 */
#ifndef LOGSHIP_AUTH_H
#define LOGSHIP_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "../route/topic.h"

/* Scopes, as bits. */
enum {
    AUTH_WRITE = 1,
    AUTH_READ = 2,
    AUTH_TAIL = 4,
    AUTH_FILES = 8,
    AUTH_ADMIN = 16,
    AUTH_SCOPES = 31, /* all of them */
    /* what a route may ask for besides one scope (http_route_t.scope) */
    AUTH_PUBLIC = 1 << 8, /* nobody in particular: no token needed */
    AUTH_ANY = 1 << 9,    /* any valid token, whatever its scopes */
};

#define AUTH_NAME_MAX        64
#define AUTH_TOKEN_MIN       16
#define AUTH_TOKEN_MAX       256
#define AUTH_DIGEST_LEN      32 /* SHA-256 */
#define AUTH_MAX_ENTRIES     1024
#define AUTH_LINE_MAX        4096
#define AUTH_FILE_MAX        (1u << 20) /* bytes of an --auth-file */
#define AUTH_ERR_MAX         160
#define AUTH_SCOPE_LIST      "write, read, tail, files, admin"
#define AUTH_SCOPES_TEXT_MAX 32 /* "write,read,tail,files,admin" and a NUL */

typedef struct auth_table auth_table_t;

/* One token. The texts of topics point into the table. */
typedef struct auth_entry {
    char name[AUTH_NAME_MAX + 1];
    uint8_t digest[AUTH_DIGEST_LEN]; /* SHA-256 of the token */
    unsigned scopes;
    topic_set_t topics;
    int all_topics; /* topics holds '#': no limit */
    size_t line;    /* in the file */
    auth_table_t *table;
} auth_entry_t;

/* Parses an --auth-file's bytes text[0..n). Returns the table (one
 * reference, the caller's), or NULL with a NUL-terminated message in
 * err[0..cap) ("line 3: unknown scope 'wrte' (use write, read, ...)").
 * Pure: any thread. */
auth_table_t *auth_table_parse(const char *text, size_t n, char *err, size_t cap);
size_t auth_table_count(const auth_table_t *t);
const auth_entry_t *auth_table_entry(const auth_table_t *t, size_t i);

/* The entry whose token is token[0..n), or NULL; in constant time with
 * respect to the bytes of the token (see above). t may be NULL. The entry
 * is borrowed: auth_ref() it to keep it past the current call. */
const auth_entry_t *auth_lookup(const auth_table_t *t, const char *token, size_t n);
/* SHA-256 of p[0..n) into out (for tickets). */
void auth_digest(const char *p, size_t n, uint8_t out[AUTH_DIGEST_LEN]);

void auth_table_ref(auth_table_t *t);
/* References held on t now (for tests: each keeper holds one). */
long auth_table_refs(const auth_table_t *t);
/* Frees t with its last reference; NULL is fine. */
void auth_table_unref(auth_table_t *t);
/* Keeps e's table (and so e) alive; returns e. NULL is fine. */
const auth_entry_t *auth_ref(const auth_entry_t *e);
void auth_unref(const auth_entry_t *e);

/* The topics e is limited to, or NULL when it is not (no entry, or '#'):
 * for filter_limit() and the ingest check. */
const topic_set_t *auth_topics(const auth_entry_t *e);

/* The scope bit named s[0..n) ("write"...), or 0. */
unsigned auth_scope_parse(const char *s, size_t n);
/* "read,tail" for scopes, into out[0..cap) (AUTH_SCOPES_TEXT_MAX fits all). */
void auth_scopes_text(unsigned scopes, char *out, size_t cap);

#endif
