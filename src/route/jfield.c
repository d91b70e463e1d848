/* jfield.c - field lookup in a fields JSON text: see jfield.h. */
#include "jfield.h"

#include <string.h>

#include "jstr.h"

enum { KEY_OTHER, KEY_NAME, KEY_PART };

static inline const char *ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p at an opening quote: the position after the closing one, or NULL when
 * the string does not end; *esc is set when it holds a backslash. */
static const char *str_end(const char *p, const char *e, int *esc)
{
    p++;
    while (p < e) {
        const char *q = p;
        while (q < e && *q != '"' && *q != '\\')
            q++;
        if (q >= e)
            return NULL;
        if (*q == '"')
            return q + 1;
        *esc = 1;
        if (e - q < 2)
            return NULL;
        p = q + 2;
    }
    return NULL;
}

/* p at the start of a value: the position after it, or NULL. Objects and
 * arrays are skipped by counting brackets (strings inside them skipped
 * whole); no recursion. */
static const char *value_end(const char *p, const char *e)
{
    int esc = 0;
    if (*p == '"')
        return str_end(p, e, &esc);
    if (*p == '{' || *p == '[') {
        size_t depth = 0;
        while (p < e) {
            char c = *p;
            if (c == '"') {
                p = str_end(p, e, &esc);
                if (!p)
                    return NULL;
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if ((c == '}' || c == ']') && --depth == 0)
                return p + 1;
            p++;
        }
        return NULL;
    }
    const char *s = p;
    while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' && *p != '\n' &&
           *p != '\r')
        p++;
    return p > s ? p : NULL;
}

/* Compares the key body k[0..kn) with name: KEY_NAME when it is name,
 * KEY_PART when it is name up to a dot (*part: the bytes before the dot),
 * KEY_OTHER otherwise. */
static int key_cmp(const char *k, size_t kn, int esc, const char *name, size_t nn, size_t *part)
{
    if (!esc) {
        if (kn == nn)
            return memcmp(k, name, kn) == 0 ? KEY_NAME : KEY_OTHER;
        if (kn < nn && name[kn] == '.' && memcmp(k, name, kn) == 0) {
            *part = kn;
            return KEY_PART;
        }
        return KEY_OTHER;
    }
    const char *p = k, *end = k + kn;
    unsigned char u[4];
    size_t i = 0, m;
    while ((m = jstr_unit(&p, end, u)) > 0) {
        if (m > nn - i || memcmp(u, name + i, m) != 0)
            return KEY_OTHER;
        i += m;
    }
    if (i == nn)
        return KEY_NAME;
    if (name[i] == '.') {
        *part = i;
        return KEY_PART;
    }
    return KEY_OTHER;
}

/* Walks the object at p, reporting name's values; *after is set past its
 * closing brace, *bad on malformed text. */
static int walk(const char *p, const char *e, const char *name, size_t nn, jfield_fn fn, void *arg,
                const char **after, int *bad)
{
    p = ws(p, e);
    if (p >= e || *p != '{')
        goto bad;
    p = ws(p + 1, e);
    if (p < e && *p == '}') {
        *after = p + 1;
        return 0;
    }
    for (;;) {
        if (p >= e || *p != '"')
            goto bad;
        int esc = 0;
        const char *ks = p + 1, *kend = str_end(p, e, &esc);
        if (!kend)
            goto bad;
        size_t part = 0;
        int how = key_cmp(ks, (size_t)(kend - 1 - ks), esc, name, nn, &part);
        p = ws(kend, e);
        if (p >= e || *p != ':')
            goto bad;
        p = ws(p + 1, e);
        if (p >= e)
            goto bad;
        if (how == KEY_PART && *p == '{') {
            /* step in: the rest of the name inside this object */
            int rc = walk(p, e, name + part + 1, nn - part - 1, fn, arg, &p, bad);
            if (rc || *bad)
                return rc;
        } else {
            const char *v = p;
            p = value_end(v, e);
            if (!p)
                goto bad;
            if (how == KEY_NAME) {
                jfield_val_t val;
                val.is_str = *v == '"';
                val.p = val.is_str ? v + 1 : v;
                val.n = (size_t)(p - v) - (val.is_str ? 2 : 0);
                int rc = fn(arg, &val);
                if (rc)
                    return rc;
            }
        }
        p = ws(p, e);
        if (p < e && *p == ',') {
            p = ws(p + 1, e);
            continue;
        }
        if (p < e && *p == '}') {
            *after = p + 1;
            return 0;
        }
        goto bad;
    }
bad:
    *bad = 1;
    return 0;
}

int jfield_each(const char *json, size_t n, const char *name, size_t nn, jfield_fn fn, void *arg)
{
    const char *after;
    int bad = 0;
    if (!n)
        return 0;
    return walk(json, json + n, name, nn, fn, arg, &after, &bad);
}
