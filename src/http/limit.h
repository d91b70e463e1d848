/* limit.h - per-client limits of the HTTP layer: a token bucket for the
 * request rate and a count of open connections, by client key (an address,
 * or a token's name). Pure: no sockets, no clock of its own (callers pass
 * the time), so it is unit-tested without a server (tests/unit/http).
 *
 * The table holds at most LIMIT_MAX_KEYS clients. A key whose bucket is
 * full again and which has no connection open is forgotten when room is
 * needed (it would start full anyway). When every slot is busy a new key
 * shares one overflow entry: under a flood of fresh addresses the limits
 * then hold for them together, never for nobody.
 * Loop thread only.
 */
#ifndef LOGSHIP_HTTP_LIMIT_H
#define LOGSHIP_HTTP_LIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"

#define LIMIT_MAX_KEYS 65536
#define LIMIT_KEY_MAX  64 /* longer keys are cut (addresses and token names fit) */

typedef struct limit limit_t;

typedef struct limit_options {
    double rate;      /* requests per second per key; 0: no rate limit */
    double burst;     /* bucket size; < 1: max(rate, 1) */
    size_t max_conns; /* open connections per key; 0: no limit */
} limit_options_t;

limit_t *limit_create(const limit_options_t *o);
/* Takes effect at once; buckets keep their level (cut to a smaller burst). */
void limit_set_options(limit_t *l, const limit_options_t *o);
void limit_destroy(limit_t *l);

/* One request of key at now_ns (monotonic): 0 when it may go (a token is
 * taken), else the milliseconds until one will be there (>= 1). */
uint64_t limit_take(limit_t *l, slice_t key, uint64_t now_ns);
/* A connection of key opens: 0, or -1 when key has max_conns open (then
 * nothing is counted and limit_conn_close must not be called). */
int limit_conn_open(limit_t *l, slice_t key, uint64_t now_ns);
void limit_conn_close(limit_t *l, slice_t key);
/* Keys held now (for tests and metrics). */
size_t limit_keys(const limit_t *l);

#endif
