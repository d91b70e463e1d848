/* ingest_http.h - the HTTP ingest route (POST and GET /api/log) and the
 * context it runs in. */
#ifndef LOGSHIP_INGEST_HTTP_H
#define LOGSHIP_INGEST_HTTP_H

#include "../../common/record.h"
#include "../../http/http.h"
#include "../../store/store.h"
#include "../ingest.h"
#include "http_parse.h"

/* The route's limits (--max-body, --max-body-memory). */
typedef struct ingest_http_limits {
    size_t max_body;        /* one request body */
    size_t max_body_memory; /* every body held at once */
} ingest_http_limits_t;

/* The handler's context: the route's data (http_route_t.data). Its owner
 * (server/routes.c) sets it up with ingest_http_init() before the route
 * serves and closes it after the last connection is freed. Loop thread. */
typedef struct ingest_http_ctx {
    store_t *store; /* borrowed */
    ingest_http_limits_t limits;
    /* scratch reused by every request: the loop parses one at a time */
    http_parse_t hp;
    batch_t batch;
    ingest_report_t report;
    size_t body_memory; /* request bodies held now, against max_body_memory */
} ingest_http_ctx_t;

/* The route's counters (ingest.h), for /metrics. */
typedef struct ingest_http_stats {
    ingest_stats_t in;             /* the HTTP input's */
    uint64_t rejected[HREJ_COUNT]; /* requests or batch lines refused, by reason */
    uint64_t topic_refused;        /* 403: a record outside the token's topics */
} ingest_http_stats_t;

extern const http_handler_t ingest_http_handler;

/* Sets up ctx (caller-allocated) to append to store within lim. */
void ingest_http_init(ingest_http_ctx_t *ctx, store_t *store, const ingest_http_limits_t *lim);
/* New limits for the requests that start from now on (a reload). */
void ingest_http_set_limits(ingest_http_ctx_t *ctx, const ingest_http_limits_t *lim);
/* The check every write route runs before it appends b for c's request:
 * 0 when c's token may write every record of b (or there are no tokens,
 * or it is not limited to some topics). Otherwise the number (from 1) of
 * the first record outside its topics, with the 403's message in
 * msg[0..cap) ("record 3 of the request has a topic outside ...": the
 * parsed record's number, never its topic), counted in topic_refused. The route then stores nothing
 * of b. Loop thread; allocates nothing. */
size_t ingest_http_topic_check(http_conn_t *c, const batch_t *b, char *msg, size_t cap);
/* Frees the scratch; ctx may be zeroed (never set up). */
void ingest_http_close(ingest_http_ctx_t *ctx);
/* The counters of the process's HTTP ingest (every context's). Loop
 * thread. */
const ingest_http_stats_t *ingest_http_stats(void);
/* Counts one request refused for reason (http.h's HREJ_*) by a write route
 * that is not /api/log's own (the shippers' routes), in the same counters.
 * Loop thread. */
void ingest_http_count_rejected(int reason);

#endif
