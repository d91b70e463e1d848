/* loki_parse.c - Loki push requests: see loki_parse.h. */
#include "loki_parse.h"

#include <stdio.h>

#include "../../common/timeutil.h"
#include "loki_pb.h"

static const jmap_key_t label_keys[] = {
    {"app", JM_APP, 3},
    {"service_name", JM_APP, 2},
    {"job", JM_APP, 1},
    {"host", JM_HOST, 2},
    {"hostname", JM_HOST, 1},
    {"level", JM_LEVEL, 2},
    {"detected_level", JM_LEVEL, 1},
    {"topic", JM_TOPIC, 1},
};
static const jmap_t label_map = {label_keys, sizeof label_keys / sizeof label_keys[0], NULL};

void loki_parser_init(loki_parser_t *lp, size_t max_msg)
{
    memset(lp, 0, sizeof *lp);
    jdom_init(&lp->dom);
    recbuild_init(&lp->rb, max_msg);
}

void loki_parser_free(loki_parser_t *lp)
{
    buf_free(&lp->snappy);
    buf_free(&lp->json);
    jdom_free(&lp->dom);
    recbuild_free(&lp->rb);
    buf_free(&lp->sc.path);
    buf_free(&lp->sc.value);
    buf_free(&lp->sc.keys);
    buf_free(&lp->sc.prev);
}

/* Loki's timestamps: a string of nanoseconds since the epoch (digits
 * only), or RFC 3339. 0 or -1. */
static int entry_time(slice_t s, int64_t *ns)
{
    if (s.n && s.n <= 19) {
        int64_t v = 0;
        size_t i = 0;
        while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9') {
            if (v > (INT64_MAX - (s.p[i] - '0')) / 10)
                return -1;
            v = v * 10 + (s.p[i] - '0');
            i++;
        }
        if (i == s.n) {
            *ns = v;
            return 0;
        }
    }
    return time_parse_rfc3339(s.p, s.n, ns);
}

/* One entry [ts, line, {metadata}?] of a stream with labels (0: none). */
static void entry(loki_parser_t *lp, size_t e, size_t labels, batch_t *b, const rec_defaults_t *d,
                  ingest_report_t *rep)
{
    const jdom_t *dom = &lp->dom;
    size_t no = ++lp->entries;
    if (jdom_type(dom, e) != J_ARR) {
        ingest_reject(rep, no, "entry %zu: expected [\"<ns>\", \"<line>\"]", no);
        return;
    }
    size_t items = jdom_node(dom, e)->len;
    size_t ts = jdom_first(dom, e);
    size_t line = items >= 2 ? jdom_end(dom, ts) : 0;
    size_t meta = items >= 3 ? jdom_end(dom, line) : 0;
    if (items < 2 || items > 3) {
        ingest_reject(rep, no,
                      "entry %zu: expected [\"<ns>\", \"<line>\"] or a third item of "
                      "structured metadata",
                      no);
        return;
    }
    int64_t ns;
    int tt = jdom_type(dom, ts);
    if ((tt != J_STR && tt != J_NUM) || entry_time(jdom_text(dom, ts), &ns)) {
        ingest_reject(rep, no,
                      "entry %zu: bad timestamp: use a string of nanoseconds since the "
                      "epoch",
                      no);
        return;
    }
    if (jdom_type(dom, line) != J_STR) {
        ingest_reject(rep, no, "entry %zu: the line must be a string", no);
        return;
    }
    if (meta && jdom_type(dom, meta) != J_OBJ) {
        ingest_reject(rep, no, "entry %zu: structured metadata must be an object", no);
        return;
    }
    recbuild_t *rb = &lp->rb;
    jmap_result_t res;
    recbuild_reset(rb);
    if (labels)
        jmap_object(dom, labels, &label_map, rb, &lp->sc, &res);
    if (meta)
        jmap_object(dom, meta, &label_map, rb, &lp->sc, &res);
    slice_t text = jdom_text(dom, line);
    recbuild_set(rb, RF_MSG, text.p, text.n);
    rb->ts = ns;
    rb->has_ts = 1;
    recbuild_finish(rb, b, d);
}

int loki_parse_json(loki_parser_t *lp, const char *s, size_t n, batch_t *b, const rec_defaults_t *d,
                    ingest_report_t *rep, const char **err)
{
    jdom_t *dom = &lp->dom;
    lp->entries = 0;
    if (jdom_parse(dom, s, n)) {
        *err = dom->err;
        return -1;
    }
    size_t streams = jdom_get(dom, 0, "streams");
    if (!streams || jdom_type(dom, streams) != J_ARR) {
        *err = "not a Loki push request: expected {\"streams\":[...]}";
        return -1;
    }
    const char *unit = rep->unit;
    rep->unit = "entry";
    size_t sno = 0;
    for (size_t st = jdom_first(dom, streams); st < jdom_end(dom, streams);
         st = jdom_end(dom, st)) {
        sno++;
        size_t labels = jdom_get(dom, st, "stream");
        size_t values = jdom_get(dom, st, "values");
        if (jdom_type(dom, st) != J_OBJ || !values || jdom_type(dom, values) != J_ARR ||
            (labels && jdom_type(dom, labels) != J_OBJ)) {
            /* its entries cannot be counted: the stream counts as one */
            size_t no = ++lp->entries;
            ingest_reject(rep, no, "stream %zu: expected {\"stream\":{labels},\"values\":[...]}",
                          sno);
            continue;
        }
        for (size_t e = jdom_first(dom, values); e < jdom_end(dom, values); e = jdom_end(dom, e))
            entry(lp, e, labels, b, d, rep);
    }
    rep->unit = unit;
    return 0;
}

int loki_parse_pb(loki_parser_t *lp, const char *s, size_t n, size_t max, batch_t *b,
                  const rec_defaults_t *d, ingest_report_t *rep, const char **err)
{
    buf_reset(&lp->json);
    lp->entries = 0;
    if (loki_pb_to_json(s, n, max, &lp->snappy, &lp->json, err))
        return -1;
    int rc = loki_parse_json(lp, lp->json.data, lp->json.len, b, d, rep, err);
    /* one huge push must not pin its memory */
    if (lp->snappy.cap > (1u << 20))
        buf_free(&lp->snappy);
    if (lp->json.cap > (1u << 20))
        buf_free(&lp->json);
    return rc;
}
