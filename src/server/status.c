/* status.c - GET /, /healthz and /metrics. */
#include "../common/json_write.h"
#include "../common/timeutil.h"
#include "http.h"
#include "metrics.h"
#include "version.h"

int status_health(struct lws *wsi, http_conn_t *c)
{
    server_t *srv = c->srv;
    buf_t b = BUF_INIT;
    buf_printf(&b, "{\"status\":\"ok\",\"version\":\"%s\",\"uptime_s\":%lld,\"last_seq\":%llu}\n",
               LOGSHIP_VERSION, (long long)((time_now_ns() - srv->started_ns) / NS_PER_SEC),
               (unsigned long long)(srv->next_seq - 1));
    int rc = http_reply(wsi, c, 200, "application/json", b.data, b.len);
    buf_free(&b);
    return rc;
}

int status_metrics(struct lws *wsi, http_conn_t *c)
{
    server_t *srv = c->srv;
    buf_t b = BUF_INIT;
    metrics_render(&b);
    buf_printf(&b,
               "# HELP logship_memory_records Records held in the memory window.\n"
               "# TYPE logship_memory_records gauge\nlogship_memory_records %zu\n"
               "# HELP logship_memory_bytes Bytes held in the memory window.\n"
               "# TYPE logship_memory_bytes gauge\nlogship_memory_bytes %zu\n"
               "# HELP logship_last_seq Seq of the newest record.\n"
               "# TYPE logship_last_seq gauge\nlogship_last_seq %llu\n",
               ring_count(&srv->ring), srv->ring.bytes, (unsigned long long)(srv->next_seq - 1));
    int rc = http_reply(wsi, c, 200, "text/plain; version=0.0.4", b.data, b.len);
    buf_free(&b);
    return rc;
}

int status_index(struct lws *wsi, http_conn_t *c)
{
    static const char body[] =
        "{\"service\":\"logshipd\",\"version\":\"" LOGSHIP_VERSION "\",\"endpoints\":["
        "\"POST /api/log\",\"GET /api/log\",\"GET /api/logs\",\"GET /healthz\",\"GET /metrics\"]}\n";
    return http_reply(wsi, c, 200, "application/json", body, sizeof body - 1);
}
