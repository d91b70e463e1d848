/* metrics.c - Prometheus rendering of the modules' counters: see metrics.h. */
#include "metrics.h"

#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../amqp/amqp_in.h"
#include "../amqp/amqp_out.h"
#include "../common/level.h"
#include "../common/version.h"
#include "../ingest/es/es_http.h"
#include "../ingest/fluent/fluent_conn.h"
#include "../ingest/gelf/gelf_conn.h"
#include "../ingest/http/ingest_http.h"
#include "../ingest/journal/journal_http.h"
#include "../ingest/loki/loki_http.h"
#include "../ingest/otlp/otlp_http.h"
#include "../ingest/syslog/syslog_conn.h"
#include "../ingest/tcp/tcp_conn.h"
#include "../query/query_http.h"
#include "../tail/tail_conn.h"

static const char *const input_names[INPUT_COUNT] = {
    "http", "syslog_udp", "syslog_tcp", "tcp",      "loki",    "elasticsearch",
    "otlp", "gelf_http",  "gelf_udp",   "gelf_tcp", "forward", "journal",
};
static const char *const reject_names[HREJ_COUNT] = {
    "malformed_json",
    "bad_line",
    "bad_form",
    "unsupported_media_type",
    "body_too_large",
    "empty_body",
    "headers",
    "bad_query",
    "shutting_down",
    "not_found",
    "method_not_allowed",
    "store_unavailable",
    "forbidden",
    "bodies_in_memory",
    "rate_limited",
    "client_connections",
};

const char *input_name(enum input in)
{
    return input_names[in];
}

const char *http_reject_name(enum http_reject r)
{
    return reject_names[r];
}

const ingest_stats_t *metrics_input(enum input in)
{
    switch (in) {
    case INPUT_HTTP:
        return &ingest_http_stats()->in;
    case INPUT_SYSLOG_UDP:
        return syslog_udp_stats();
    case INPUT_SYSLOG_TCP:
        return syslog_tcp_stats();
    case INPUT_LOKI:
        return loki_stats();
    case INPUT_ES:
        return es_stats();
    case INPUT_OTLP:
        return otlp_stats();
    case INPUT_GELF_HTTP:
        return gelf_http_stats();
    case INPUT_GELF_UDP:
        return gelf_udp_stats();
    case INPUT_GELF_TCP:
        return gelf_tcp_stats();
    case INPUT_FORWARD:
        return fluent_stats();
    case INPUT_JOURNAL:
        return journal_stats();
    default:
        return tcp_stats();
    }
}

static void family(buf_t *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Inputs as bits, for series that only some inputs can move. */
#define ALL_INPUTS ((1u << INPUT_COUNT) - 1)
#define CONNECTED                                                                                  \
    (1u << INPUT_HTTP | 1u << INPUT_SYSLOG_TCP | 1u << INPUT_TCP | 1u << INPUT_GELF_TCP |          \
     1u << INPUT_FORWARD)
/* the HTTP protocol routes share the HTTP layer's connections */
#define HTTP_ROUTES                                                                                \
    (1u << INPUT_LOKI | 1u << INPUT_ES | 1u << INPUT_OTLP | 1u << INPUT_GELF_HTTP |                \
     1u << INPUT_JOURNAL)
#define ACKED (1u << INPUT_HTTP | 1u << INPUT_TCP | 1u << INPUT_FORWARD | HTTP_ROUTES)
/* the inputs whose records name their level (syslog's is a number 0-7) */
#define NAMED_LEVELS (ALL_INPUTS & ~(1u << INPUT_SYSLOG_UDP | 1u << INPUT_SYSLOG_TCP))
#define DATAGRAMS    (1u << INPUT_SYSLOG_UDP | 1u << INPUT_GELF_UDP)
/* inputs that can lose records: datagrams, and what a closed peer's
 * connection held or the store refused after it was read */
#define DROPPING (DATAGRAMS | 1u << INPUT_GELF_TCP | 1u << INPUT_FORWARD | 1u << INPUT_JOURNAL)

static void per_input_of(buf_t *out, const char *name, const char *type, const char *help,
                         const uint64_t *v, unsigned inputs)
{
    family(out, name, type, help);
    for (int i = 0; i < INPUT_COUNT; i++)
        if (inputs & (1u << i))
            buf_printf(out, "%s{input=\"%s\"} %llu\n", name, input_names[i],
                       (unsigned long long)v[i]);
}

static void per_input(buf_t *out, const char *name, const char *type, const char *help,
                      const uint64_t *v)
{
    per_input_of(out, name, type, help, v, ALL_INPUTS);
}

/* One counter of ingest_stats_t (at offset off), of every input in enum
 * input's order. */
static void each_input(const ingest_stats_t *const *in, size_t off, uint64_t *out)
{
    for (int i = 0; i < INPUT_COUNT; i++)
        memcpy(&out[i], (const char *)in[i] + off, sizeof out[i]);
}
#define EACH_INPUT(in, field) each_input(in, offsetof(ingest_stats_t, field), field)

static void render_tls(buf_t *out, const http_stats_t *hs);

void metrics_hist(buf_t *out, const char *name, const char *help, const hist_t *h)
{
    family(out, name, "histogram", help);
    hist_render(out, name, "", h);
}

void metrics_render(buf_t *out, const server_stats_t *ss, const http_stats_t *hs, size_t ws_open)
{
    const ingest_stats_t *in[INPUT_COUNT];
    for (int i = 0; i < INPUT_COUNT; i++)
        in[i] = metrics_input((enum input)i);
    uint64_t records[INPUT_COUNT], bytes[INPUT_COUNT], repaired[INPUT_COUNT],
        truncated[INPUT_COUNT], unknown_levels[INPUT_COUNT], conns_open[INPUT_COUNT],
        conns_total[INPUT_COUNT], conns_refused[INPUT_COUNT], conns_idle_closed[INPUT_COUNT],
        parse_errors[INPUT_COUNT], framing_fallbacks[INPUT_COUNT], dropped[INPUT_COUNT],
        denied[INPUT_COUNT];
    EACH_INPUT(in, records);
    EACH_INPUT(in, bytes);
    EACH_INPUT(in, repaired);
    EACH_INPUT(in, truncated);
    EACH_INPUT(in, unknown_levels);
    EACH_INPUT(in, conns_open);
    EACH_INPUT(in, conns_total);
    EACH_INPUT(in, conns_refused);
    EACH_INPUT(in, conns_idle_closed);
    EACH_INPUT(in, parse_errors);
    EACH_INPUT(in, framing_fallbacks);
    EACH_INPUT(in, dropped);
    EACH_INPUT(in, denied);
    if (hs) {
        /* the HTTP input's connections are the HTTP layer's */
        conns_open[INPUT_HTTP] = hs->conns_open + ws_open;
        conns_total[INPUT_HTTP] = hs->conns_total;
        conns_refused[INPUT_HTTP] = hs->conns_refused;
        conns_idle_closed[INPUT_HTTP] = hs->timeouts;
    }
    per_input(out, "logship_records_accepted_total", "counter", "Records accepted, by input.",
              records);
    per_input(out, "logship_bytes_received_total", "counter",
              "Request or stream bytes received, by input.", bytes);
    per_input(out, "logship_records_utf8_repaired_total", "counter",
              "Records whose invalid UTF-8 was replaced by U+FFFD.", repaired);
    per_input(out, "logship_records_truncated_total", "counter",
              "Records whose message was cut to the size limit.", truncated);
    per_input_of(out, "logship_records_unknown_level_total", "counter",
                 "Records whose level was not a known name or number: stored at the default "
                 "level with the original in fields.level_raw.",
                 unknown_levels, NAMED_LEVELS);
    per_input_of(out, "logship_connections_open", "gauge", "Open client connections, by input.",
                 conns_open, CONNECTED);
    per_input_of(out, "logship_connections_total", "counter", "Connections accepted, by input.",
                 conns_total, CONNECTED);
    per_input_of(out, "logship_connections_refused_total", "counter",
                 "Connections closed at once: over --max-connections.", conns_refused, CONNECTED);
    per_input_of(out, "logship_connections_idle_closed_total", "counter",
                 "Connections closed after --idle-timeout without data.", conns_idle_closed,
                 CONNECTED);
    per_input(out, "logship_parse_errors_total", "counter",
              "Messages that did not parse, stored whole with fields.parse_error.", parse_errors);
    per_input_of(out, "logship_framing_fallbacks_total", "counter",
                 "Syslog TCP frames that started with digits but were not octet-counted: kept "
                 "whole as lines with fields.parse_error.",
                 framing_fallbacks, 1u << INPUT_SYSLOG_TCP);
    per_input_of(out, "logship_records_dropped_total", "counter",
                 "Records lost: UDP datagrams while the store could not take them (and GELF "
                 "chunked messages not whole in time), a closed peer's records the store could "
                 "not take, acknowledged appends that failed (the sender resends).",
                 dropped, DROPPING);
    per_input_of(out, "logship_connections_denied_total", "counter",
                 "Connections (TCP) and datagrams (UDP) refused: their address is not in "
                 "--allow.",
                 denied,
                 1u << INPUT_SYSLOG_UDP | 1u << INPUT_SYSLOG_TCP | 1u << INPUT_TCP |
                     1u << INPUT_GELF_UDP | 1u << INPUT_GELF_TCP | 1u << INPUT_FORWARD);
    family(out, "logship_ack_seconds", "histogram",
           "Time from a request or acknowledged batch to its acknowledgement, by input.");
    for (int i = 0; i < INPUT_COUNT; i++) {
        char label[32];
        if (!(ACKED & (1u << i)))
            continue;
        snprintf(label, sizeof label, "input=\"%s\"", input_names[i]);
        hist_render(out, "logship_ack_seconds", label, &in[i]->ack_seconds);
    }
    const query_http_stats_t *qs = query_http_stats();
    metrics_hist(out, "logship_query_seconds",
                 "Time from a /api/logs request to its last byte queued.", &qs->seconds);
    family(out, "logship_config_reloads_total", "counter", "Configuration reloads (SIGHUP).");
    buf_printf(out, "logship_config_reloads_total %llu\n", (unsigned long long)ss->reloads);
    family(out, "logship_http_responses_total", "counter", "HTTP responses sent, by status.");
    for (int code = 100; hs && code < 600; code++)
        if (hs->status[code])
            buf_printf(out, "logship_http_responses_total{code=\"%d\"} %llu\n", code,
                       (unsigned long long)hs->status[code]);
    family(out, "logship_http_rejected_total", "counter",
           "HTTP requests or batch lines refused, by reason.");
    /* every handler counts its own refusals; the layer counts the rest */
    const uint64_t *ih = ingest_http_stats()->rejected, *tc = tail_conn_stats()->rejected;
    for (int r = 0; r < HREJ_COUNT; r++) {
        uint64_t v = ih[r] + qs->rejected[r] + tc[r] + ss->rejected[r];
        if (hs && r == HREJ_HEADERS)
            v += hs->bad_requests; /* refused by the HTTP layer itself */
        else if (hs && r == HREJ_NOT_FOUND)
            v += hs->not_found;
        else if (hs && r == HREJ_METHOD)
            v += hs->bad_method;
        else if (hs && r == HREJ_RATE)
            v += hs->rate_limited;
        else if (hs && r == HREJ_CLIENT_CONNS)
            v += hs->client_conns_refused;
        buf_printf(out, "logship_http_rejected_total{reason=\"%s\"} %llu\n", reject_names[r],
                   (unsigned long long)v);
    }
    /* refusals for a credential: the layer's (access.h), and ingest's
     * records outside a token's topics; never a token, a name or a topic */
    family(out, "logship_auth_refused_total", "counter",
           "HTTP requests refused for their credential: 401 (none, or no valid token or "
           "ticket), 403 (a token without the route's scope, or writing outside its topics).");
    buf_printf(out, "logship_auth_refused_total{reason=\"401\"} %llu\n",
               (unsigned long long)(hs ? hs->unauthorized : 0));
    buf_printf(out, "logship_auth_refused_total{reason=\"403\"} %llu\n",
               (unsigned long long)((hs ? hs->forbidden : 0) + ingest_http_stats()->topic_refused));
    family(out, "logship_forward_auth_refused_total", "counter",
           "Fluentd forward clients refused by the shared-key handshake (--forward-auth).");
    buf_printf(out, "logship_forward_auth_refused_total %llu\n",
               (unsigned long long)fluent_auth_refused());
    render_tls(out, hs);
}

/* TLS by listener kind: the HTTP layer's, syslog's, raw TCP's, GELF's and
 * forward's. */
static void render_tls(buf_t *out, const http_stats_t *hs)
{
    static const tls_stats_t none;
    static const char *const kinds[] = {"http", "syslog", "tcp", "gelf", "forward"};
    const tls_stats_t *t[] = {hs ? &hs->tls : &none, syslog_tls_stats(), tcp_tls_stats(),
                              gelf_tls_stats(), fluent_tls_stats()};
    static const struct {
        const char *name, *help;
        size_t off;
    } f[] = {
        {"logship_tls_connections_total", "TLS connections accepted, by listener kind.",
         offsetof(tls_stats_t, sessions)},
        {"logship_tls_handshakes_total", "TLS handshakes completed, by listener kind.",
         offsetof(tls_stats_t, handshakes)},
        {"logship_tls_handshake_failures_total",
         "TLS handshakes that failed (protocol version, certificates, plaintext, the client "
         "leaving mid-way), by listener kind.",
         offsetof(tls_stats_t, handshake_failures)},
        {"logship_tls_errors_total",
         "TLS connections ended by a bad record after the handshake, by listener kind.",
         offsetof(tls_stats_t, errors)},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        family(out, f[i].name, "counter", f[i].help);
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
            buf_printf(out, "%s{listener=\"%s\"} %llu\n", f[i].name, kinds[k],
                       (unsigned long long)*(const uint64_t *)(const void *)((const char *)t[k] +
                                                                             f[i].off));
    }
    family(out, "logship_http_tls_plaintext_total", "counter",
           "Plain HTTP requests to the TLS port, answered 400.");
    buf_printf(out, "logship_http_tls_plaintext_total %llu\n",
               (unsigned long long)(hs ? hs->tls_plaintext : 0));
    family(out, "logship_http_wss_bridged_total", "counter",
           "WebSocket connections over TLS relayed to the WebSocket engine.");
    buf_printf(out, "logship_http_wss_bridged_total %llu\n",
               (unsigned long long)(hs ? hs->wss_bridged : 0));
}

void metrics_render_http(buf_t *out, const http_stats_t *hs)
{
    if (!hs)
        return;
    metrics_hist(out, "logship_http_request_seconds",
                 "Time from the first byte of an HTTP request to its reply (or stream start).",
                 &hs->request_seconds);
    family(out, "logship_http_bad_requests_total", "counter",
           "HTTP requests that did not parse (answered 400 or 431, then closed).");
    buf_printf(out, "logship_http_bad_requests_total %llu\n", (unsigned long long)hs->bad_requests);
    family(out, "logship_http_timeouts_total", "counter",
           "HTTP connections closed at a deadline (--header-timeout, --body-timeout, "
           "--send-timeout, --keepalive-timeout).");
    buf_printf(out, "logship_http_timeouts_total %llu\n", (unsigned long long)hs->timeouts);
    family(out, "logship_http_second_replies_total", "counter",
           "Second completions of one request, ignored (a defect if ever non-zero).");
    buf_printf(out, "logship_http_second_replies_total %llu\n",
               (unsigned long long)hs->double_replies);
    family(out, "logship_http_cross_origin_refused_total", "counter",
           "Requests refused for their Origin or Host.");
    buf_printf(out, "logship_http_cross_origin_refused_total %llu\n",
               (unsigned long long)hs->cross_origin);
    family(out, "logship_http_cors_preflights_total", "counter",
           "CORS preflights from a --cors-origin answered 204.");
    buf_printf(out, "logship_http_cors_preflights_total %llu\n",
               (unsigned long long)hs->cors_preflights);
}

/* Descriptors open now: the entries of /proc/self/fd, less the one the
 * listing itself holds. */
static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;
}

static void gauge(buf_t *out, const char *name, const char *type, const char *help, double v)
{
    family(out, name, type, help);
    buf_printf(out, "%s %.17g\n", name, v);
}

void metrics_render_process(buf_t *out, int64_t started_ns, const char *data_dir)
{
    family(out, "logship_build_info", "gauge", "logshipd's version; always 1.");
    buf_printf(out, "logship_build_info{version=\"%s\"} 1\n", LOGSHIP_VERSION);

    long page = sysconf(_SC_PAGESIZE);
    unsigned long long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%llu %llu", &size, &resident) != 2)
            size = resident = 0;
        fclose(f);
    }
    gauge(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
          (double)resident * (double)page);
    gauge(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
          (double)size * (double)page);
    long fds = open_fds();
    if (fds >= 0)
        gauge(out, "process_open_fds", "gauge", "Open file descriptors.", (double)fds);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        gauge(out, "process_max_fds", "gauge", "The limit on open file descriptors.",
              rl.rlim_cur == RLIM_INFINITY ? 1e18 : (double)rl.rlim_cur);
    gauge(out, "process_start_time_seconds", "gauge",
          "Start time of the process since the epoch, in seconds.", (double)started_ns / 1e9);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        gauge(out, "process_cpu_seconds_total", "counter", "User and system CPU time, in seconds.",
              (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                  ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6);
    struct statvfs vfs;
    if (data_dir && statvfs(data_dir, &vfs) == 0) {
        gauge(out, "logship_data_free_bytes", "gauge",
              "Bytes free for logshipd on the data directory's filesystem.",
              (double)vfs.f_bavail * (double)vfs.f_frsize);
        gauge(out, "logship_data_size_bytes", "gauge", "Size of the data directory's filesystem.",
              (double)vfs.f_blocks * (double)vfs.f_frsize);
    }
}

void metrics_render_levels(buf_t *out, const uint64_t levels[8])
{
    family(out, "logship_records_stored_by_level_total", "counter",
           "Records stored since start, by level.");
    for (int i = 0; i < 8; i++)
        buf_printf(out, "logship_records_stored_by_level_total{level=\"%s\"} %llu\n", level_name(i),
                   (unsigned long long)levels[i]);
}

void metrics_render_amqp_out(buf_t *out, const amqp_out_stats_t *st)
{
    static const char *const states[] = {"down", "connecting", "up"};
    family(out, "logship_amqp_out_up", "gauge",
           "1 while the RabbitMQ output is connected and publishing.");
    buf_printf(out, "logship_amqp_out_up %d\n", st->state == AMQP_OUT_UP);
    family(out, "logship_amqp_out_state", "gauge",
           "The RabbitMQ output's connection state: 1 for the current one.");
    for (int i = 0; i < 3; i++)
        buf_printf(out, "logship_amqp_out_state{state=\"%s\"} %d\n", states[i], st->state == i);
    static const struct {
        const char *name, *type, *help;
    } g[] = {
        {"logship_amqp_out_connects_total", "counter", "Connections to the broker made."},
        {"logship_amqp_out_connect_failures_total", "counter",
         "Connection attempts that failed (then retried with backoff)."},
        {"logship_amqp_out_disconnects_total", "counter",
         "Connections lost or ended by an error (then made again)."},
        {"logship_amqp_out_published_messages_total", "counter",
         "Messages published, again after a reconnect too."},
        {"logship_amqp_out_published_records_total", "counter", "Records in those messages."},
        {"logship_amqp_out_confirmed_messages_total", "counter",
         "Messages the broker confirmed (basic.ack)."},
        {"logship_amqp_out_nacked_messages_total", "counter",
         "Messages the broker refused (basic.nack): published again."},
        {"logship_amqp_out_returned_messages_total", "counter",
         "Messages no queue was bound to take (basic.return): confirmed, and dropped by the "
         "broker."},
        {"logship_amqp_out_skipped_records_total", "counter",
         "Records read that no --amqp-out-topic pattern matched."},
        {"logship_amqp_out_confirmed_seq", "gauge",
         "Every record up to this seq is confirmed by the broker."},
        {"logship_amqp_out_lag_records", "gauge",
         "Records stored and not yet confirmed (seqs after the confirmed one)."},
    };
    uint64_t v[] = {
        st->connects, st->connect_failures, st->disconnects, st->messages, st->records,
        st->acked,    st->nacked,           st->returned,    st->skipped,  st->confirmed_seq,
        st->lag};
    _Static_assert(sizeof v / sizeof v[0] == sizeof g / sizeof g[0], "a value per series");
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
        family(out, g[i].name, g[i].type, g[i].help);
        buf_printf(out, "%s %llu\n", g[i].name, (unsigned long long)v[i]);
    }
}

void metrics_render_amqp_in(buf_t *out, const amqp_in_stats_t *st)
{
    static const char *const states[] = {"down", "connecting", "up"};
    family(out, "logship_amqp_in_up", "gauge",
           "1 while the RabbitMQ input is connected and consuming.");
    buf_printf(out, "logship_amqp_in_up %d\n", st->state == AMQP_IN_UP);
    family(out, "logship_amqp_in_state", "gauge",
           "The RabbitMQ input's connection state: 1 for the current one.");
    for (int i = 0; i < 3; i++)
        buf_printf(out, "logship_amqp_in_state{state=\"%s\"} %d\n", states[i], st->state == i);
    static const struct {
        const char *name, *type, *help;
    } g[] = {
        {"logship_amqp_in_connects_total", "counter", "Connections to the broker made."},
        {"logship_amqp_in_connect_failures_total", "counter",
         "Connection attempts that failed (then retried with backoff)."},
        {"logship_amqp_in_disconnects_total", "counter",
         "Connections lost or ended by an error (then made again)."},
        {"logship_amqp_in_delivered_messages_total", "counter", "Messages delivered."},
        {"logship_amqp_in_redelivered_messages_total", "counter",
         "Of those, messages the broker flagged as delivered before."},
        {"logship_amqp_in_delivered_bytes_total", "counter", "Body bytes of those messages."},
        {"logship_amqp_in_stored_records_total", "counter",
         "Records stored from messages (durable, then acked)."},
        {"logship_amqp_in_duplicate_records_total", "counter",
         "Records (or messages without keys of their own) dropped: already stored."},
        {"logship_amqp_in_parse_errors_total", "counter",
         "Records stored as text with fields.parse_error."},
        {"logship_amqp_in_acked_messages_total", "counter", "Messages acked (basic.ack)."},
        {"logship_amqp_in_requeued_messages_total", "counter",
         "Messages the store refused, sent back to the queue (basic.nack with requeue)."},
        {"logship_amqp_in_store_refusals_total", "counter",
         "Batches the store refused (writer behind, or a full or failing disk)."},
        {"logship_amqp_in_unacked_messages", "gauge",
         "Messages delivered and not answered yet (at most --amqp-prefetch)."},
        {"logship_amqp_in_dedup_keys", "gauge", "Message keys remembered (--amqp-dedup)."},
    };
    uint64_t v[] = {
        st->connects, st->connect_failures, st->disconnects, st->messages,     st->redelivered,
        st->bytes,    st->records,          st->duplicates,  st->parse_errors, st->acked,
        st->requeued, st->refusals,         st->unacked,     st->dedup_keys};
    _Static_assert(sizeof v / sizeof v[0] == sizeof g / sizeof g[0], "a value per series");
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
        family(out, g[i].name, g[i].type, g[i].help);
        buf_printf(out, "%s %llu\n", g[i].name, (unsigned long long)v[i]);
    }
    if (st->ack_seconds)
        metrics_hist(out, "logship_amqp_in_ack_seconds",
                     "From a batch's first delivery to its ack (durable).", st->ack_seconds);
}
