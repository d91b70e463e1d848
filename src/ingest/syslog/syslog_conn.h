/* syslog_conn.h - syslog listeners: UDP datagrams and TCP streams. */
#ifndef LOGSHIP_SYSLOG_CONN_H
#define LOGSHIP_SYSLOG_CONN_H

#include "../stream.h"

/* With o->tls, syslog over TLS (RFC 5425): "syslog-tls" in logs, records
 * counted with syslog TCP's, TLS in syslog_tls_stats(). */
stream_listener_t *syslog_tcp_listen(uv_loop_t *loop, store_t *store, const stream_opts_t *o,
                                     size_t max_line, int *port);
/* allow: the networks datagrams may come from (copied; NULL: anyone). */
dgram_listener_t *syslog_udp_listen(uv_loop_t *loop, store_t *store, const char *addr,
                                    const cidr_list_t *allow, size_t max_line, int *port);
/* Frees the parsing state shared by the listeners (after they closed). */
void syslog_conn_cleanup(void);
/* The counters of every syslog UDP, and every syslog TCP, listener of the
 * process (ingest.h). Loop thread. */
const ingest_stats_t *syslog_udp_stats(void);
const ingest_stats_t *syslog_tcp_stats(void);
const tls_stats_t *syslog_tls_stats(void);

#endif
