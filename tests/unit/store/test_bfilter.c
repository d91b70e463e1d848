/* test_bfilter.c - per-block filters (src/store/bfilter.c) never cause a
 * miss. Two properties over many seeds of random records and random
 * queries (topic, level, app, host, word, q, qi, re, field, time, a
 * token's topic limit):
 *   1. a block that holds a record passing a filter is never ruled out
 *      by that block's filter (bfilter_may_match);
 *   2. through a compressed store, the answer of store_scan equals a
 *      brute-force filter_match over every record appended.
 * And the filters do rule blocks out: a word that is in no record of a
 * block is refused by most blocks' blooms, a level above every record's
 * by all of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "route/regex.h"
#include "store/bfilter.h"
#include "store/store.h"
#include "unit/store_wait.h"

#define NREC 3000

static const char *const VOCAB[] = {
    "alpha",   "Beta",    "GAMMA",    "blk_1608", "blk_-9912", "10.0.0.1", "GET",  "/index",
    "timeout", "Timeout", "retry",    "café",     "naïve",     "x_y_z",    "500",  "404",
    "conn",    "closed",  "opened",   "user42",   "pid",       "kernel:",  "eth0", "dhcp",
    "sshd",    "Failed",  "password", "root",     "from",      "port",     "22",   "ssh2",
};
#define NVOCAB (sizeof VOCAB / sizeof VOCAB[0])
static const char *const SEPS[] = {" ", ", ", "/", "-", "\t", ": ", "=", "."};
static const char *const TOPICS[] = {"web.access", "web.error", "db.slow", "auth.x.y", "kern.crit"};
static const char *const APPS[] = {"web", "db", "db-backup", "auth", "kernel"};
static const char *const HOSTS[] = {"h1", "h2", "web-12", "db.eu.lan", ""};

typedef struct rec {
    char msg[200], fields[200];
    size_t msg_n, fields_n;
    int level, topic, app, host;
    int64_t ts;
} rec_t;

static unsigned rnd(unsigned *s)
{
    return (unsigned)rand_r(s);
}

/* Records drift with their index, so blocks differ. */
static void make_rec(rec_t *r, size_t i, unsigned *s)
{
    size_t phase = i / 400;
    int words = 2 + (int)(rnd(s) % 6);
    r->msg_n = 0;
    for (int w = 0; w < words; w++) {
        const char *v = VOCAB[(phase * 3 + rnd(s) % 8) % NVOCAB];
        const char *sep = w ? SEPS[rnd(s) % 8] : "";
        r->msg_n += (size_t)snprintf(r->msg + r->msg_n, sizeof r->msg - r->msg_n, "%s%s", sep, v);
    }
    r->fields_n = 0;
    if (rnd(s) % 3) {
        static const char *const notes[] = {"line one\\nline \\\"two\\\"", "tab\\there", "plain",
                                            "caf\\u00e9 ok"};
        r->fields_n = (size_t)snprintf(
            r->fields, sizeof r->fields, "{\"status\":%d,\"user\":\"%s\",\"note\":\"%s\"}",
            (int)(200 + 100 * (rnd(s) % 4)), VOCAB[rnd(s) % NVOCAB], notes[rnd(s) % 4]);
    }
    r->level = (int)((phase % 3 == 0 ? 5 : 0) + rnd(s) % 3);
    r->topic = (int)((phase + rnd(s) % 2) % 5);
    r->app = (int)((phase + rnd(s) % 2) % 5);
    r->host = (int)(rnd(s) % 5);
    r->ts = 1764770400000000000LL + (int64_t)i * 1000000 + (int64_t)(rnd(s) % 5000000);
}

static record_t view(const rec_t *r, uint64_t seq)
{
    record_t v = {0};
    v.seq = seq;
    v.ts = r->ts;
    v.level = r->level;
    v.topic = slice_cstr(TOPICS[r->topic]);
    v.app = slice_cstr(APPS[r->app]);
    v.host = slice_cstr(HOSTS[r->host]);
    v.msg = slice_make(r->msg, r->msg_n);
    v.fields = slice_make(r->fields, r->fields_n);
    return v;
}

/* A random query: texts in q->buf, the regex in *re (caller frees). */
typedef struct query {
    filter_t f;
    char buf[16][256];
    int nbuf;
    struct regex *re;
    topic_set_t lim;
    char desc[600];
} query_t;

static slice_t text(query_t *q, const char *fmt, const char *a)
{
    char *p = q->buf[q->nbuf++];
    snprintf(p, 256, fmt, a);
    return slice_cstr(p);
}

static void set(query_t *q, const char *key, slice_t v)
{
    const char *err = NULL;
    if (filter_set(&q->f, slice_cstr(key), v, &err) < 0)
        fail_msg("filter_set %s=%.*s: %s", key, (int)v.n, v.p, err);
    size_t n = strlen(q->desc);
    snprintf(q->desc + n, sizeof q->desc - n, "%s=%.*s&", key, (int)v.n, v.p);
}

/* A substring of a record's message, or of a word, with its case
 * perhaps changed. */
static slice_t piece(query_t *q, const rec_t *r, unsigned *s, int change_case)
{
    char *p = q->buf[q->nbuf++];
    size_t a = rnd(s) % r->msg_n, len = 1 + rnd(s) % (r->msg_n - a);
    if (len > 40)
        len = 40;
    memcpy(p, r->msg + a, len);
    for (size_t i = 0; change_case && i < len; i++)
        if (p[i] >= 'a' && p[i] <= 'z' && rnd(s) % 2)
            p[i] = (char)(p[i] - 32);
    p[len] = 0;
    return slice_make(p, len);
}

static void make_query(query_t *q, const rec_t *recs, size_t n, unsigned *s)
{
    static const char *const topic_pats[] = {"web.*",     "#",   "db.#",    "auth.*.y",
                                             "kern.crit", "web", "*.error", "nope.#"};
    static const char *const globs[] = {"web*", "db", "db*", "?uth", "*e*", "nothing"};
    static const char *const hglobs[] = {"h?", "web-*", "*.lan", "", "h1"};
    static const char *const res[] = {"blk_-?[0-9]+", "^GET",    "[Tt]ime(out)?", "x{2,}",
                                      "caf.",         "(a|b)+c", "\\d{3}$"};
    memset(q, 0, sizeof *q);
    filter_init(&q->f);
    int conds = 1 + (int)(rnd(s) % 3);
    for (int c = 0; c < conds; c++) {
        const rec_t *r = &recs[rnd(s) % n];
        switch (rnd(s) % 11) {
        case 0:
            set(q, "topic", text(q, "%s", topic_pats[rnd(s) % 8]));
            break;
        case 1:
            set(q, "app", text(q, "%s", globs[rnd(s) % 6]));
            break;
        case 2:
            set(q, "host", text(q, "%s", hglobs[rnd(s) % 5]));
            break;
        case 3:
            set(q, "level",
                text(q, "%s",
                     (const char *[]){"emerg", "crit", "error", "warning", "notice", "info",
                                      "debug"}[rnd(s) % 7]));
            break;
        case 4: {
            /* a word of a record, a word of the vocabulary, or none */
            const char *w = rnd(s) % 4 ? VOCAB[rnd(s) % NVOCAB] : "zzzunseen";
            set(q, "word", text(q, "%s", w));
            break;
        }
        case 5:
            set(q, "q", rnd(s) % 5 ? piece(q, r, s, 0) : text(q, "%s", "no such bytes"));
            break;
        case 6:
            set(q, "qi", piece(q, r, s, 1));
            break;
        case 7:
            if (!q->re) {
                char err[160];
                const char *p = res[rnd(s) % 7];
                q->re = regex_create(p, strlen(p), err, sizeof err);
                assert_non_null(q->re);
                filter_set_re(&q->f, q->re, slice_cstr(p));
                strcat(q->desc, "re&");
            }
            break;
        case 8: {
            static const char *const fk[] = {"field.status", "field.user", "field.note"};
            static const char *const fv[] = {"500", "5*",        "alpha",  "line one\nline \"two\"",
                                             "*",   "tab\there", "café ok"};
            set(q, fk[rnd(s) % 3], text(q, "%s", fv[rnd(s) % 7]));
            break;
        }
        case 9: {
            char b[40];
            snprintf(b, sizeof b, "%lld", (long long)(recs[rnd(s) % n].ts + (rnd(s) % 2 ? 0 : 1)));
            set(q, rnd(s) % 2 ? "since" : "until", text(q, "%s", b));
            break;
        }
        default: {
            const char *why;
            q->lim.n = 0;
            const char *p = topic_pats[rnd(s) % 8];
            assert_int_equal(topic_set_add(&q->lim, p, strlen(p), &why), 0);
            filter_limit(&q->f, &q->lim);
            strcat(q->desc, "limit&");
            break;
        }
        }
    }
}

static void test_blocks_never_miss(void **state)
{
    (void)state;
    static rec_t recs[NREC];
    bfilter_builder_t b;
    bfilter_builder_init(&b);
    buf_t blob = BUF_INIT;
    size_t pruned = 0, tried = 0;
    for (unsigned seed = 1; seed <= 40; seed++) {
        unsigned s = seed;
        size_t n = 50 + rnd(&s) % 400;
        for (size_t i = 0; i < n; i++) {
            make_rec(&recs[i], i + seed * 7, &s);
            record_t v = view(&recs[i], i + 1);
            bfilter_add(&b, &v);
        }
        buf_reset(&blob);
        bfilter_finish(&b, &blob);
        bfilter_t bf;
        assert_int_equal(bfilter_parse(blob.data, blob.len, &bf), 0);
        for (int k = 0; k < 300; k++) {
            query_t q;
            make_query(&q, recs, n, &s);
            int any = 0;
            for (size_t i = 0; i < n && !any; i++) {
                record_t v = view(&recs[i], i + 1);
                any = filter_match(&q.f, &v);
            }
            int may = bfilter_may_match(&bf, &q.f);
            if (any && !may)
                fail_msg("seed %u: the block's filter misses %s", seed, q.desc);
            tried++;
            pruned += !may;
            regex_destroy(q.re);
        }
    }
    /* pruning happens: many random queries match nothing in a block */
    assert_true(pruned > tried / 20);
    buf_free(&blob);
    bfilter_builder_free(&b);
}

static void test_blooms_rule_out(void **state)
{
    (void)state;
    static rec_t recs[NREC];
    bfilter_builder_t b;
    bfilter_builder_init(&b);
    buf_t blob = BUF_INIT;
    unsigned s = 9;
    size_t refused = 0, blocks = 0;
    for (size_t blk = 0; blk < 50; blk++) {
        for (size_t i = 0; i < 300; i++) {
            make_rec(&recs[i], blk * 400 + i % 400, &s);
            recs[i].level = 3 + (int)(rnd(&s) % 5); /* error or less severe */
            record_t v = view(&recs[i], i + 1);
            bfilter_add(&b, &v);
        }
        buf_reset(&blob);
        bfilter_finish(&b, &blob);
        bfilter_t bf;
        assert_int_equal(bfilter_parse(blob.data, blob.len, &bf), 0);
        filter_t f;
        filter_init(&f);
        const char *err;
        assert_int_equal(filter_set(&f, SLICE_LIT("word"), SLICE_LIT("neverseenword"), &err), 0);
        refused += !bfilter_may_match(&bf, &f);
        filter_init(&f);
        assert_int_equal(filter_set(&f, SLICE_LIT("level"), SLICE_LIT("crit"), &err), 0);
        assert_int_equal(bfilter_may_match(&bf, &f), 0); /* no level <= 2 in the block */
        blocks++;
    }
    assert_true(refused >= blocks * 9 / 10); /* 10 bits per word: ~1% false positives */
    buf_free(&blob);
    bfilter_builder_free(&b);
}

/* ---- through a compressed store ------------------------------------------- */

typedef struct got {
    uint64_t *seqs;
    size_t n;
} got_t;

static int collect(void *arg, const record_t *r)
{
    got_t *g = arg;
    g->seqs[g->n++] = r->seq;
    return 0;
}

static void test_store_answers_equal_brute_force(void **state)
{
    (void)state;
    static rec_t recs[NREC];
    static uint64_t seqs[NREC];
    log_threshold = LOG_ERROR;
    for (unsigned seed = 1; seed <= 8; seed++) {
        uv_loop_t loop;
        uv_loop_init(&loop);
        char dir[128];
        snprintf(dir, sizeof dir, "/tmp/logship-test-bfilter.XXXXXX");
        assert_non_null(mkdtemp(dir));
        store_opts_t o = {.dir = dir,
                          .segment_size = 300 * 1024,
                          .fsync = FSYNC_NEVER,
                          .fsync_interval_ms = 200,
                          .memory_records = 100,
                          .memory_bytes = 1u << 20,
                          .max_pending = 64u << 20,
                          .compress_level = 1};
        char err[256];
        store_t *st = store_open(&loop, &o, err, sizeof err);
        assert_non_null(st);
        unsigned s = seed * 7919;
        for (size_t i = 0; i < NREC;) {
            batch_t b = {0};
            for (size_t k = 0; k < 100; k++, i++) {
                make_rec(&recs[i], i, &s);
                record_t v = view(&recs[i], 0);
                batch_add(&b, &v);
            }
            int aerr;
            test_append_wait(&loop, st, &b, &aerr);
            batch_free(&b);
        }
        store_stats_t ss;
        store_get_stats(st, &ss);
        for (int k = 0; k < 3000 && ss.compressed_segments + 1 < ss.segments; k++) {
            uv_sleep(10);
            store_get_stats(st, &ss);
        }
        assert_true(ss.segments >= 2);
        assert_int_equal(ss.compressed_segments + 1, ss.segments);
        for (int k = 0; k < 150; k++) {
            query_t q;
            make_query(&q, recs, NREC, &s);
            size_t want = 0;
            for (size_t i = 0; i < NREC; i++) {
                record_t v = view(&recs[i], i + 1);
                if (filter_match(&q.f, &v))
                    seqs[want++] = i + 1;
            }
            static uint64_t out[NREC];
            got_t g = {out, 0};
            assert_int_equal(store_scan(st, &q.f, k % 2, collect, &g), 0);
            if (g.n != want)
                fail_msg("seed %u: %s: %zu records, brute force %zu", seed, q.desc, g.n, want);
            for (size_t i = 0; i < want; i++)
                assert_int_equal(out[k % 2 ? want - 1 - i : i], seqs[i]);
            regex_destroy(q.re);
        }
        store_close(st);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        char cmd[200];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks_never_miss),
        cmocka_unit_test(test_blooms_rule_out),
        cmocka_unit_test(test_store_answers_equal_brute_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
