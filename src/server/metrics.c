/* metrics.c - Prometheus rendering of the counters: see metrics.h. */
#include "metrics.h"

#include "../http/http.h"

metrics_t metrics;

static const char *const input_names[INPUT_COUNT] = {"http", "syslog_udp", "syslog_tcp", "tcp"};
static const char *const reject_names[HREJ_COUNT] = {
    "malformed_json", "bad_line", "bad_form", "unsupported_media_type", "body_too_large",
    "empty_body",     "headers",  "bad_query", "shutting_down",         "not_found",
    "method_not_allowed", "store_unavailable", "forbidden",
};

const char *input_name(enum input in)
{
    return input_names[in];
}

const char *http_reject_name(enum http_reject r)
{
    return reject_names[r];
}

static void family(buf_t *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void per_input(buf_t *out, const char *name, const char *type, const char *help,
                      const uint64_t *v)
{
    family(out, name, type, help);
    for (int i = 0; i < INPUT_COUNT; i++)
        buf_printf(out, "%s{input=\"%s\"} %llu\n", name, input_names[i], (unsigned long long)v[i]);
}

void metrics_render(buf_t *out, const http_stats_t *hs, size_t ws_open)
{
    if (hs) {
        metrics.conns_open[INPUT_HTTP] = hs->conns_open + ws_open;
        metrics.conns_total[INPUT_HTTP] = hs->conns_total;
        metrics.conns_refused[INPUT_HTTP] = hs->conns_refused;
        metrics.conns_idle_closed[INPUT_HTTP] = hs->timeouts;
    }
    per_input(out, "logship_records_accepted_total", "counter", "Records accepted, by input.",
              metrics.records);
    per_input(out, "logship_bytes_received_total", "counter",
              "Request or stream bytes received, by input.", metrics.bytes);
    per_input(out, "logship_records_utf8_repaired_total", "counter",
              "Records whose invalid UTF-8 was replaced by U+FFFD.", metrics.repaired);
    per_input(out, "logship_records_truncated_total", "counter",
              "Records whose message was cut to the size limit.", metrics.truncated);
    per_input(out, "logship_connections_open", "gauge", "Open client connections, by input.",
              metrics.conns_open);
    per_input(out, "logship_connections_total", "counter", "Connections accepted, by input.",
              metrics.conns_total);
    per_input(out, "logship_connections_refused_total", "counter",
              "Connections closed at once: over --max-connections.", metrics.conns_refused);
    per_input(out, "logship_connections_idle_closed_total", "counter",
              "Connections closed after --idle-timeout without data.", metrics.conns_idle_closed);
    per_input(out, "logship_parse_errors_total", "counter",
              "Messages that did not parse, stored whole with fields.parse_error.",
              metrics.parse_errors);
    per_input(out, "logship_framing_fallbacks_total", "counter",
              "Syslog TCP frames that started with digits but were not octet-counted: kept "
              "whole as lines with fields.parse_error.",
              metrics.framing_fallbacks);
    per_input(out, "logship_records_dropped_total", "counter",
              "Records lost: UDP datagrams while the store could not take them.",
              metrics.dropped);
    family(out, "logship_http_responses_total", "counter", "HTTP responses sent, by status.");
    for (int code = 100; hs && code < 600; code++)
        if (hs->status[code])
            buf_printf(out, "logship_http_responses_total{code=\"%d\"} %llu\n", code,
                       (unsigned long long)hs->status[code]);
    family(out, "logship_http_rejected_total", "counter",
           "HTTP requests or batch lines refused, by reason.");
    for (int r = 0; r < HREJ_COUNT; r++) {
        uint64_t v = metrics.http_reject[r];
        if (hs && r == HREJ_HEADERS)
            v += hs->bad_requests; /* refused by the HTTP layer itself */
        else if (hs && r == HREJ_NOT_FOUND)
            v += hs->not_found;
        else if (hs && r == HREJ_METHOD)
            v += hs->bad_method;
        buf_printf(out, "logship_http_rejected_total{reason=\"%s\"} %llu\n", reject_names[r],
                   (unsigned long long)v);
    }
}

void metrics_render_http(buf_t *out, const http_stats_t *hs)
{
    if (!hs)
        return;
    family(out, "logship_http_bad_requests_total", "counter",
           "HTTP requests that did not parse (answered 400 or 431, then closed).");
    buf_printf(out, "logship_http_bad_requests_total %llu\n", (unsigned long long)hs->bad_requests);
    family(out, "logship_http_timeouts_total", "counter",
           "HTTP connections closed at a deadline (--request-timeout, --keepalive-timeout).");
    buf_printf(out, "logship_http_timeouts_total %llu\n", (unsigned long long)hs->timeouts);
    family(out, "logship_http_second_replies_total", "counter",
           "Second completions of one request, ignored (a defect if ever non-zero).");
    buf_printf(out, "logship_http_second_replies_total %llu\n",
               (unsigned long long)hs->double_replies);
    family(out, "logship_http_cross_origin_refused_total", "counter",
           "Requests refused for their Origin or Host.");
    buf_printf(out, "logship_http_cross_origin_refused_total %llu\n",
               (unsigned long long)hs->cross_origin);
}
