/* syslog_conn.h - syslog listeners: UDP datagrams and TCP streams. */
#ifndef LOGSHIP_SYSLOG_CONN_H
#define LOGSHIP_SYSLOG_CONN_H

#include "../stream.h"

stream_listener_t *syslog_tcp_listen(uv_loop_t *loop, store_t *store, const stream_opts_t *o,
                                     size_t max_line, int *port);
dgram_listener_t *syslog_udp_listen(uv_loop_t *loop, store_t *store, const char *addr,
                                    size_t max_line, int *port);
/* Frees the parsing state shared by the listeners (after they closed). */
void syslog_conn_cleanup(void);

#endif
