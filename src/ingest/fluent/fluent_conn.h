/* fluent_conn.h - the Fluentd forward input (--forward) on the stream
 * layer: messages to fluent_parse, acks once the records are durable. */
#ifndef LOGSHIP_FLUENT_CONN_H
#define LOGSHIP_FLUENT_CONN_H

#include "../stream.h"
#include "fluent_auth.h"

/* Reads and parses a --forward-auth file into a (caller-allocated, freed
 * with fluent_auth_free), with this machine's name as ours. 0, or -1 with
 * a message in err[0..cap). */
int fluent_auth_load(fluent_auth_t *a, const char *path, char *err, size_t cap);
/* Clients refused by the handshake. Loop thread. */
uint64_t fluent_auth_refused(void);

/* o->proto_arg: a fluent_auth_t (borrowed, outliving the listener) turns
 * the shared-key handshake on, or NULL.
 * max_msg bounds a record's msg, max_message a forward message. With
 * o->tls: the forward protocol over TLS (--forward-tls, Fluent Bit's
 * tls on), "forward-tls" in logs, counted with forward's, TLS in
 * fluent_tls_stats(). */
stream_listener_t *fluent_listen(uv_loop_t *loop, store_t *store, const stream_opts_t *o,
                                 size_t max_msg, size_t max_message, int *port);
/* The input's counters (ingest.h). Loop thread. */
const ingest_stats_t *fluent_stats(void);
const tls_stats_t *fluent_tls_stats(void);

#endif
