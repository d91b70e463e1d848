/* status.c - GET / (the web UI, or a JSON index for API clients), the UI's
 * assets under /ui/, /healthz and /metrics. */
#include <stdio.h>
#include <string.h>

#include "../amqp/amqp_in.h"
#include "../amqp/amqp_out.h"
#include "../common/json_write.h"
#include "../tail/tail.h"
#include "../ui/ui_assets.h"
#include "../common/timeutil.h"
#include "../common/version.h"
#include "../http/http.h"
#include "../http/ws.h"
#include "metrics.h"
#include "server.h"
#include "status.h"

static int health(http_conn_t *c, const http_req_t *r)
{
    server_t *srv = http_data(c);
    (void)r;
    buf_t b = BUF_INIT;
    int err = store_error(srv->store);
    buf_printf(&b, "{\"status\":\"%s\",", err ? "failing" : "ok");
    if (err) {
        buf_puts(&b, "\"error\":");
        char msg[160];
        snprintf(msg, sizeof msg, "store cannot write: %s", strerror(-err));
        json_str(&b, msg, strlen(msg));
        buf_putc(&b, ',');
    }
    buf_printf(&b, "\"version\":\"%s\",\"uptime_s\":%lld,\"last_seq\":%llu}\n", LOGSHIP_VERSION,
               (long long)((time_now_ns() - srv->started_ns) / NS_PER_SEC),
               (unsigned long long)store_last_seq(srv->store));
    http_reply(c, err ? 503 : 200, "application/json", NULL, 0, b.data, b.len);
    buf_free(&b);
    return 0;
}

static int metrics_page(http_conn_t *c, const http_req_t *r)
{
    server_t *srv = http_data(c);
    buf_t b = BUF_INIT;
    store_stats_t st;
    const ring_t *ring = store_ring(srv->store);
    (void)r;
    metrics_render(&b, &srv->stats, http_server_stats(srv->http), ws_open_count(srv->ws));
    metrics_render_http(&b, http_server_stats(srv->http));
    store_get_stats(srv->store, &st);
    static const struct {
        const char *name, *type, *help;
    } g[] = {
        {"logship_memory_records", "gauge", "Records held in the memory window."},
        {"logship_memory_bytes", "gauge", "Bytes held in the memory window."},
        {"logship_store_last_seq", "gauge", "Seq of the newest stored record."},
        {"logship_store_first_seq", "gauge", "Seq of the oldest stored record."},
        {"logship_store_segments", "gauge", "Segment files."},
        {"logship_store_bytes", "gauge", "Bytes in segment files."},
        {"logship_store_records_written_total", "counter", "Records written to segments."},
        {"logship_store_group_commits_total", "counter", "Writes of grouped batches."},
        {"logship_store_fsyncs_total", "counter", "fdatasync calls on segments."},
        {"logship_store_write_errors_total", "counter", "Failed segment writes or syncs."},
        {"logship_store_damaged_records_total", "counter",
         "Corrupt records found and skipped by readers."},
        {"logship_store_pending_bytes", "gauge", "Bytes accepted and not yet written."},
        {"logship_store_failed", "gauge", "1 while the store refuses appends after a disk error."},
    };
    uint64_t v[] = {ring_count(ring),
                    ring->bytes,
                    st.last_seq,
                    st.first_seq,
                    st.segments,
                    st.bytes,
                    st.records_written,
                    st.groups,
                    st.syncs,
                    st.write_errors,
                    st.damaged,
                    st.pending_bytes,
                    store_error(srv->store) != 0};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        buf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", g[i].name, g[i].help, g[i].name,
                   g[i].type, g[i].name, (unsigned long long)v[i]);
    static const struct {
        const char *name, *type, *help;
    } rg[] = {
        {"logship_store_retention_removed_segments_total", "counter",
         "Segments deleted by --retain-bytes or --retain-age."},
        {"logship_store_retention_removed_bytes_total", "counter",
         "Bytes deleted by --retain-bytes or --retain-age."},
        {"logship_store_compressed_segments_total", "counter",
         "Sealed segments rewritten compressed (--compress zstd)."},
        {"logship_store_compressed_plain_bytes_total", "counter",
         "Bytes of the plain segments rewritten compressed."},
        {"logship_store_compress_failures_total", "counter",
         "Compressions that failed (the segment stays plain)."},
    };
    uint64_t rv[] = {st.retained_segments, st.retained_bytes, st.compressed_segments,
                     st.compressed_plain_bytes, st.compress_failures};
    for (size_t i = 0; i < sizeof rg / sizeof rg[0]; i++)
        buf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", rg[i].name, rg[i].help, rg[i].name,
                   rg[i].type, rg[i].name, (unsigned long long)rv[i]);
    if (st.has_ts) {
        buf_printf(&b,
                   "# HELP logship_store_oldest_record_timestamp_seconds Time of the oldest "
                   "stored record.\n# TYPE logship_store_oldest_record_timestamp_seconds "
                   "gauge\nlogship_store_oldest_record_timestamp_seconds %.9f\n",
                   (double)st.min_ts / 1e9);
        buf_printf(&b,
                   "# HELP logship_store_newest_record_timestamp_seconds Time of the newest "
                   "stored record.\n# TYPE logship_store_newest_record_timestamp_seconds "
                   "gauge\nlogship_store_newest_record_timestamp_seconds %.9f\n",
                   (double)st.max_ts / 1e9);
    }
    metrics_hist(&b, "logship_store_fsync_seconds", "Duration of fdatasync on segments.",
                 st.fsync_seconds);
    metrics_hist(&b, "logship_store_group_records", "Records per group commit.", st.group_records);
    metrics_render_levels(&b, st.levels);
    metrics_render_process(&b, srv->started_ns, srv->cfg.data);
    tail_stats_t ts;
    tail_get_stats(srv->tail, &ts);
    static const struct {
        const char *name, *type, *help;
    } tg[] = {
        {"logship_tail_subscribers", "gauge", "Live tail subscribers connected."},
        {"logship_tail_records_sent_total", "counter", "Records sent to live tail subscribers."},
        {"logship_tail_messages_sent_total", "counter", "Messages sent to live tail subscribers."},
        {"logship_tail_disk_scans_total", "counter",
         "Segment scans for subscribers behind the memory window."},
        {"logship_tail_gaps_total", "counter", "Gap messages: a subscriber fell behind retention."},
        {"logship_tail_shared_messages_total", "counter",
         "Messages reused for subscribers with the same filter and position."},
    };
    uint64_t tv[] = {ts.subscribers, ts.records, ts.messages,
                     ts.disk_scans,  ts.gaps,    ts.shared_hits};
    for (size_t i = 0; i < sizeof tg / sizeof tg[0]; i++)
        buf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", tg[i].name, tg[i].help, tg[i].name,
                   tg[i].type, tg[i].name, (unsigned long long)tv[i]);
    if (srv->amqp_out) {
        amqp_out_stats_t as;
        amqp_out_get_stats(srv->amqp_out, &as);
        metrics_render_amqp_out(&b, &as);
    }
    if (srv->amqp_in) {
        amqp_in_stats_t is;
        amqp_in_get_stats(srv->amqp_in, &is);
        metrics_render_amqp_in(&b, &is);
    }
    http_reply(c, 200, "text/plain; version=0.0.4", NULL, 0, b.data, b.len);
    buf_free(&b);
    return 0;
}

static int ui_file(http_conn_t *c, const http_req_t *r, const char *name, size_t n);

static int index_page(http_conn_t *c, const http_req_t *r)
{
    static const char body[] =
        "{\"service\":\"logshipd\",\"version\":\"" LOGSHIP_VERSION "\",\"endpoints\":["
        "\"POST /api/log\",\"GET /api/log\",\"GET /api/logs\",\"GET /api/tail\","
        "\"GET /api/files\",\"GET /healthz\",\"GET /metrics\"],"
        "\"ui\":\"GET / with Accept: text/html\"}\n";
    static const http_header_t hdrs[] = {{"Cache-Control", "no-store"}, {"Vary", "Accept"}};
    char accept[512];
    if (http_header_copy(r, "accept", accept, sizeof accept) > 0 && ui_wants_html(accept))
        return ui_file(c, r, "index.html", 10);
    http_reply(c, 200, "application/json", hdrs, 2, body, sizeof body - 1);
    return 0;
}

/* The page runs no inline script or style and loads nothing from elsewhere:
 * a message that smuggled markup in could not run code even if it got into
 * the DOM as HTML (the page only ever sets textContent). */
#define UI_CSP                                                                                     \
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; "             \
    "script-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

static int ui_file(http_conn_t *c, const http_req_t *r, const char *name, size_t n)
{
    const ui_asset_t *a = ui_asset_find(name, n);
    if (!a) {
        ((server_t *)http_data(c))->stats.rejected[HREJ_NOT_FOUND]++;
        http_reply_error(c, 404, "no such file");
        return 0;
    }
    char inm[256];
    int has_inm = http_header_copy(r, "if-none-match", inm, sizeof inm) > 0;
    /* small files, rebuilt with the binary: revalidate each time (a 304 is
     * cheap) rather than risk a page whose script is a version behind */
    const http_header_t hdrs[] = {
        {"Cache-Control", "no-cache"},
        {"ETag", a->etag},
        {"Vary", "Accept"},
        {"X-Content-Type-Options", "nosniff"},
        {"Content-Security-Policy", UI_CSP},
        {"Referrer-Policy", "no-referrer"},
        {"X-Frame-Options", "DENY"},
    };
    size_t nh = sizeof hdrs / sizeof hdrs[0];
    if (has_inm && ui_etag_match(inm, a->etag))
        http_reply(c, 304, NULL, hdrs, nh, NULL, 0);
    else
        http_reply(c, 200, a->ctype, hdrs, nh, (const char *)a->data, a->len);
    return 0;
}

static int ui_asset(http_conn_t *c, const http_req_t *r)
{
    return ui_file(c, r, r->path.p + 4, r->path.n - 4); /* after "/ui/" */
}

const http_handler_t status_health_handler = {.name = "health", .on_request = health};
const http_handler_t status_metrics_handler = {.name = "metrics", .on_request = metrics_page};
const http_handler_t status_index_handler = {.name = "index", .on_request = index_page};
const http_handler_t status_ui_handler = {.name = "ui", .on_request = ui_asset};
