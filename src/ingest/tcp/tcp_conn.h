/* tcp_conn.h - the raw TCP input (--tcp): see tcp_parse.h for the protocol. */
#ifndef LOGSHIP_TCP_CONN_H
#define LOGSHIP_TCP_CONN_H

#include "../stream.h"

/* With o->tls, raw TCP over TLS ("tcp-tls" in logs; TLS counted in
 * tcp_tls_stats()). max_batch_bytes caps the record lines of one acknowledged batch (0: the
 * default, TCP_BATCH_BYTES_DEFAULT). */
stream_listener_t *tcp_listen(uv_loop_t *loop, store_t *store, const stream_opts_t *o,
                              size_t max_line, size_t max_batch_bytes, int *port);
/* The counters of every raw TCP listener of the process (ingest.h). Loop
 * thread. */
const ingest_stats_t *tcp_stats(void);
const tls_stats_t *tcp_tls_stats(void);

#endif
