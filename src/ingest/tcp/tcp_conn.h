/* tcp_conn.h - the raw TCP input (--tcp): see tcp_parse.h for the protocol. */
#ifndef LOGSHIP_TCP_CONN_H
#define LOGSHIP_TCP_CONN_H

#include "../stream.h"

stream_listener_t *tcp_listen(uv_loop_t *loop, store_t *store, const stream_opts_t *o,
                              size_t max_line, int *port);

#endif
