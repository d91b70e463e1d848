/* bfilter.c - per-block filters: see bfilter.h. */
#include "bfilter.h"

#include <stdlib.h>
#include <string.h>

#include "../common/token.h"

#define BF_VERSION 1
#define BF_HEAD    36

static int bloom_has(const uint8_t *bloom, uint32_t bytes, uint64_t h)
{
    h = h ? h : 1; /* as the builder's set keeps it */
    uint64_t bits = (uint64_t)bytes * 8;
    uint32_t h1 = (uint32_t)h, h2 = (uint32_t)(h >> 32) | 1;
    for (uint32_t i = 0; i < BF_HASHES; i++) {
        uint64_t bit = (h1 + (uint64_t)i * h2) & (bits - 1);
        if (!(bloom[bit >> 3] & (1u << (bit & 7))))
            return 0;
    }
    return 1;
}

static void bloom_set(uint8_t *bloom, uint32_t bytes, uint64_t h)
{
    uint64_t bits = (uint64_t)bytes * 8;
    uint32_t h1 = (uint32_t)h, h2 = (uint32_t)(h >> 32) | 1;
    for (uint32_t i = 0; i < BF_HASHES; i++) {
        uint64_t bit = (h1 + (uint64_t)i * h2) & (bits - 1);
        bloom[bit >> 3] |= (uint8_t)(1u << (bit & 7));
    }
}

/* ---- reading ------------------------------------------------------------ */

static uint16_t rd16(const char *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

int bfilter_parse(const char *p, size_t n, bfilter_t *bf)
{
    memset(bf, 0, sizeof *bf);
    if (n < BF_HEAD || (uint8_t)p[0] != BF_VERSION)
        return -1;
    bf->levels = (uint8_t)p[1];
    bf->counted = p[2] & 1;
    for (int l = 0; l < 8; l++)
        bf->level_counts[l] = rd32(p + 4 + 4 * l);
    size_t pos = BF_HEAD;
    for (int s = 0; s < 3; s++) {
        if (n - pos < 2)
            return -1;
        uint16_t k = rd16(p + pos);
        pos += 2;
        bf->nvals[s] = k;
        bf->vals[s] = p + pos;
        if (k == BF_UNKNOWN)
            continue;
        if (k > BF_SET_MAX)
            return -1;
        for (uint16_t i = 0; i < k; i++) {
            if (n - pos < 2)
                return -1;
            size_t len = rd16(p + pos);
            pos += 2;
            if (n - pos < len + 4)
                return -1;
            pos += len + 4;
        }
    }
    if (n - pos < 4)
        return -1;
    uint32_t bb = rd32(p + pos);
    pos += 4;
    if (bb > BF_BLOOM_MAX || (bb & (bb - 1)) || n - pos != bb)
        return -1;
    bf->bloom_bytes = bb;
    bf->bloom = (const uint8_t *)(p + pos);
    return 0;
}

typedef int (*val_fn)(const filter_t *f, slice_t v);

static int topic_ok(const filter_t *f, slice_t v)
{
    if (f->ntopics && !topic_match_any(f->pats, f->topics, f->ntopics, v.p, v.n))
        return 0;
    return !f->limited || topic_set_match(&f->limit, v.p, v.n);
}

static int globs_ok(const glob_t *g, const slice_t *texts, size_t n, slice_t v)
{
    for (size_t i = 0; i < n; i++)
        if (glob_match(&g[i], texts[i].p, v.p, v.n))
            return 1;
    return 0;
}

static int app_ok(const filter_t *f, slice_t v)
{
    return globs_ok(f->app_g, f->apps, f->napps, v);
}

static int host_ok(const filter_t *f, slice_t v)
{
    return globs_ok(f->host_g, f->hosts, f->nhosts, v);
}

/* 1 when some value of set s passes fn (or the set is unknown). */
static int set_may(const bfilter_t *bf, int s, const filter_t *f, val_fn fn)
{
    if (bf->nvals[s] == BF_UNKNOWN)
        return 1;
    const char *p = bf->vals[s];
    for (uint16_t i = 0; i < bf->nvals[s]; i++) {
        size_t len = rd16(p);
        if (fn(f, slice_make(p + 2, len)))
            return 1;
        p += 2 + len + 4;
    }
    return 0;
}

/* The words of t that are whole words of any text containing t: all of
 * them (whole), or those not touching either end (a substring). 0 when
 * one of them is not in the bloom. */
static int words_may(const bfilter_t *bf, slice_t t, int whole)
{
    size_t pos = 0, s, l;
    while (token_next(t.p, t.n, &pos, 0, &s, &l)) {
        if (!whole && (s == 0 || s + l == t.n))
            continue;
        if (!bloom_has(bf->bloom, bf->bloom_bytes, token_hash(t.p + s, l)))
            return 0;
    }
    return 1;
}

int bfilter_may_match(const bfilter_t *bf, const filter_t *f)
{
    uint8_t want = (uint8_t)((2u << (f->min_level < 0   ? 0
                                     : f->min_level > 7 ? 7
                                                        : f->min_level)) -
                             1);
    if (!(bf->levels & want))
        return 0;
    if ((f->ntopics || f->limited) && !set_may(bf, 0, f, topic_ok))
        return 0;
    if (f->napps && !set_may(bf, 1, f, app_ok))
        return 0;
    if (f->nhosts && !set_may(bf, 2, f, host_ok))
        return 0;
    if (!bf->bloom_bytes)
        return 1;
    for (size_t i = 0; i < f->nwords; i++)
        if (!words_may(bf, f->words[i], 1))
            return 0;
    if (f->q.n && !words_may(bf, f->q, 0))
        return 0;
    if (f->qi.n && !words_may(bf, f->qi, 0))
        return 0;
    /* field.NAME= is not pruned: its values are compared decoded, the
     * bloom holds the words of the stored JSON text (token.h) */
    return 1;
}

uint32_t bfilter_value_count(const bfilter_t *bf, int set, size_t i, slice_t *value)
{
    const char *p = bf->vals[set];
    for (size_t k = 0; k < i; k++)
        p += 2 + rd16(p) + 4;
    size_t len = rd16(p);
    *value = slice_make(p + 2, len);
    return rd32(p + 2 + len);
}

/* ---- building ----------------------------------------------------------- */

void bfilter_builder_init(bfilter_builder_t *b)
{
    memset(b, 0, sizeof *b);
}

void bfilter_builder_free(bfilter_builder_t *b)
{
    for (int s = 0; s < 3; s++)
        buf_free(&b->vals[s]);
    free(b->words);
}

static void word_add(bfilter_builder_t *b, uint64_t h)
{
    if (!h)
        h = 1; /* 0 marks an empty slot */
    if ((b->nwords + 1) * 2 > b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 4096;
        uint64_t *n = xcalloc(ncap, sizeof *n);
        for (size_t i = 0; i < b->cap; i++) {
            if (!b->words[i])
                continue;
            size_t j = b->words[i] & (ncap - 1);
            while (n[j])
                j = (j + 1) & (ncap - 1);
            n[j] = b->words[i];
        }
        free(b->words);
        b->words = n;
        b->cap = ncap;
    }
    size_t j = h & (b->cap - 1);
    while (b->words[j]) {
        if (b->words[j] == h)
            return;
        j = (j + 1) & (b->cap - 1);
    }
    b->words[j] = h;
    b->nwords++;
}

static void words_of(bfilter_builder_t *b, slice_t t, int json)
{
    size_t pos = 0, s, l;
    while (token_next(t.p, t.n, &pos, json, &s, &l))
        word_add(b, token_hash(t.p + s, l));
}

static void val_add(bfilter_builder_t *b, int s, slice_t v)
{
    if (b->nvals[s] == BF_UNKNOWN)
        return;
    char *p = b->vals[s].data;
    for (uint16_t i = 0; i < b->nvals[s]; i++) {
        size_t len = rd16(p);
        if (len == v.n && !memcmp(p + 2, v.p, v.n)) {
            wr32(p + 2 + len, rd32(p + 2 + len) + 1);
            return;
        }
        p += 2 + len + 4;
    }
    if (b->nvals[s] == BF_SET_MAX || b->vals[s].len + 6 + v.n > BF_SET_BYTES) {
        b->nvals[s] = BF_UNKNOWN;
        return;
    }
    uint16_t len = (uint16_t)v.n;
    uint32_t one = 1;
    buf_append(&b->vals[s], &len, 2);
    buf_append(&b->vals[s], v.p, v.n);
    buf_append(&b->vals[s], &one, 4);
    b->nvals[s]++;
}

void bfilter_add(bfilter_builder_t *b, const record_t *r)
{
    b->levels |= (uint8_t)(1u << (r->level & 7));
    b->level_counts[r->level & 7]++;
    val_add(b, 0, r->topic);
    val_add(b, 1, r->app);
    val_add(b, 2, r->host);
    words_of(b, r->msg, 0);
    words_of(b, r->fields, 1);
}

void bfilter_finish(bfilter_builder_t *b, buf_t *out)
{
    char head[BF_HEAD] = {BF_VERSION, (char)b->levels, 1 /* counted */, 0};
    for (int l = 0; l < 8; l++)
        wr32(head + 4 + 4 * l, b->level_counts[l]);
    buf_append(out, head, BF_HEAD);
    for (int s = 0; s < 3; s++) {
        uint16_t n = b->nvals[s];
        buf_append(out, &n, 2);
        if (n != BF_UNKNOWN)
            buf_append(out, b->vals[s].data, b->vals[s].len);
    }
    uint32_t bytes = 0;
    if (b->nwords) {
        uint64_t bits = (uint64_t)b->nwords * BF_BITS_PER_WORD;
        bytes = 64;
        while ((uint64_t)bytes * 8 < bits && bytes < BF_BLOOM_MAX)
            bytes *= 2;
    }
    buf_append(out, &bytes, 4);
    if (bytes) {
        uint8_t *bloom = (uint8_t *)buf_reserve(out, bytes);
        memset(bloom, 0, bytes);
        for (size_t i = 0; i < b->cap; i++)
            if (b->words[i])
                bloom_set(bloom, bytes, b->words[i]);
        out->len += bytes;
    }
    /* start over */
    b->levels = 0;
    memset(b->level_counts, 0, sizeof b->level_counts);
    for (int s = 0; s < 3; s++) {
        buf_reset(&b->vals[s]);
        b->nvals[s] = 0;
    }
    if (b->cap)
        memset(b->words, 0, b->cap * sizeof *b->words);
    b->nwords = 0;
}
