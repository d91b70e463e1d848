/* access.h - who may use logshipd: the --auth-file's tokens checked for
 * every HTTP route (the HTTP layer's authorize callback), tickets for
 * browsers' WebSockets (POST /api/session), and the secure defaults that
 * keep a listener off the network unless something guards it.
 *
 * ROUTES AND SCOPES (server/routes.c declares them)
 *
 *   POST/GET /api/log            write   (and every record's topic in the token's)
 *   GET /api/logs                read    (results limited to the token's topics)
 *   GET /api/stats               read    (counts limited to the token's topics)
 *   GET /api/tail                tail    (WebSocket or SSE; a ticket will do)
 *   GET /api/files, /api/files/  files   (file tail under --tail-root; a ticket
 *                                         will do on /api/files/...)
 *   GET /metrics                 admin   (counts over every topic and input)
 *   POST /api/session            any valid token: a ticket for it
 *   GET /, /ui/..., /healthz     nobody: the page loads and asks for a token;
 *                                health shows no record, only the version,
 *                                uptime and the newest seq
 *
 * Without --auth-file every request is allowed, as before, and the
 * handlers see no principal. With it, a request without a credential, or
 * with one that is not a token (or a live ticket), gets 401; a token
 * without the route's scope, 403. Tokens are taken as Authorization:
 * Bearer TOKEN, or Basic with the token as the password and any user name
 * (Python's logging.handlers.HTTPHandler(credentials=(name, token))).
 * Refusals are logged with the token's NAME at most, never a token or a
 * ticket; they are counted by the HTTP layer (logship_auth_refused_total).
 *
 * A ticket (auth/ticket.h) carries its token's scopes, or those asked for
 * with ?scope=, and its topics; it lasts --ticket-lifetime (60 s; a hidden
 * option, for tests) and is taken only on routes marked tickets (the tail
 * routes), as ?ticket=.
 *
 * RELOAD (SIGHUP): the file is read again; a file that does not parse
 * keeps the tokens loaded before, and the log says why (the line and the
 * reason, never a token). A new table drops every ticket (the page gets a
 * new one with its token); requests and WebSockets in progress keep the
 * entry they were authorized with until they end.
 *
 * SECURE DEFAULTS: logshipd does not start when an HTTP listener binds an
 * address that is not loopback and there is no --auth-file, or a syslog or
 * raw TCP listener does and no --allow (or --syslog-allow, --tcp-allow)
 * covers it, unless --insecure is given. Loop thread only.
 */
#ifndef LOGSHIP_ACCESS_H
#define LOGSHIP_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "../auth/auth.h"
#include "../auth/ticket.h"
#include "../common/cidr.h"
#include "../http/http.h"
#include "config.h"

#define ACCESS_TICKETS_MAX 4096

typedef struct access {
    auth_table_t *table; /* NULL: no --auth-file, everything is allowed */
    ticket_store_t *tickets;
    int64_t ticket_life_ms;
    char why[160]; /* the message of the last refusal */
} access_t;

/* Loads c's --auth-file, if any, into a (zeroed by the caller). Returns 0,
 * or -1 with the reason in err[0..cap) (the file and line, no token). */
int access_init(access_t *a, const config_t *c, char *err, size_t cap);
/* Frees the table and the tickets (after the last connection is gone). */
void access_free(access_t *a);
/* SIGHUP: reads nc's --auth-file again (or drops the tokens when it names
 * none, unless the running listeners, cfg's, need them). Logs what
 * happened. Returns 1 when nc's --auth-file is now the one in force, 0
 * when the tokens from before stay. */
int access_reload(access_t *a, const config_t *cfg, const config_t *nc);

/* http_authorize_fn and http_release_fn over an access_t. */
int access_authorize(void *arg, const http_req_t *r, const http_route_t *rt,
                     const http_cred_t *cred, const void **principal, const char **why);
void access_release(void *arg, const void *principal);
/* The name a principal's requests count under for --rate-limit: its token's. */
const char *access_limit_key(const void *principal);

/* A tail_conn_check_fn (tail/tail_conn.h), arg an access_t, for after a
 * reload: 0 when the token of principal (an auth_entry_t) is still in the
 * table with the scope need asks for (tail, or files) and the same topic
 * patterns; 401 when it is gone, 403 when its scope or topics changed,
 * with *why. Without tokens any more: 0 (the tail keeps its old limit). */
int access_tail_check(void *arg, const void *principal, int need_files, const char **why);

/* POST /api/session: {"ticket":"...","expires_in":S,"name":...,"scopes":[...],
 * "topics":[...]} for the token that asked; {"ticket":null,"auth":false}
 * when there are no tokens. Its route's data is the server (server.h). */
extern const http_handler_t access_session_handler;

/* The secure-default check of c's listeners (addresses already numeric:
 * config_resolve_addrs), with tokens (1) or without (0), whatever
 * --insecure says (the caller decides). Returns 0, or -1 with a message
 * that names the flag to add in err[0..cap). Pure. */
int access_check_listeners(const config_t *c, int tokens, char *err, size_t cap);
/* The networks a stream or datagram listener accepts: --allow's and those
 * of own, the listener kind's list (&c->syslog_allow, &c->tcp_allow,
 * &c->gelf_allow, &c->forward_allow). An empty list means anyone. */
void access_allow_list(const config_t *c, const config_names_t *own, cidr_list_t *out);

#endif
