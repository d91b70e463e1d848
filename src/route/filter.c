/* filter.c - record filters for queries and tails: see filter.h. */
#define _GNU_SOURCE /* memmem */
#include "filter.h"

#include <string.h>

#include "../common/level.h"
#include "../common/timeutil.h"
#include "../common/token.h"
#include "jfield.h"
#include "regex.h"

void filter_init(filter_t *f)
{
    memset(f, 0, sizeof *f);
    f->min_level = 7;
    f->since = INT64_MIN;
    f->until = INT64_MAX;
}

/* ---- qi: ASCII case-insensitive substring ------------------------------------ */

static const uint8_t fold_tab[256] = {
#define R16(b)                                                                                     \
    (b), (b) + 1, (b) + 2, (b) + 3, (b) + 4, (b) + 5, (b) + 6, (b) + 7, (b) + 8, (b) + 9,          \
        (b) + 10, (b) + 11, (b) + 12, (b) + 13, (b) + 14, (b) + 15
    R16(0x00),
    R16(0x10),
    R16(0x20),
    R16(0x30),
    /* 'A'..'Z' -> 'a'..'z' */
    0x40,
    'a',
    'b',
    'c',
    'd',
    'e',
    'f',
    'g',
    'h',
    'i',
    'j',
    'k',
    'l',
    'm',
    'n',
    'o',
    'p',
    'q',
    'r',
    's',
    't',
    'u',
    'v',
    'w',
    'x',
    'y',
    'z',
    0x5B,
    0x5C,
    0x5D,
    0x5E,
    0x5F,
    R16(0x60),
    R16(0x70),
    R16(0x80),
    R16(0x90),
    R16(0xA0),
    R16(0xB0),
    R16(0xC0),
    R16(0xD0),
    R16(0xE0),
    R16(0xF0),
#undef R16
};

#define FOLD(c) fold_tab[(unsigned char)(c)]

static void qi_compile(filter_t *f)
{
    size_t m = f->qi.n;
    uint8_t dflt = m > 255 ? 255 : (uint8_t)m;
    memset(f->qi_skip, dflt, sizeof f->qi_skip);
    for (size_t i = 0; i + 1 < m; i++) {
        size_t shift = m - 1 - i;
        f->qi_skip[FOLD(f->qi.p[i])] = shift > 255 ? 255 : (uint8_t)shift;
    }
}

/* Horspool: compare the window's last byte first, shift by the table. A
 * shift capped at 255 is never more than the true one, so still safe. */
static int qi_find(const filter_t *f, const char *h, size_t hn)
{
    const char *nd = f->qi.p;
    size_t m = f->qi.n;
    if (m > hn)
        return 0;
    size_t last = m - 1;
    uint8_t nl = FOLD(nd[last]);
    for (size_t i = 0; i + m <= hn;) {
        uint8_t c = FOLD(h[i + last]);
        if (c == nl) {
            size_t j = 0;
            while (j < last && FOLD(h[i + j]) == FOLD(nd[j]))
                j++;
            if (j == last)
                return 1;
        }
        i += f->qi_skip[c];
    }
    return 0;
}

/* ---- fields ------------------------------------------------------------------- */

typedef struct field_try {
    const filter_t *f;
    size_t lead;
} field_try_t;

static int field_value(void *arg, const jfield_val_t *v)
{
    const field_try_t *t = arg;
    const filter_t *f = t->f;
    for (size_t i = t->lead; i < f->nfields; i++) {
        const filter_field_t *c = &f->fields[i];
        if (c->lead != t->lead)
            continue;
        if (v->is_str ? glob_match_json(&c->g, c->value.p, v->p, v->n)
                      : glob_match(&c->g, c->value.p, v->p, v->n))
            return 1;
    }
    return 0;
}

static int fields_match(const filter_t *f, const record_t *r)
{
    for (size_t i = 0; i < f->nfields; i++) {
        const filter_field_t *c = &f->fields[i];
        if (c->lead != i)
            continue; /* tried with its group's first */
        field_try_t t = {f, i};
        if (!jfield_each(r->fields.p, r->fields.n, c->name.p, c->name.n, field_value, &t))
            return 0;
    }
    return 1;
}

static int not_field_value(void *arg, const jfield_val_t *v)
{
    const filter_field_t *c = arg;
    return v->is_str ? glob_match_json(&c->g, c->value.p, v->p, v->n)
                     : glob_match(&c->g, c->value.p, v->p, v->n);
}

/* 1 when some not.field= condition holds a matching value: r fails. */
static int not_fields_hit(const filter_t *f, const record_t *r)
{
    for (size_t i = 0; i < f->nnot_fields; i++) {
        const filter_field_t *c = &f->not_fields[i];
        if (jfield_each(r->fields.p, r->fields.n, c->name.p, c->name.n, not_field_value, (void *)c))
            return 1;
    }
    return 0;
}

static int globs_match(const glob_t *g, const slice_t *texts, size_t n, slice_t s)
{
    for (size_t i = 0; i < n; i++)
        if (glob_match(&g[i], texts[i].p, s.p, s.n))
            return 1;
    return 0;
}

/* Every word of w is a word of r's message or fields. */
static int words_match(slice_t w, const record_t *r)
{
    size_t pos = 0, s, l;
    while (token_next(w.p, w.n, &pos, 0, &s, &l))
        if (!token_contains(r->msg.p, r->msg.n, 0, w.p + s, l) &&
            !token_contains(r->fields.p, r->fields.n, 1, w.p + s, l))
            return 0;
    return 1;
}

/* Everything but the topics. */
static int match_rest(const filter_t *f, const record_t *r)
{
    if (f->napps && !globs_match(f->app_g, f->apps, f->napps, r->app))
        return 0;
    if (f->nhosts && !globs_match(f->host_g, f->hosts, f->nhosts, r->host))
        return 0;
    if (f->nnot_apps && globs_match(f->not_app_g, f->not_apps, f->nnot_apps, r->app))
        return 0;
    if (f->nnot_hosts && globs_match(f->not_host_g, f->not_hosts, f->nnot_hosts, r->host))
        return 0;
    if (f->q.n && !memmem(r->msg.p, r->msg.n, f->q.p, f->q.n))
        return 0;
    if (f->qi.n && !qi_find(f, r->msg.p, r->msg.n))
        return 0;
    for (size_t i = 0; i < f->nwords; i++)
        if (!words_match(f->words[i], r))
            return 0;
    if (f->nfields && !fields_match(f, r))
        return 0;
    if (f->nnot_fields && not_fields_hit(f, r))
        return 0;
    if (f->re && !regex_match(f->re, r->msg.p, r->msg.n))
        return 0;
    return 1;
}

int filter_match(const filter_t *f, const record_t *r)
{
    if ((f->after && r->seq <= f->after) || (f->before && r->seq >= f->before))
        return 0;
    if (r->level > f->min_level || r->ts < f->since || r->ts > f->until)
        return 0;
    if (f->not_levels && r->level <= 7 && (f->not_levels & (1u << r->level)))
        return 0;
    if (f->ntopics && !topic_match_any(f->pats, f->topics, f->ntopics, r->topic.p, r->topic.n))
        return 0;
    if (f->limited && !topic_set_match(&f->limit, r->topic.p, r->topic.n))
        return 0;
    if (f->nnot_topics &&
        topic_match_any(f->not_pats, f->not_topics, f->nnot_topics, r->topic.p, r->topic.n))
        return 0;
    return match_rest(f, r);
}

void filter_set_re(filter_t *f, const struct regex *re, slice_t text)
{
    f->re = re;
    f->re_text = text;
}

void filter_limit(filter_t *f, const topic_set_t *s)
{
    f->limit = *s;
    f->limited = 1;
}

/* ---- parameters ---------------------------------------------------------------- */

static int add_glob(slice_t *texts, glob_t *g, size_t *n, slice_t v, const char *full,
                    const char *bad_len, const char *bad_utf8, const char **err)
{
    const char *why;
    if (*n == FILTER_MAX_GLOBS) {
        *err = full;
        return -1;
    }
    if (glob_compile(&g[*n], v.p, v.n, &why)) {
        *err = v.n > GLOB_MAX_BYTES ? bad_len : bad_utf8;
        return -1;
    }
    texts[(*n)++] = v;
    return 0;
}

static int add_field(filter_t *f, slice_t name, slice_t v, const char **err)
{
    const char *why;
    if (!name.n) {
        *err = "bad field: use field.NAME=VALUE with a NAME (user.id, status)";
        return -1;
    }
    if (name.n > FILTER_FIELD_NAME_MAX) {
        *err = "bad field: a field NAME is at most 255 bytes";
        return -1;
    }
    if (f->nfields == FILTER_MAX_FIELDS) {
        *err = "too many field conditions (at most 16)";
        return -1;
    }
    filter_field_t *c = &f->fields[f->nfields];
    if (glob_compile(&c->g, v.p, v.n, &why)) {
        *err = v.n > GLOB_MAX_BYTES ? "bad field value: a pattern is at most 255 bytes"
                                    : "bad field value: not valid UTF-8";
        return -1;
    }
    c->name = name;
    c->value = v;
    c->lead = (uint8_t)f->nfields;
    for (size_t i = 0; i < f->nfields; i++) {
        if (f->fields[i].name.n == name.n && memcmp(f->fields[i].name.p, name.p, name.n) == 0) {
            c->lead = f->fields[i].lead;
            break;
        }
    }
    f->nfields++;
    return 0;
}

/* not.level=L[,L...]: exact level names (or aliases), each one excluded. */
static int add_not_levels(filter_t *f, slice_t v, const char **err)
{
    const char *p = v.p, *end = v.p + v.n;
    do {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        int lv = level_parse(p, (size_t)(stop - p));
        if (lv < 0) {
            *err = "bad not.level: use level names (emerg, alert, crit, error, warning, notice, "
                   "info, debug), separated by commas";
            return -1;
        }
        f->not_levels |= (uint8_t)(1u << lv);
        p = comma ? comma + 1 : end;
    } while (p < end);
    return 0;
}

/* not.topic=P: a pattern no record may match. */
static int add_not_topic(filter_t *f, slice_t v, const char **err)
{
    if (topic_pattern_check(v.p, v.n, err))
        return -1;
    if (f->nnot_topics == FILTER_MAX_TOPICS) {
        *err = "too many not.topic patterns (at most 16)";
        return -1;
    }
    if (topic_compile(&f->not_pats[f->nnot_topics], v.p, v.n, err))
        return -1;
    f->not_topics[f->nnot_topics++] = v;
    return 0;
}

/* not.field.NAME=G */
static int add_not_field(filter_t *f, slice_t name, slice_t v, const char **err)
{
    const char *why;
    if (!name.n) {
        *err = "bad not.field: use not.field.NAME=VALUE with a NAME";
        return -1;
    }
    if (name.n > FILTER_FIELD_NAME_MAX) {
        *err = "bad not.field: a field NAME is at most 255 bytes";
        return -1;
    }
    if (f->nnot_fields == FILTER_MAX_FIELDS) {
        *err = "too many not.field conditions (at most 16)";
        return -1;
    }
    filter_field_t *c = &f->not_fields[f->nnot_fields];
    if (glob_compile(&c->g, v.p, v.n, &why)) {
        *err = v.n > GLOB_MAX_BYTES ? "bad not.field value: a pattern is at most 255 bytes"
                                    : "bad not.field value: not valid UTF-8";
        return -1;
    }
    c->name = name;
    c->value = v;
    c->lead = 0;
    f->nnot_fields++;
    return 0;
}

int filter_set(filter_t *f, slice_t key, slice_t v, const char **err)
{
    if (key.n >= 10 && memcmp(key.p, "not.field.", 10) == 0)
        return add_not_field(f, slice_make(key.p + 10, key.n - 10), v, err);
    if (slice_eq(key, "not.topic"))
        return add_not_topic(f, v, err);
    if (slice_eq(key, "not.app"))
        return add_glob(
            f->not_apps, f->not_app_g, &f->nnot_apps, v, "too many not.app patterns (at most 16)",
            "bad not.app: a pattern is at most 255 bytes", "bad not.app: not valid UTF-8", err);
    if (slice_eq(key, "not.host"))
        return add_glob(f->not_hosts, f->not_host_g, &f->nnot_hosts, v,
                        "too many not.host patterns (at most 16)",
                        "bad not.host: a pattern is at most 255 bytes",
                        "bad not.host: not valid UTF-8", err);
    if (slice_eq(key, "not.level"))
        return add_not_levels(f, v, err);
    if (slice_eq(key, "topic")) {
        if (topic_pattern_check(v.p, v.n, err))
            return -1;
        if (f->ntopics == FILTER_MAX_TOPICS) {
            *err = "too many topic patterns (at most 16)";
            return -1;
        }
        if (topic_compile(&f->pats[f->ntopics], v.p, v.n, err))
            return -1; /* never once checked */
        f->topics[f->ntopics++] = v;
        return 0;
    }
    if (slice_eq(key, "app"))
        return add_glob(f->apps, f->app_g, &f->napps, v, "too many app patterns (at most 16)",
                        "bad app: a pattern is at most 255 bytes", "bad app: not valid UTF-8", err);
    if (slice_eq(key, "host"))
        return add_glob(f->hosts, f->host_g, &f->nhosts, v, "too many host patterns (at most 16)",
                        "bad host: a pattern is at most 255 bytes", "bad host: not valid UTF-8",
                        err);
    if (key.n >= 6 && memcmp(key.p, "field.", 6) == 0)
        return add_field(f, slice_make(key.p + 6, key.n - 6), v, err);
    if (slice_eq(key, "level")) {
        int lv = level_parse(v.p, v.n);
        if (lv < 0) {
            *err = "unknown level (use emerg, alert, crit, error, warning, notice, info, debug)";
            return -1;
        }
        f->min_level = lv;
        return 0;
    }
    if (slice_eq(key, "q")) {
        f->q = v;
        return 0;
    }
    if (slice_eq(key, "word")) {
        size_t pos = 0, st, l;
        if (!token_next(v.p, v.n, &pos, 0, &st, &l)) {
            *err = "bad word: no word in it (letters, digits, '_')";
            return -1;
        }
        if (f->nwords == FILTER_MAX_WORDS) {
            *err = "too many word conditions (at most 16)";
            return -1;
        }
        f->words[f->nwords++] = v;
        return 0;
    }
    if (slice_eq(key, "qi")) {
        f->qi = v;
        qi_compile(f);
        return 0;
    }
    if (slice_eq(key, "since") || slice_eq(key, "until")) {
        int64_t ns;
        if (time_parse_when(v.p, v.n, time_now_ns(), &ns)) {
            *err = key.p[0] == 's' ? "bad since: use " TIME_FORMS : "bad until: use " TIME_FORMS;
            return -1;
        }
        if (key.p[0] == 's')
            f->since = ns;
        else
            f->until = ns;
        return 0;
    }
    if (slice_eq(key, "after") || slice_eq(key, "before")) {
        uint64_t a = 0;
        int after = key.p[0] == 'a';
        const char *bad =
            after ? "bad after: expected a seq number" : "bad before: expected a seq number";
        if (!v.n || v.n > 19) {
            *err = bad;
            return -1;
        }
        for (size_t i = 0; i < v.n; i++) {
            if (v.p[i] < '0' || v.p[i] > '9') {
                *err = bad;
                return -1;
            }
            a = a * 10 + (uint64_t)(v.p[i] - '0');
        }
        if (after)
            f->after = a;
        else if (a == 0) {
            /* no seq is below 1; before=0 would otherwise mean "no bound" */
            *err = "bad before: seqs start at 1, so before must be at least 1";
            return -1;
        } else
            f->before = a;
        return 0;
    }
    return 1;
}

/* ---- owning and naming ---------------------------------------------------------- */

size_t filter_strings_size(const filter_t *f)
{
    size_t n = f->q.n + f->qi.n;
    for (size_t i = 0; i < f->ntopics; i++)
        n += f->topics[i].n;
    for (size_t i = 0; i < f->napps; i++)
        n += f->apps[i].n;
    for (size_t i = 0; i < f->nhosts; i++)
        n += f->hosts[i].n;
    for (size_t i = 0; i < f->nnot_topics; i++)
        n += f->not_topics[i].n;
    for (size_t i = 0; i < f->nnot_apps; i++)
        n += f->not_apps[i].n;
    for (size_t i = 0; i < f->nnot_hosts; i++)
        n += f->not_hosts[i].n;
    for (size_t i = 0; i < f->nfields; i++)
        n += f->fields[i].name.n + f->fields[i].value.n;
    for (size_t i = 0; i < f->nnot_fields; i++)
        n += f->not_fields[i].name.n + f->not_fields[i].value.n;
    for (size_t i = 0; f->limited && i < f->limit.n; i++)
        n += f->limit.texts[i].n;
    for (size_t i = 0; i < f->nwords; i++)
        n += f->words[i].n;
    return n + f->re_text.n;
}

static void own(buf_t *b, slice_t *s)
{
    if (!s->n)
        return;
    char *dst = b->data + b->len;
    memcpy(dst, s->p, s->n); /* room reserved by filter_own: b never moves */
    b->len += s->n;
    s->p = dst;
}

void filter_own(filter_t *f, buf_t *b)
{
    buf_reserve(b, filter_strings_size(f) + 1);
    for (size_t i = 0; i < f->ntopics; i++)
        own(b, &f->topics[i]);
    for (size_t i = 0; i < f->napps; i++)
        own(b, &f->apps[i]);
    for (size_t i = 0; i < f->nhosts; i++)
        own(b, &f->hosts[i]);
    for (size_t i = 0; i < f->nnot_topics; i++)
        own(b, &f->not_topics[i]);
    for (size_t i = 0; i < f->nnot_apps; i++)
        own(b, &f->not_apps[i]);
    for (size_t i = 0; i < f->nnot_hosts; i++)
        own(b, &f->not_hosts[i]);
    for (size_t i = 0; i < f->nfields; i++) {
        own(b, &f->fields[i].name);
        own(b, &f->fields[i].value);
    }
    for (size_t i = 0; i < f->nnot_fields; i++) {
        own(b, &f->not_fields[i].name);
        own(b, &f->not_fields[i].value);
    }
    own(b, &f->q);
    own(b, &f->qi);
    for (size_t i = 0; f->limited && i < f->limit.n; i++)
        own(b, &f->limit.texts[i]);
    for (size_t i = 0; i < f->nwords; i++)
        own(b, &f->words[i]);
    own(b, &f->re_text);
}

/* One part of a key: a tag, the length, the bytes; no two different
 * sequences of parts read the same. */
static void key_part(buf_t *out, char tag, slice_t s)
{
    buf_putc(out, tag);
    buf_append_u64(out, s.n);
    buf_putc(out, ':');
    buf_append(out, s.p, s.n);
}

static int slice_cmp(slice_t a, slice_t c)
{
    size_t m = a.n < c.n ? a.n : c.n;
    int cmp = m ? memcmp(a.p, c.p, m) : 0;
    return cmp ? cmp : (a.n > c.n) - (a.n < c.n);
}

/* Patterns in a canonical order (an insertion sort of a handful), each a
 * part tagged tag. */
static void key_patterns(buf_t *out, char tag, const slice_t *texts, size_t n)
{
    size_t order[FILTER_MAX_TOPICS > TOPIC_SET_MAX ? FILTER_MAX_TOPICS : TOPIC_SET_MAX];
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && slice_cmp(texts[order[j - 1]], texts[i]) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (size_t i = 0; i < n; i++)
        key_part(out, tag, texts[order[i]]);
}

void filter_key(const filter_t *f, buf_t *out)
{
    key_patterns(out, 't', f->topics, f->ntopics);
    if (f->limited) {
        /* an empty limit (nothing passes) differs from none */
        buf_putc(out, 'L');
        key_patterns(out, 'T', f->limit.texts, f->limit.n);
    }
    for (size_t i = 0; i < f->napps; i++)
        key_part(out, 'a', f->apps[i]);
    for (size_t i = 0; i < f->nhosts; i++)
        key_part(out, 'h', f->hosts[i]);
    key_patterns(out, 'u', f->not_topics, f->nnot_topics);
    for (size_t i = 0; i < f->nnot_apps; i++)
        key_part(out, 'A', f->not_apps[i]);
    for (size_t i = 0; i < f->nnot_hosts; i++)
        key_part(out, 'H', f->not_hosts[i]);
    if (f->not_levels)
        buf_printf(out, "n%u", (unsigned)f->not_levels);
    for (size_t i = 0; i < f->nfields; i++) {
        key_part(out, 'f', f->fields[i].name);
        key_part(out, '=', f->fields[i].value);
    }
    for (size_t i = 0; i < f->nnot_fields; i++) {
        key_part(out, 'F', f->not_fields[i].name);
        key_part(out, '!', f->not_fields[i].value);
    }
    buf_printf(out, "l%d", f->min_level);
    key_part(out, 'q', f->q);
    key_part(out, 'i', f->qi);
    for (size_t i = 0; i < f->nwords; i++)
        key_part(out, 'w', f->words[i]);
    if (f->re)
        key_part(out, 'r', f->re_text);
}

/* ---- hints ------------------------------------------------------------------------ */

size_t filter_hint_init(filter_hint_t *h, const filter_t *f)
{
    h->alt = *f;
    h->alt.ntopics = 0;
    h->hit = 0;
    for (size_t i = 0; i < f->ntopics; i++) {
        slice_t t = f->topics[i];
        const char *why;
        if (memchr(t.p, '*', t.n) || memchr(t.p, '#', t.n) || t.n + 2 > TOPIC_PATTERN_MAX_BYTES)
            continue;
        size_t k = h->alt.ntopics;
        memcpy(h->text[k], t.p, t.n);
        memcpy(h->text[k] + t.n, ".#", 2);
        if (topic_compile(&h->alt.pats[k], h->text[k], t.n + 2, &why))
            continue; /* more than 32 words with ".#" */
        h->alt.topics[k] = slice_make(h->text[k], t.n + 2);
        h->from[k] = (uint8_t)i;
        h->alt.ntopics++;
    }
    return h->alt.ntopics;
}

int filter_hint_feed(filter_hint_t *h, const record_t *r)
{
    const filter_t *a = &h->alt;
    uint32_t all = (1u << a->ntopics) - 1;
    if (!a->ntopics || !filter_match(a, r))
        return h->hit == all;
    for (size_t i = 0; i < a->ntopics; i++)
        if (!(h->hit & (1u << i)) &&
            topic_match_any(&a->pats[i], &a->topics[i], 1, r->topic.p, r->topic.n))
            h->hit |= 1u << i;
    return h->hit == all;
}

static void ascii(buf_t *out, slice_t s)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            buf_putc(out, (char)c);
        } else if (c == '\\') {
            buf_puts(out, "\\\\");
        } else {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            buf_append(out, e, 4);
        }
    }
}

size_t filter_hint_text(const filter_hint_t *h, const filter_t *f, buf_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < h->alt.ntopics; i++) {
        if (!(h->hit & (1u << i)))
            continue;
        slice_t t = f->topics[h->from[i]];
        if (n++)
            buf_puts(out, "; ");
        buf_puts(out, "topic '");
        ascii(out, t);
        buf_puts(out, "' has no wildcard: did you mean '");
        ascii(out, t);
        buf_puts(out, ".#'?");
    }
    return n;
}
