/* ticket.c - short-lived tickets: see ticket.h. */
#include "ticket.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "../common/buf.h"

typedef struct ticket {
    uint8_t digest[AUTH_DIGEST_LEN];
    const auth_entry_t *e; /* a reference (auth_ref) */
    unsigned scopes;
    int64_t expires_ms;
} ticket_t;

struct ticket_store {
    ticket_t *t;
    size_t n, max;
};

ticket_store_t *ticket_store_create(size_t max)
{
    ticket_store_t *ts = xcalloc(1, sizeof *ts);
    ts->max = max ? max : 1;
    ts->t = xcalloc(ts->max, sizeof *ts->t);
    return ts;
}

static void drop(ticket_store_t *ts, size_t i)
{
    auth_unref(ts->t[i].e);
    ts->t[i] = ts->t[--ts->n];
    memset(&ts->t[ts->n], 0, sizeof ts->t[ts->n]);
}

void ticket_store_clear(ticket_store_t *ts)
{
    while (ts && ts->n)
        drop(ts, ts->n - 1);
}

void ticket_store_destroy(ticket_store_t *ts)
{
    if (!ts)
        return;
    ticket_store_clear(ts);
    free(ts->t);
    free(ts);
}

size_t ticket_store_count(const ticket_store_t *ts)
{
    return ts ? ts->n : 0;
}

static void expire(ticket_store_t *ts, int64_t now_ms)
{
    for (size_t i = ts->n; i-- > 0;)
        if (ts->t[i].expires_ms <= now_ms)
            drop(ts, i);
}

int ticket_issue(ticket_store_t *ts, const auth_entry_t *e, unsigned scopes, int64_t now_ms,
                 int64_t life_ms, char out[TICKET_TEXT_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[TICKET_BYTES];
    expire(ts, now_ms);
    if (ts->n == ts->max || RAND_bytes(raw, sizeof raw) != 1)
        return -1;
    for (size_t i = 0; i < TICKET_BYTES; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[TICKET_TEXT_LEN] = '\0';
    OPENSSL_cleanse(raw, sizeof raw);
    ticket_t *t = &ts->t[ts->n++];
    auth_digest(out, TICKET_TEXT_LEN, t->digest);
    t->e = auth_ref(e);
    t->scopes = scopes & e->scopes;
    t->expires_ms = now_ms + life_ms;
    return 0;
}

const auth_entry_t *ticket_find(ticket_store_t *ts, const char *text, size_t n, int64_t now_ms,
                                unsigned *scopes)
{
    uint8_t d[AUTH_DIGEST_LEN];
    size_t found = SIZE_MAX;
    expire(ts, now_ms);
    auth_digest(text, n, d);
    /* every live ticket, no early exit (as auth_lookup) */
    for (size_t i = 0; i < ts->n; i++) {
        size_t same = (size_t)(CRYPTO_memcmp(ts->t[i].digest, d, sizeof d) == 0);
        size_t mask = (size_t)0 - same;
        found = (found & ~mask) | (i & mask);
    }
    OPENSSL_cleanse(d, sizeof d);
    if (found == SIZE_MAX)
        return NULL;
    *scopes = ts->t[found].scopes;
    return ts->t[found].e;
}
