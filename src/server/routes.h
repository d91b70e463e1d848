/* routes.h - the HTTP side of logshipd: routes, start, drain, stop. */
#ifndef LOGSHIP_ROUTES_H
#define LOGSHIP_ROUTES_H

#include "../http/http.h"
#include "server.h"

/* Starts WebSocket and HTTP on srv's loop (nothing with --http off):
 * routes_create, then listens on --http. Returns 0, or -1 after logging
 * why. */
int routes_start(server_t *srv);
/* Creates the WebSocket engine and the HTTP server with logshipd's route
 * table on srv's loop, without listening: connections come in with
 * http_server_adopt (routes_start listens; the routes fuzzer adopts
 * socketpairs). Returns 0, or -1 after logging why. */
int routes_create(server_t *srv);
/* Applies srv->cfg's HTTP limits, timeouts and Origin/Host/CORS lists to the
 * running server (after a reload); connections keep their current
 * deadlines until their next state change. */
void routes_reconfigure(server_t *srv);
/* After a reload of --auth-file: ends the live tails and followed files
 * whose token was removed, or lost their scope or changed topics
 * (tail_conn_recheck). */
void routes_tokens_reloaded(server_t *srv);
/* Stops accepting; idle connections close, requests in progress go on. */
void routes_drain(server_t *srv);
/* HTTP requests received and not yet answered. */
size_t routes_inflight(const server_t *srv);
/* Closes every connection. */
void routes_stop(server_t *srv);
/* The route table, for tests: its routes and their number. */
const http_route_t *routes_table(size_t *n);
/* Frees the handlers' contexts, once the loop has run out (after
 * routes_stop, every connection is freed). */
void routes_free(server_t *srv);

#endif
