/* send_http.h - `logship send` over http:// or https://: records as NDJSON batches
 * POSTed to logshipd's /api/log (http_post.h), each one stored before the
 * command goes on.
 *
 * Every batch carries Logship-Producer (one id per run) and Logship-Batch
 * (1, 2, 3...), so a batch sent again after a lost reply is stored once
 * (docs/PROTOCOL.md, "Idempotent producers"). Hence any failure after the
 * first connection (the connection lost, a reply that does not come, 503
 * "store behind", the server restarting) is retried with the same batch,
 * 100 ms doubling to 2 s apart, until the batch has waited timeout_ms.
 * What can not get better is not retried: no server at all when the
 * command starts (send_http_open() fails at once, with the reason), a
 * refusal (4xx, or a TLS session the server refused), records the server
 * rejected.
 *
 * Records are JSON lines like liblogship's (ts in ns, level, msg, topic,
 * app, host, pid, fields); a batch is sent at BATCH_RECORDS records or
 * BATCH_BYTES bytes, or when its first record has waited LINGER_MS (the
 * caller asks send_http_idle_ms() how long it may wait for input).
 */
#ifndef LOGSHIP_CLI_SEND_HTTP_H
#define LOGSHIP_CLI_SEND_HTTP_H

#include <stddef.h>

#include "../../include/logship.h"
#include "../common/tls_client.h"

typedef struct send_http_opts {
    const char *url;                /* http[s]://HOST[:PORT][/PREFIX] */
    SSL_CTX *tls;                   /* https://: the TLS context (borrowed, outlives the sender) */
    const char *app, *topic, *host; /* topic may be NULL; host NULL: gethostname() */
    const logship_field_t *fields;  /* on every record */
    size_t nfields;
    int timeout_ms; /* longest wait for one batch; 0: no limit */
} send_http_opts_t;

typedef struct send_http send_http_t;

/* Connects to the server. Returns the sender, or NULL with the reason in
 * err: a bad URL (*usage set to 1), or no connection ("cannot connect to
 * 127.0.0.1:8080: Connection refused"). */
send_http_t *send_http_open(const send_http_opts_t *o, int *usage, char *err, size_t errlen);

/* Adds a record (msg[0..n), level 0..7); posts the batch when it is full.
 * Returns 0, or -1 when a batch could not be stored (send_http_error()
 * says why; nothing more is sent then). */
int send_http_add(send_http_t *h, int level, const char *msg, size_t n);

/* Milliseconds the caller may wait for more input before the pending
 * batch is due (0: due now), or -1 when nothing is pending. */
int send_http_idle_ms(const send_http_t *h);

/* Posts the pending batch, if any. 0, or -1 (see send_http_add). */
int send_http_flush(send_http_t *h);

/* Why the last call failed. */
const char *send_http_error(const send_http_t *h);

/* Closes the connection and frees h (pending records are not sent:
 * send_http_flush() first). NULL is fine. */
void send_http_close(send_http_t *h);

#endif
