/* metrics.h - counters for /metrics (Prometheus text format).
 *
 * Plain integers owned by the event loop thread: updated without locks on
 * the hot path and rendered on request. Gauges that belong to another module
 * (memory window size, store state) are appended by their owners.
 */
#ifndef LOGSHIP_METRICS_H
#define LOGSHIP_METRICS_H

#include <stdint.h>

#include "../common/buf.h"
#include "../common/hist.h"

enum input { INPUT_HTTP, INPUT_SYSLOG_UDP, INPUT_SYSLOG_TCP, INPUT_TCP, INPUT_COUNT };

/* Why an HTTP request was refused. */
enum http_reject {
    HREJ_MALFORMED_JSON,
    HREJ_BAD_LINE, /* one NDJSON or JSON element refused inside a batch */
    HREJ_BAD_FORM,
    HREJ_UNSUPPORTED_TYPE,
    HREJ_TOO_LARGE,
    HREJ_EMPTY,
    HREJ_HEADERS,
    HREJ_BAD_QUERY,
    HREJ_SHUTTING_DOWN,
    HREJ_NOT_FOUND,
    HREJ_METHOD,
    HREJ_STORE,     /* the store refused: behind, or failed */
    HREJ_FORBIDDEN, /* a file path outside the tail roots */
    HREJ_BUSY,      /* --max-body-memory reached */
    HREJ_COUNT
};

typedef struct metrics {
    uint64_t records[INPUT_COUNT];
    uint64_t bytes[INPUT_COUNT];
    uint64_t repaired[INPUT_COUNT];  /* records with invalid UTF-8 replaced */
    uint64_t truncated[INPUT_COUNT]; /* records cut to the size limit */
    uint64_t conns_open[INPUT_COUNT];
    uint64_t reloads; /* SIGHUP reloads applied */
    uint64_t unknown_levels[INPUT_COUNT]; /* stored at the default level, fields.level_raw */
    hist_t ack_seconds[INPUT_COUNT]; /* request or batch to its acknowledgement */
    hist_t query_seconds;            /* /api/logs, request to the last byte queued */
    uint64_t conns_total[INPUT_COUNT];
    uint64_t conns_refused[INPUT_COUNT];     /* over --max-connections */
    uint64_t conns_idle_closed[INPUT_COUNT]; /* quiet for --idle-timeout */
    uint64_t parse_errors[INPUT_COUNT];      /* stored raw with fields.parse_error */
    uint64_t framing_fallbacks[INPUT_COUNT]; /* TCP frames that looked octet-counted, kept as lines */
    uint64_t dropped[INPUT_COUNT];           /* lost: UDP while the store could not take them */
    uint64_t http_reject[HREJ_COUNT];
} metrics_t;

extern metrics_t metrics;

const char *input_name(enum input in);
const char *http_reject_name(enum http_reject r);

struct http_stats;
/* Appends every counter above in Prometheus text format; the HTTP ones
 * come from the HTTP layer's stats (NULL: none). */
void metrics_render(buf_t *out, const struct http_stats *hs, size_t ws_open);
/* The HTTP layer's own counters. */
void metrics_render_http(buf_t *out, const struct http_stats *hs);
/* Sets up the histograms above; before the loop runs. */
void metrics_init(void);
/* One histogram family. */
void metrics_hist(buf_t *out, const char *name, const char *help, const hist_t *h);
/* logship_build_info, the process_* series and the data filesystem's
 * free space. */
void metrics_render_process(buf_t *out, int64_t started_ns, const char *data_dir);
/* Records stored by level. */
void metrics_render_levels(buf_t *out, const uint64_t levels[8]);

#endif
