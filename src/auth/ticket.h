/* ticket.h - short-lived tickets for what cannot send a header: a
 * browser's WebSocket (and EventSource). POST /api/session, authenticated
 * with a token, gets one; it then stands in for that token as ?ticket= on
 * the tail routes only, with the token's scopes (or fewer) and topics,
 * until it expires. A ticket may be used more than once while it lasts (an
 * EventSource reconnects with the same URL).
 *
 * A ticket is TICKET_BYTES random bytes (OpenSSL's RAND_bytes) written as
 * hex. The store keeps its SHA-256 digest, never the ticket, and finds one
 * the way auth_lookup finds a token: comparing the digest with every live
 * ticket's, in constant time. Each ticket keeps its token's entry (and so
 * its table) with auth_ref until it is dropped: when it expires, when the
 * store is cleared (an auth file reload) or destroyed.
 *
 * Loop thread only; the clock is the caller's (now_ms), so tests choose
 * it.
 */
#ifndef LOGSHIP_TICKET_H
#define LOGSHIP_TICKET_H

#include <stdint.h>

#include "auth.h"

#define TICKET_BYTES    32
#define TICKET_TEXT_LEN (2 * TICKET_BYTES)

typedef struct ticket_store ticket_store_t;

/* A store of at most max live tickets. */
ticket_store_t *ticket_store_create(size_t max);
/* Drops every ticket and frees ts; NULL is fine. */
void ticket_store_destroy(ticket_store_t *ts);
/* Drops every ticket (their entries are let go). */
void ticket_store_clear(ticket_store_t *ts);
size_t ticket_store_count(const ticket_store_t *ts);

/* Issues a ticket for e with scopes (those of e's that the ticket carries)
 * valid until now_ms + life_ms; writes it NUL-terminated into out. Returns
 * 0, or -1 when the store is full of live tickets or no random bytes came. */
int ticket_issue(ticket_store_t *ts, const auth_entry_t *e, unsigned scopes, int64_t now_ms,
                 int64_t life_ms, char out[TICKET_TEXT_LEN + 1]);
/* The entry of ticket t[0..n) and its scopes in *scopes, or NULL when it is
 * unknown or expired at now_ms (expired ones are dropped). Borrowed: the
 * caller auth_ref()s what it keeps. */
const auth_entry_t *ticket_find(ticket_store_t *ts, const char *t, size_t n, int64_t now_ms,
                                unsigned *scopes);

#endif
