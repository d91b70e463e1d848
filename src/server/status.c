/* status.c - GET / (the web UI, or a JSON index for API clients), the UI's
 * assets under /ui/, /healthz and /metrics. */
#include <stdio.h>
#include <string.h>

#include "../common/json_write.h"
#include "../tail/tail.h"
#include "../ui/ui_assets.h"
#include "../common/timeutil.h"
#include "http.h"
#include "metrics.h"
#include "version.h"

int status_health(struct lws *wsi, http_conn_t *c)
{
    server_t *srv = c->srv;
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
    int rc = http_reply(wsi, c, err ? 503 : 200, "application/json", b.data, b.len);
    buf_free(&b);
    return rc;
}

int status_metrics(struct lws *wsi, http_conn_t *c)
{
    server_t *srv = c->srv;
    buf_t b = BUF_INIT;
    store_stats_t st;
    const ring_t *ring = store_ring(srv->store);
    metrics_render(&b);
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
    uint64_t v[] = {ring_count(ring),  ring->bytes,     st.last_seq,     st.first_seq,
                    st.segments,       st.bytes,        st.records_written, st.groups,
                    st.syncs,          st.write_errors, st.damaged,      st.pending_bytes,
                    store_error(srv->store) != 0};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        buf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", g[i].name, g[i].help, g[i].name,
                   g[i].type, g[i].name, (unsigned long long)v[i]);
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
    uint64_t tv[] = {ts.subscribers, ts.records, ts.messages, ts.disk_scans, ts.gaps,
                     ts.shared_hits};
    for (size_t i = 0; i < sizeof tg / sizeof tg[0]; i++)
        buf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", tg[i].name, tg[i].help,
                   tg[i].name, tg[i].type, tg[i].name, (unsigned long long)tv[i]);
    int rc = http_reply(wsi, c, 200, "text/plain; version=0.0.4", b.data, b.len);
    buf_free(&b);
    return rc;
}

int status_index(struct lws *wsi, http_conn_t *c)
{
    static const char body[] =
        "{\"service\":\"logshipd\",\"version\":\"" LOGSHIP_VERSION "\",\"endpoints\":["
        "\"POST /api/log\",\"GET /api/log\",\"GET /api/logs\",\"GET /api/tail\","
        "\"GET /api/files\",\"GET /healthz\",\"GET /metrics\"],"
        "\"ui\":\"GET / with Accept: text/html\"}\n";
    static const http_header_t hdrs[] = {{"cache-control:", "no-store"}, {"vary:", "Accept"}};
    return http_reply_with(wsi, c, 200, "application/json", hdrs, 2, body, sizeof body - 1);
}

int status_wants_page(struct lws *wsi)
{
    char accept[512];
    if (lws_hdr_copy(wsi, accept, sizeof accept, WSI_TOKEN_HTTP_ACCEPT) <= 0)
        return 0;
    return ui_wants_html(accept);
}

/* The page runs no inline script or style and loads nothing from elsewhere:
 * a message that smuggled markup in could not run code even if it got into
 * the DOM as HTML (the page only ever sets textContent). */
#define UI_CSP                                                                                   \
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; " \
    "script-src 'self'"

int status_ui(struct lws *wsi, http_conn_t *c, const char *name, size_t n)
{
    const ui_asset_t *a = ui_asset_find(name, n);
    if (!a)
        return http_reply_error(wsi, c, 404, HREJ_NOT_FOUND, "no such file");
    char inm[256];
    int has_inm = lws_hdr_copy(wsi, inm, sizeof inm, WSI_TOKEN_HTTP_IF_NONE_MATCH) > 0;
    /* small files, rebuilt with the binary: revalidate each time (a 304 is
     * cheap) rather than risk a page whose script is a version behind */
    const http_header_t hdrs[] = {
        {"cache-control:", "no-cache"},
        {"etag:", a->etag},
        {"vary:", "Accept"},
        {"x-content-type-options:", "nosniff"},
        {"content-security-policy:", UI_CSP},
        {"referrer-policy:", "no-referrer"},
        {"x-frame-options:", "DENY"},
    };
    size_t nh = sizeof hdrs / sizeof hdrs[0];
    if (has_inm && ui_etag_match(inm, a->etag))
        return http_reply_with(wsi, c, 304, NULL, hdrs, nh, NULL, 0);
    return http_reply_with(wsi, c, 200, a->ctype, hdrs, nh, (const char *)a->data, a->len);
}
