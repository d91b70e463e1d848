/* gelf_conn.h - GELF over UDP (--gelf-udp: chunked, zlib, gzip or
 * plain datagrams) and TCP (--gelf-tcp: NUL-ended messages) on the
 * stream layer, and over HTTP (POST /gelf, a protocol of
 * ingest/http/proto_http.h). Neither UDP nor TCP answers: a message that
 * is not GELF is stored as it came with fields.parse_error. */
#ifndef LOGSHIP_GELF_CONN_H
#define LOGSHIP_GELF_CONN_H

#include "../http/proto_http.h"
#include "../stream.h"
#include "gelf_chunk.h"

/* max_msg bounds a record's msg and a TCP message (longer ones are
 * dropped and counted); a decompressed message is bounded by it too. */
/* allow: the networks datagrams may come from (copied; NULL or empty:
 * anyone). */
dgram_listener_t *gelf_udp_listen(uv_loop_t *loop, store_t *store, const char *addr,
                                  const cidr_list_t *allow, size_t max_msg, int *port);
/* With o->tls: GELF TCP over TLS (--gelf-tls), "gelf-tls" in logs,
 * counted with GELF TCP's, TLS in gelf_tls_stats(). */
stream_listener_t *gelf_tcp_listen(uv_loop_t *loop, store_t *store, const stream_opts_t *o,
                                   size_t max_msg, int *port);
/* Frees what the listeners share, after the loop has ended. */
void gelf_conn_cleanup(void);

extern const proto_http_t gelf_http;

/* The counters of each GELF input (ingest.h). Loop thread. */
const ingest_stats_t *gelf_udp_stats(void);
const ingest_stats_t *gelf_tcp_stats(void);
const ingest_stats_t *gelf_http_stats(void);
const tls_stats_t *gelf_tls_stats(void);
/* Chunked messages dropped: timed out, over the bounds, malformed chunks. */
const gelf_chunks_t *gelf_udp_chunks(void);

#endif
