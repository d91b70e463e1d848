/* api_logs.c - GET /api/logs: records from the memory window, filtered.
 *
 * With after= or since= (and order=asc, the default) the answer is the
 * first `limit` matching records from that point on; otherwise it is the
 * newest `limit` matching records. Either way the array is oldest first
 * unless order=desc.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../route/filter.h"
#include "http.h"
#include "metrics.h"

#define LIMIT_DEFAULT 1000
#define LIMIT_MAX     100000

int logs_on_request(struct lws *wsi, http_conn_t *c)
{
    server_t *srv = c->srv;
    filter_t f;
    const char *err = NULL;
    size_t limit = LIMIT_DEFAULT;
    int desc = 0;

    http_query(wsi, &c->query);
    filter_init(&f);
    for (size_t i = 0; i < c->query.n; i++) {
        slice_t k = form_key(&c->query, i), v = form_val(&c->query, i);
        int r = filter_set(&f, k, v, &err);
        if (r < 0)
            return http_reply_error(wsi, c, 400, HREJ_BAD_QUERY, err);
        if (r == 0)
            continue;
        if (slice_eq(k, "limit")) {
            char tmp[24];
            char *end;
            if (!v.n || v.n >= sizeof tmp)
                return http_reply_error(wsi, c, 400, HREJ_BAD_QUERY, "bad limit");
            memcpy(tmp, v.p, v.n);
            tmp[v.n] = '\0';
            long l = strtol(tmp, &end, 10);
            if (*end || l < 1 || l > LIMIT_MAX)
                return http_reply_error(wsi, c, 400, HREJ_BAD_QUERY,
                                        "bad limit: expected 1..100000");
            limit = (size_t)l;
        } else if (slice_eq(k, "order")) {
            if (slice_eq(v, "desc"))
                desc = 1;
            else if (!slice_eq(v, "asc"))
                return http_reply_error(wsi, c, 400, HREJ_BAD_QUERY,
                                        "bad order: expected asc or desc");
        } else {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "unknown parameter '%.*s' (use topic, level, q, since, until, after, "
                     "limit, order)",
                     (int)(k.n > 32 ? 32 : k.n), k.p);
            return http_reply_error(wsi, c, 400, HREJ_BAD_QUERY, msg);
        }
    }

    ring_t *r = &srv->ring;
    int forward = !desc && (f.after || f.since != INT64_MIN);
    uint64_t *seqs = malloc(limit * sizeof *seqs);
    if (!seqs)
        return http_reply_error(wsi, c, 503, HREJ_BAD_QUERY, "out of memory");
    size_t n = 0;
    record_t rec;
    if (forward) {
        uint64_t s = f.after + 1 > r->first_seq ? f.after + 1 : r->first_seq;
        for (; s < r->next_seq && n < limit; s++) {
            const char *p = ring_get(r, s);
            if (record_decode(p, (size_t)-1 >> 1, &rec) > 0 && filter_match(&f, &rec))
                seqs[n++] = s;
        }
    } else {
        for (uint64_t s = r->next_seq; s-- > r->first_seq && n < limit;) {
            if (s <= f.after)
                break;
            const char *p = ring_get(r, s);
            if (record_decode(p, (size_t)-1 >> 1, &rec) > 0 && filter_match(&f, &rec))
                seqs[n++] = s;
        }
    }
    /* seqs is in scan order; emit oldest first unless order=desc */
    int reverse = forward ? desc : !desc;
    buf_t b = BUF_INIT;
    buf_putc(&b, '[');
    for (size_t i = 0; i < n; i++) {
        uint64_t s = seqs[reverse ? n - 1 - i : i];
        record_decode(ring_get(r, s), (size_t)-1 >> 1, &rec);
        if (i)
            buf_putc(&b, ',');
        buf_putc(&b, '\n');
        record_to_json(&b, &rec);
    }
    buf_puts(&b, "\n]\n");
    free(seqs);
    int rc = http_reply(wsi, c, 200, "application/json", b.data, b.len);
    buf_free(&b);
    return rc;
}
