/* form_parse.c - urlencoded form decoding: see form_parse.h. */
#include "form_parse.h"

#include <stdlib.h>

void form_reset(form_t *f)
{
    buf_reset(&f->bytes);
    f->n = 0;
}

void form_free(form_t *f)
{
    buf_free(&f->bytes);
    free(f->pairs);
    f->pairs = NULL;
    f->n = f->cap = 0;
}

static form_pair_t *new_pair(form_t *f)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 32;
        f->pairs = xrealloc(f->pairs, f->cap * sizeof *f->pairs);
    }
    return &f->pairs[f->n++];
}

void form_add(form_t *f, const char *k, size_t kn, const char *v, size_t vn)
{
    form_pair_t *p = new_pair(f);
    p->ko = f->bytes.len;
    p->kn = kn;
    buf_append(&f->bytes, k, kn);
    p->vo = f->bytes.len;
    p->vn = vn;
    buf_append(&f->bytes, v, vn);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[i..end) into f->bytes. */
static int decode(form_t *f, const char *s, size_t i, size_t end, const char **err, size_t *err_at)
{
    char *dst = buf_reserve(&f->bytes, end - i);
    size_t o = 0;
    while (i < end) {
        /* copy the run of plain bytes at once */
        size_t j = i;
        while (j < end && s[j] != '%' && s[j] != '+')
            j++;
        memcpy(dst + o, s + i, j - i);
        o += j - i;
        i = j;
        if (i >= end)
            break;
        if (s[i] == '+') {
            dst[o++] = ' ';
            i++;
            continue;
        }
        int h1 = i + 1 < end ? hexval(s[i + 1]) : -1;
        int h2 = i + 2 < end ? hexval(s[i + 2]) : -1;
        if (h1 < 0 || h2 < 0) {
            *err = "invalid percent-escape (expected %XX with two hex digits)";
            *err_at = i;
            return -1;
        }
        dst[o++] = (char)(h1 << 4 | h2);
        i += 3;
    }
    f->bytes.len += o;
    return 0;
}

int form_parse(form_t *f, const char *s, size_t n, const char **err, size_t *err_at)
{
    size_t i = 0;
    while (i < n) {
        const char *amp = memchr(s + i, '&', n - i);
        size_t end = amp ? (size_t)(amp - s) : n;
        if (end > i) {
            const char *eq = memchr(s + i, '=', end - i);
            size_t kend = eq ? (size_t)(eq - s) : end;
            form_pair_t *p = new_pair(f);
            p->ko = f->bytes.len;
            if (decode(f, s, i, kend, err, err_at)) {
                f->n--;
                return -1;
            }
            p->kn = f->bytes.len - p->ko;
            p->vo = f->bytes.len;
            if (eq && decode(f, s, kend + 1, end, err, err_at)) {
                f->n--;
                return -1;
            }
            p->vn = f->bytes.len - p->vo;
        }
        i = end + 1;
    }
    return 0;
}

int form_get(const form_t *f, const char *key, slice_t *val)
{
    for (size_t i = f->n; i-- > 0;) {
        if (slice_eq(form_key(f, i), key)) {
            *val = form_val(f, i);
            return 1;
        }
    }
    return 0;
}
