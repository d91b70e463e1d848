/* fluent_conn.h - the Fluentd forward input (--forward) on the stream
 * layer: messages to fluent_parse, acks once the records are durable. */
#ifndef LOGSHIP_FLUENT_CONN_H
#define LOGSHIP_FLUENT_CONN_H

#include "../stream.h"

/* max_msg bounds a record's msg, max_message a forward message. With
 * o->tls: the forward protocol over TLS (--forward-tls, Fluent Bit's
 * tls on), "forward-tls" in logs, counted with forward's, TLS in
 * fluent_tls_stats(). */
stream_listener_t *fluent_listen(uv_loop_t *loop, store_t *store, const stream_opts_t *o,
                                 size_t max_msg, size_t max_message, int *port);
/* The input's counters (ingest.h). Loop thread. */
const ingest_stats_t *fluent_stats(void);
const tls_stats_t *fluent_tls_stats(void);

#endif
