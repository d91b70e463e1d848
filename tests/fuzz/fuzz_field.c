/* fuzz_field.c - field filters: the glob matcher (src/route/glob.c) against
 * its plain reference (glob_ref.h), and the fields scanner
 * (src/route/jfield.c) against yajl's tree parser, on arbitrary bytes.
 *
 * Input: "PATTERN\nNAME\nTEXT". Checks:
 *   - a pattern that compiles matches TEXT (when it is valid UTF-8) exactly
 *     when the reference says so, read as plain bytes and read as the body
 *     of a JSON string json_str() wrote for it;
 *   - jfield_each() over TEXT as a fields object reports only values inside
 *     TEXT and, when yajl parses TEXT as JSON, exactly the values the tree
 *     holds under NAME (as a key, or by its dotted parts through objects),
 *     in order: strings decoded alike, numbers by their text, the rest by
 *     their kind;
 *   - filter_match() with field.NAME=PATTERN agrees with the two together. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "common/json_write.h"
#include "common/utf8.h"
#include "glob_ref.h"
#include "route/filter.h"
#include "route/glob.h"
#include "route/jfield.h"
#include "route/jstr.h"

#define MAX_TEXT 4096
#define MAX_VALS 64

typedef struct seen {
    const char *base;
    size_t size;
    size_t n;
    jfield_val_t v[MAX_VALS];
    int overflow;
} seen_t;

static int collect(void *arg, const jfield_val_t *v)
{
    seen_t *s = arg;
    if (v->p < s->base || v->n > s->size || v->p + v->n > s->base + s->size)
        abort(); /* outside the text */
    if (s->n == MAX_VALS) {
        s->overflow = 1;
        return 1;
    }
    s->v[s->n++] = *v;
    return 0;
}

/* The reference: the tree's values under name, in order. */
static void ref_values(yajl_val obj, const char *name, size_t nn, yajl_val *out, size_t *n)
{
    if (!YAJL_IS_OBJECT(obj))
        return;
    for (size_t i = 0; i < obj->u.object.len; i++) {
        const char *k = obj->u.object.keys[i];
        size_t kn = strlen(k);
        yajl_val v = obj->u.object.values[i];
        if (kn == nn && memcmp(k, name, nn) == 0) {
            if (*n < MAX_VALS * 2)
                out[(*n)++] = v;
        } else if (kn < nn && name[kn] == '.' && memcmp(k, name, kn) == 0 && YAJL_IS_OBJECT(v)) {
            ref_values(v, name + kn + 1, nn - kn - 1, out, n);
        }
    }
}

/* A "\uDxxx" escape: json_str() never writes one, and yajl turns lone
 * surrogates into '?' or CESU bytes where jstr.h says U+FFFD. */
static int has_surrogate_escape(const jfield_val_t *v)
{
    for (size_t i = 0; i + 2 < v->n; i++)
        if (v->p[i] == '\\' && v->p[i + 1] == 'u' && (v->p[i + 2] == 'd' || v->p[i + 2] == 'D'))
            return 1;
    return 0;
}

static void decode(const jfield_val_t *v, buf_t *out)
{
    const char *p = v->p, *end = v->p + v->n;
    unsigned char u[4];
    size_t m;
    buf_reset(out);
    while ((m = jstr_unit(&p, end, u)) > 0)
        buf_append(out, u, m);
}

static void check_glob(const char *pat, size_t pn, const char *text, size_t tn)
{
    glob_t g;
    const char *why;
    if (glob_compile(&g, pat, pn, &why))
        return;
    if (utf8_valid_prefix(text, tn) != tn)
        return;
    int want = glob_ref_match(pat, pn, text, tn);
    if (glob_match(&g, pat, text, tn) != want)
        abort();
    buf_t body = BUF_INIT;
    json_str_body(&body, text, tn);
    if (glob_match_json(&g, pat, body.data ? body.data : "", body.len) != want)
        abort();
    buf_free(&body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data, *end = s + size;
    const char *nl1 = memchr(s, '\n', size);
    if (!nl1)
        return 0;
    const char *name = nl1 + 1;
    const char *nl2 = memchr(name, '\n', (size_t)(end - name));
    if (!nl2)
        return 0;
    size_t pn = (size_t)(nl1 - s), nn = (size_t)(nl2 - name);
    const char *text = nl2 + 1;
    size_t tn = (size_t)(end - text);
    if (tn > MAX_TEXT || pn > 64)
        return 0; /* the reference is quadratic */

    check_glob(s, pn, text, tn);

    /* the scanner, on a copy of exactly the text (ASan sees any overread) */
    char *copy = malloc(tn + 1);
    if (!copy)
        abort();
    memcpy(copy, text, tn);
    copy[tn] = '\0';
    seen_t seen = {copy, tn, 0, {{0}}, 0};
    if (nn)
        jfield_each(copy, tn, name, nn, collect, &seen);

    /* against yajl, for what it reads as plain JSON (no comments, none of
     * the extra whitespace it takes, no NUL) */
    if (nn && !seen.overflow && !memchr(copy, '/', tn) && !memchr(copy, '\v', tn) &&
        !memchr(copy, '\f', tn) && strlen(copy) == tn) {
        char err[128];
        yajl_val tree = yajl_tree_parse(copy, err, sizeof err);
        if (tree && YAJL_IS_OBJECT(tree)) {
            yajl_val vals[MAX_VALS * 2];
            size_t nv = 0;
            ref_values(tree, name, nn, vals, &nv);
            if (nv != seen.n)
                abort();
            buf_t dec = BUF_INIT;
            for (size_t i = 0; i < nv; i++) {
                const jfield_val_t *v = &seen.v[i];
                yajl_val r = vals[i];
                if (YAJL_IS_STRING(r)) {
                    if (!v->is_str)
                        abort();
                    if (has_surrogate_escape(v))
                        continue; /* yajl decodes lone surrogates its own way */
                    decode(v, &dec);
                    if (dec.len && memchr(dec.data, 0, dec.len))
                        continue; /* the tree's strings end at a NUL */
                    const char *rs = YAJL_GET_STRING(r);
                    if (dec.len != strlen(rs) || (dec.len && memcmp(dec.data, rs, dec.len)))
                        abort();
                } else if (YAJL_IS_NUMBER(r)) {
                    const char *rs = YAJL_GET_NUMBER(r);
                    if (v->is_str || v->n != strlen(rs) || memcmp(v->p, rs, v->n))
                        abort();
                } else if (YAJL_IS_OBJECT(r) || YAJL_IS_ARRAY(r)) {
                    if (v->is_str || v->p[0] != (YAJL_IS_OBJECT(r) ? '{' : '[') ||
                        v->p[v->n - 1] != (YAJL_IS_OBJECT(r) ? '}' : ']'))
                        abort();
                } else {
                    const char *lit = YAJL_IS_TRUE(r)    ? "true"
                                      : YAJL_IS_FALSE(r) ? "false"
                                                         : "null";
                    if (v->is_str || v->n != strlen(lit) || memcmp(v->p, lit, v->n))
                        abort();
                }
            }
            buf_free(&dec);
        }
        yajl_tree_free(tree);
    }

    /* the whole filter: field.NAME=PATTERN passes when some value matches */
    filter_t f;
    const char *ferr;
    buf_t key = BUF_INIT;
    buf_puts(&key, "field.");
    buf_append(&key, name, nn);
    filter_init(&f);
    if (!seen.overflow &&
        filter_set(&f, slice_make(key.data, key.len), slice_make(s, pn), &ferr) == 0) {
        glob_t g;
        const char *why;
        if (glob_compile(&g, s, pn, &why))
            abort(); /* the filter took a pattern glob_compile refuses */
        int want = 0;
        for (size_t i = 0; i < seen.n && !want; i++)
            want = seen.v[i].is_str ? glob_match_json(&g, s, seen.v[i].p, seen.v[i].n)
                                    : glob_match(&g, s, seen.v[i].p, seen.v[i].n);
        record_t r;
        memset(&r, 0, sizeof r);
        r.fields = slice_make(copy, tn);
        if (filter_match(&f, &r) != want)
            abort();
    }
    buf_free(&key);
    free(copy);
    return 0;
}
