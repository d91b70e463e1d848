/* metrics.h - /metrics (Prometheus text format): gathers the counters each
 * module keeps and renders them.
 *
 * The counters are plain integers owned by the modules that move them, on
 * the event loop thread: the inputs' (ingest_stats_t, one per input: HTTP,
 * syslog UDP and TCP, raw TCP), the query and tail routes', the HTTP
 * layer's (http_stats_t) and the server's own (server_stats_t). Nothing
 * here is written on the hot path; rendering reads them through the
 * modules' *_stats() getters. TLS counters (tls_stats_t) are kept by each
 * listener kind's module: the HTTP layer's, syslog's and raw TCP's.
 * Gauges that belong to another module (memory window size, store state)
 * are appended by their owners. The RabbitMQ output's counters are atomics
 * of its own thread, read through amqp_out_get_stats().
 */
#ifndef LOGSHIP_METRICS_H
#define LOGSHIP_METRICS_H

#include <stdint.h>

#include "../common/buf.h"
#include "../common/hist.h"
#include "../http/http.h"
#include "../ingest/ingest.h"

/* The inputs, in the order of their input="..." series; the other
 * shippers' protocols after logship's own. */
enum input {
    INPUT_HTTP,
    INPUT_SYSLOG_UDP,
    INPUT_SYSLOG_TCP,
    INPUT_TCP,
    INPUT_LOKI,
    INPUT_ES,
    INPUT_OTLP,
    INPUT_GELF_HTTP,
    INPUT_GELF_UDP,
    INPUT_GELF_TCP,
    INPUT_FORWARD,
    INPUT_JOURNAL,
    INPUT_COUNT
};

/* The server's own counters (src/server/). */
typedef struct server_stats {
    uint64_t reloads;              /* SIGHUP reloads applied */
    uint64_t rejected[HREJ_COUNT]; /* refused by the status routes, by reason */
} server_stats_t;

const char *input_name(enum input in);
const char *http_reject_name(enum http_reject r);

/* The counters of input in, from its module. The HTTP input's connection
 * counts are the HTTP layer's (http_stats_t), not these. */
const ingest_stats_t *metrics_input(enum input in);

/* Appends the inputs' counters, the acknowledgement and query histograms,
 * reloads, HTTP responses and refusals, and TLS by listener kind in
 * Prometheus text format; the HTTP
 * input's connections and the layer's own refusals come from hs (NULL:
 * none), with ws_open WebSocket connections counted as open. */
void metrics_render(buf_t *out, const server_stats_t *ss, const http_stats_t *hs, size_t ws_open);
/* The HTTP layer's own counters. */
void metrics_render_http(buf_t *out, const http_stats_t *hs);
/* One histogram family. */
void metrics_hist(buf_t *out, const char *name, const char *help, const hist_t *h);
/* logship_build_info, the process_* series and the data filesystem's
 * free space. */
void metrics_render_process(buf_t *out, int64_t started_ns, const char *data_dir);
/* Records stored by level. */
void metrics_render_levels(buf_t *out, const uint64_t levels[8]);
/* The RabbitMQ output's connection state and counters (amqp/amqp_out.h). */
struct amqp_out_stats;
void metrics_render_amqp_out(buf_t *out, const struct amqp_out_stats *st);
/* The RabbitMQ input's connection state and counters (amqp/amqp_in.h). */
struct amqp_in_stats;
void metrics_render_amqp_in(buf_t *out, const struct amqp_in_stats *st);

#endif
