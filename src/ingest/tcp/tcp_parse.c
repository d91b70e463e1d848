/* tcp_parse.c - raw TCP lines and the acknowledged batch protocol: see
 * tcp_parse.h. Control lines (hello, batch headers) are small and rare, so
 * they are parsed with yajl's tree API; records go through json_parse.c. */
#include "tcp_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <yajl/yajl_tree.h>

#include "../../store/producer.h"

/* Capacity a batch's records keep between batches: one huge batch does not
 * pin its memory for the rest of the connection. */
#define KEEP_BYTES (256u * 1024)

void tcp_session_init(tcp_session_t *s, size_t max_line)
{
    memset(s, 0, sizeof *s);
    s->max_line = max_line;
    s->max_batch_bytes = TCP_BATCH_BYTES_DEFAULT;
    recbuild_init(&s->rb, max_line);
    s->jp = json_parser_create(max_line);
}

void tcp_session_free(tcp_session_t *s)
{
    buf_free(&s->line);
    batch_free(&s->acked);
    recbuild_free(&s->rb);
    json_parser_destroy(s->jp);
    ingest_report_free(&s->rep);
}

static void text_record(tcp_session_t *s, const char *p, size_t n, batch_t *out,
                        const rec_defaults_t *d, const char *parse_error, int truncated)
{
    recbuild_reset(&s->rb);
    recbuild_set(&s->rb, RF_MSG, p, n);
    if (truncated)
        s->rb.flags |= RECORD_F_TRUNCATED;
    if (parse_error) {
        recbuild_field_key(&s->rb, "parse_error", 11);
        recbuild_field_str(&s->rb, parse_error, strlen(parse_error));
        s->parse_errors++;
    }
    recbuild_finish(&s->rb, out, d);
}

/* One record line into out. */
static void record_line(tcp_session_t *s, const char *p, size_t n, batch_t *out,
                        const rec_defaults_t *d, int truncated)
{
    if (n && p[0] == '{' && !truncated) {
        const char *err;
        ingest_report_reset(&s->rep);
        if (json_parse_doc(s->jp, p, n, out, d, &s->rep, &err) == 0)
            return;
        text_record(s, p, n, out, d, err, 0);
        return;
    }
    text_record(s, p, n, out, d, NULL, truncated);
}

/* Parses a control line; NULL when it is not a JSON object. */
static yajl_val control(const char *p, size_t n, const char *kind)
{
    char tmp[1024];
    if (n >= sizeof tmp || !n || p[0] != '{')
        return NULL;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    yajl_val v = yajl_tree_parse(tmp, NULL, 0);
    if (!v)
        return NULL;
    const char *path[] = {"logship", NULL};
    const char *k = YAJL_GET_STRING(yajl_tree_get(v, path, yajl_t_string));
    if (!k || strcmp(k, kind) != 0) {
        yajl_tree_free(v);
        return NULL;
    }
    return v;
}

static int fail(tcp_session_t *s, const tcp_events_t *ev, void *arg, const char *why)
{
    s->failed = 1;
    if (ev && ev->error)
        ev->error(arg, why);
    return -1;
}

static int batch_header(tcp_session_t *s, const char *p, size_t n, const tcp_events_t *ev,
                        void *arg)
{
    yajl_val v = control(p, n, "batch");
    if (!v)
        return fail(s, ev, arg, "expected a batch header line");
    const char *pb[] = {"batch", NULL}, *pc[] = {"count", NULL};
    yajl_val b = yajl_tree_get(v, pb, yajl_t_number), c = yajl_tree_get(v, pc, yajl_t_number);
    int ok = b && c && YAJL_IS_INTEGER(b) && YAJL_IS_INTEGER(c) && YAJL_GET_INTEGER(b) > 0 &&
             YAJL_GET_INTEGER(c) >= 0 && YAJL_GET_INTEGER(c) <= TCP_MAX_BATCH;
    if (ok) {
        s->batch_no = (uint64_t)YAJL_GET_INTEGER(b);
        s->expect = (size_t)YAJL_GET_INTEGER(c);
        s->in_batch = 1;
        s->batch_bytes = 0;
        batch_reset(&s->acked);
    }
    yajl_tree_free(v);
    if (!ok)
        return fail(s, ev, arg, "bad batch header: need batch >= 1 and count 0..100000");
    return 0;
}

/* The batch being read is complete: hand it over, then let go of its memory. */
static void batch_done(tcp_session_t *s, const tcp_events_t *ev, void *arg)
{
    s->in_batch = 0;
    if (ev && ev->batch)
        ev->batch(arg, s->batch_no, &s->acked);
    batch_reset(&s->acked);
    buf_shrink(&s->acked.frames, KEEP_BYTES);
}

static int line(tcp_session_t *s, const char *p, size_t n, batch_t *out, const rec_defaults_t *d,
                const tcp_events_t *ev, void *arg, int truncated)
{
    if (n && p[n - 1] == '\r')
        n--;
    if (s->mode == TCP_FIRST_LINE) {
        yajl_val v = control(p, n, "hello");
        if (v) {
            const char *pp[] = {"producer", NULL};
            const char *prod = YAJL_GET_STRING(yajl_tree_get(v, pp, yajl_t_string));
            char id[PRODUCER_ID_MAX + 1] = "";
            int bad = prod && producer_id_check(prod, strlen(prod));
            if (prod && !bad)
                snprintf(id, sizeof id, "%s", prod);
            yajl_tree_free(v);
            if (bad)
                return fail(s, ev, arg, "bad producer id: 1 to 64 printable ASCII characters");
            s->mode = TCP_ACKED;
            if (ev && ev->hello)
                ev->hello(arg, id);
            return 0;
        }
        s->mode = TCP_PLAIN;
    }
    if (s->mode == TCP_PLAIN) {
        if (n)
            record_line(s, p, n, out, d, truncated);
        return 0;
    }
    if (!s->in_batch)
        return n ? batch_header(s, p, n, ev, arg) : 0;
    record_line(s, p, n, &s->acked, d, truncated);
    if (--s->expect == 0)
        batch_done(s, ev, arg);
    return 0;
}

/* An acknowledged batch with count 0 completes at its header. */
static void empty_batch(tcp_session_t *s, const tcp_events_t *ev, void *arg)
{
    if (s->mode == TCP_ACKED && s->in_batch && s->expect == 0)
        batch_done(s, ev, arg);
}

/* Counts seg more bytes of the batch being read against its cap, before
 * any of them is kept; -1 after ev->error when they do not fit. */
static int batch_room(tcp_session_t *s, size_t seg, const tcp_events_t *ev, void *arg)
{
    if (s->mode != TCP_ACKED || !s->in_batch)
        return 0;
    if (seg > s->max_batch_bytes - s->batch_bytes) {
        char why[160];
        snprintf(why, sizeof why,
                 "batch %llu is larger than %zu bytes (--max-batch-bytes): send smaller batches",
                 (unsigned long long)s->batch_no, s->max_batch_bytes);
        return fail(s, ev, arg, why);
    }
    s->batch_bytes += seg;
    return 0;
}

int tcp_feed(tcp_session_t *s, const char *p, size_t n, batch_t *out, const rec_defaults_t *d,
             const tcp_events_t *ev, void *arg)
{
    if (s->failed)
        return -1;
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t len = nl ? (size_t)(nl - p) : n;
        if (batch_room(s, len + (nl != NULL), ev, arg))
            return -1;
        if (s->discarding) {
            /* the rest of a line already stored cut */
            if (nl)
                s->discarding = 0;
        } else if (!nl) {
            /* keep the partial line; cut it when it outgrows max_line */
            if (s->line.len + len > s->max_line) {
                size_t take = s->max_line - s->line.len;
                buf_append(&s->line, p, take);
                if (line(s, s->line.data, s->line.len, out, d, ev, arg, 1))
                    return -1;
                empty_batch(s, ev, arg);
                buf_reset(&s->line);
                s->discarding = 1;
            } else {
                buf_append(&s->line, p, len);
            }
        } else {
            const char *q = p;
            size_t qn = len;
            int cut = 0;
            if (s->line.len) {
                size_t take = len;
                if (s->line.len + take > s->max_line) {
                    take = s->max_line - s->line.len;
                    cut = 1;
                }
                buf_append(&s->line, p, take);
                q = s->line.data;
                qn = s->line.len;
            } else if (qn > s->max_line) {
                qn = s->max_line;
                cut = 1;
            }
            int rc = line(s, q, qn, out, d, ev, arg, cut);
            buf_reset(&s->line);
            if (rc)
                return -1;
            empty_batch(s, ev, arg);
        }
        if (!nl)
            break;
        n -= len + 1;
        p = nl + 1;
    }
    return 0;
}

void tcp_finish(tcp_session_t *s, batch_t *out, const rec_defaults_t *d, const tcp_events_t *ev,
                void *arg)
{
    if (!s->failed && s->line.len && !s->discarding)
        line(s, s->line.data, s->line.len, out, d, ev, arg, 0);
    buf_reset(&s->line);
}
