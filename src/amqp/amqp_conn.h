/* amqp_conn.h - what the RabbitMQ output and input share about a
 * connection (librabbitmq): opening the socket (TCP, or TLS verified
 * against --amqp-ca or the system's bundle), logging in with a heartbeat
 * and a connection name, and saying why an RPC failed. Called on the
 * thread that owns the connection.
 */
#ifndef LOGSHIP_AMQP_CONN_H
#define LOGSHIP_AMQP_CONN_H

#include <amqp.h>
#include <stddef.h>

#include "amqp_url.h"

#define AMQP_SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define AMQP_FRAME_MAX        131072

/* 1 when x may name an exchange or queue logshipd declares: 1 to 255
 * letters, digits, '-', '_', '.' or ':', not starting with "amq." (the
 * broker's own). */
int amqp_conn_name_ok(const char *x);

/* Checks --amqp-ca against url (flag names the URL's option in messages):
 * a CA file only for amqps://, readable; amqps:// without one needs the
 * system's bundle. Returns 0, or -1 with err filled. */
int amqp_conn_check_ca(const amqp_url_t *u, const char *ca, const char *flag, char *err,
                       size_t errcap);

/* Makes conn's socket and connects it within timeout_s seconds. ca: the
 * CA file for amqps:// (NULL or "": the system's bundle). Returns 0, or -1
 * with why filled; conn is then still to be destroyed by the caller. */
int amqp_conn_open(amqp_connection_state_t conn, const amqp_url_t *u, const char *ca, int timeout_s,
                   char *why, size_t cap);

/* Sets the handshake and RPC timeouts and logs in (PLAIN) with the given
 * heartbeat (seconds) and connection name. Returns 0, or -1 with why. */
int amqp_conn_login(amqp_connection_state_t conn, const amqp_url_t *u, const char *name,
                    int heartbeat_s, int rpc_timeout_s, char *why, size_t cap);

/* Why an RPC failed, into buf (or a static text). */
const char *amqp_conn_why(amqp_rpc_reply_t r, char *buf, size_t cap);

#endif
