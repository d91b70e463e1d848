/* bench_verify.c - `logship bench --verify`: after the run, every record the
 * server stored for it is read back (GET /api/logs?q=lsb_<run>_ as NDJSON,
 * in pages of a million by seq), each tag counted once or twice, and the
 * result set against the ids that were acknowledged: missing is acked and
 * not found, doubled is found more than once (acked or not). A record that
 * was sent but never acknowledged (in flight at the end, or its connection
 * dropped) may or may not be stored; only finding it twice is wrong.
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_int.h"
#include "http_client.h"

#define PAGE 1000000

typedef struct reading {
    const bench_run_t *r;
    bench_bits_t *seen, *twice;
    buf_t line, body; /* a line cut by a piece; an error's body */
    uint64_t lines, last_seq;
    int status;
} reading_t;

static void on_tag(void *arg, uint64_t id, uint64_t t)
{
    reading_t *rd = arg;
    (void)t;
    if (bench_bits_get(rd->seen, id))
        bench_bits_set(rd->twice, id);
    else
        bench_bits_set(rd->seen, id);
}

static void one_line(reading_t *rd, const char *p, size_t n)
{
    if (!n)
        return;
    rd->lines++;
    const char *s = memmem(p, n, "\"seq\":", 6);
    if (s) {
        uint64_t v = 0;
        for (s += 6; s < p + n && *s >= '0' && *s <= '9'; s++)
            v = v * 10 + (uint64_t)(*s - '0');
        if (v > rd->last_seq)
            rd->last_seq = v;
    }
    bench_tags_scan(rd->r->run, p, n, on_tag, rd);
}

static int on_status(void *arg, int status)
{
    reading_t *rd = arg;
    rd->status = status;
    return 0;
}

static int on_body(void *arg, const char *p, size_t n)
{
    reading_t *rd = arg;
    if (rd->status != 200) {
        if (rd->body.len < 512)
            buf_append(&rd->body, p, n < 512 ? n : 512);
        return 0;
    }
    while (n) {
        const char *nl = memchr(p, '\n', n);
        if (!nl) {
            buf_append(&rd->line, p, n);
            return 0;
        }
        size_t k = (size_t)(nl - p);
        if (rd->line.len) {
            buf_append(&rd->line, p, k);
            one_line(rd, rd->line.data, rd->line.len);
            buf_reset(&rd->line);
        } else {
            one_line(rd, p, k);
        }
        p += k + 1;
        n -= k + 1;
    }
    return 0;
}

/* Reads every stored record of the run into seen/twice. 0 or -1. */
static int read_all(const bench_run_t *r, reading_t *rd, char *err, size_t errlen)
{
    uint64_t after = 0;
    for (;;) {
        char url[1400];
        snprintf(url, sizeof url, "%s/api/logs?q=lsb_%s_&limit=%d&after=%llu", r->o.server, r->run,
                 PAGE, (unsigned long long)after);
        http_request_t req = {.url = url,
                              .accept = "application/x-ndjson",
                              .on_status = on_status,
                              .on_body = on_body,
                              .arg = rd};
        int status = 0;
        rd->lines = 0;
        rd->status = 0;
        buf_reset(&rd->line);
        buf_reset(&rd->body);
        char herr[512];
        int rc = http_get(&req, &status, herr, sizeof herr);
        if (rc != HTTP_OK) {
            snprintf(err, errlen, "cannot query %.300s: %.180s", r->o.server, herr);
            return -1;
        }
        if (status != 200) {
            snprintf(err, errlen, "the query was answered %d: %.*s", status,
                     (int)(rd->body.len > 200 ? 200 : rd->body.len),
                     rd->body.data ? rd->body.data : "");
            for (char *c = err; *c; c++)
                if (*c == '\n' || *c == '\r')
                    *c = ' ';
            return -1;
        }
        if (rd->line.len)
            one_line(rd, rd->line.data, rd->line.len);
        if (rd->lines < PAGE || rd->last_seq <= after)
            return 0;
        after = rd->last_seq;
    }
}

static void verdict(const bench_run_t *r, const reading_t *rd, uint64_t last_id, bench_verdict_t *v)
{
    uint64_t words = last_id / 64 + 1;
    memset(v, 0, sizeof *v);
    for (uint64_t i = 0; i < words; i++) {
        uint64_t a = bench_bits_word(r->acked, i), s = bench_bits_word(rd->seen, i);
        uint64_t d = bench_bits_word(rd->twice, i);
        if (i == 0)
            a &= ~UINT64_C(1), s &= ~UINT64_C(1), d &= ~UINT64_C(1); /* ids start at 1 */
        v->acked += (uint64_t)__builtin_popcountll(a);
        v->found += (uint64_t)__builtin_popcountll(s);
        v->unacked_found += (uint64_t)__builtin_popcountll(s & ~a);
        for (uint64_t m = a & ~s; m; m &= m - 1) {
            if (v->missing < 10)
                v->missing_ids[v->missing] = i * 64 + (uint64_t)__builtin_ctzll(m);
            v->missing++;
        }
        for (uint64_t m = d; m; m &= m - 1) {
            if (v->doubled < 10)
                v->doubled_ids[v->doubled] = i * 64 + (uint64_t)__builtin_ctzll(m);
            v->doubled++;
        }
    }
}

int bench_verify(const bench_run_t *r, uint64_t last_id, double wait_s, bench_verdict_t *v)
{
    reading_t rd = {.r = r};
    uint64_t deadline = bench_now() + (uint64_t)(wait_s * 1e9);
    unsigned pause_ms = 200;
    int rc;
    for (;;) {
        rd.seen = xcalloc(1, sizeof *rd.seen);
        rd.twice = xcalloc(1, sizeof *rd.twice);
        char err[sizeof v->error];
        rc = read_all(r, &rd, err, sizeof err);
        if (rc) {
            memset(v, 0, sizeof *v);
            snprintf(v->error, sizeof v->error, "%s", err);
        } else {
            verdict(r, &rd, last_id, v);
        }
        bench_bits_free(rd.seen);
        bench_bits_free(rd.twice);
        free(rd.seen);
        free(rd.twice);
        /* without answers, what the server read may still be on its way
         * to the store: look again for a while */
        if (rc || !v->missing || bench_now() + (uint64_t)pause_ms * 1000000 > deadline)
            break;
        uv_sleep(pause_ms);
        pause_ms = pause_ms * 2 > 2000 ? 2000 : pause_ms * 2;
    }
    buf_free(&rd.line);
    buf_free(&rd.body);
    return rc;
}
