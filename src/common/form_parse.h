/* form_parse.h - application/x-www-form-urlencoded decoding (pure).
 *
 * "a=1&b=x+y%21" becomes the pairs (a, 1) and (b, "x y!"). '+' is a space,
 * %XX a byte; a '%' not followed by two hex digits is an error. Pairs without
 * '=' have an empty value; empty pairs ("a=1&&b=2") are skipped.
 */
#ifndef LOGSHIP_FORM_PARSE_H
#define LOGSHIP_FORM_PARSE_H

#include "buf.h"

typedef struct form_pair {
    size_t ko, kn, vo, vn; /* offsets into form_t.bytes */
} form_pair_t;

typedef struct form {
    buf_t bytes; /* decoded keys and values */
    form_pair_t *pairs;
    size_t n, cap;
} form_t;

void form_reset(form_t *f);
void form_free(form_t *f);

/* Decodes s[0..n) and adds its pairs to f. Returns 0, or -1 with *err set
 * to a static reason and *err_at to the byte offset of the problem. */
int form_parse(form_t *f, const char *s, size_t n, const char **err, size_t *err_at);
/* Adds one already-decoded pair. */
void form_add(form_t *f, const char *k, size_t kn, const char *v, size_t vn);

static inline slice_t form_key(const form_t *f, size_t i)
{
    return slice_make(f->bytes.data + f->pairs[i].ko, f->pairs[i].kn);
}
static inline slice_t form_val(const form_t *f, size_t i)
{
    return slice_make(f->bytes.data + f->pairs[i].vo, f->pairs[i].vn);
}
/* Value of the last pair named key; 1 if found, else 0. */
int form_get(const form_t *f, const char *key, slice_t *val);

#endif
