/* jdom.c - JSON into a flat node array on yajl's event parser: see jdom.h.
 *
 * yajl validates and decodes escapes; each event appends one node. A
 * container's end is filled in when it closes. After an error the handle
 * is replaced (errors are the rare path). */
#include "jdom.h"

#include <stdio.h>
#include <stdlib.h>
#include <yajl/yajl_parse.h>

#include "../../common/json_write.h"

/* Text beyond this cannot be addressed by a node's 32-bit offsets. */
#define TEXT_MAX (UINT32_MAX - 1)

static void fail(jdom_t *d, const char *msg)
{
    if (!d->err[0])
        snprintf(d->err, sizeof d->err, "%s", msg);
}

/* Appends a node; for text types copies s. Returns 1, or 0 to stop. */
static int add(jdom_t *d, int type, const char *s, size_t n)
{
    if (d->depth == 0 && ++d->values > 1) {
        fail(d, "more than one JSON value");
        return 0;
    }
    if (d->n >= UINT32_MAX - 1 || d->text.len + n > TEXT_MAX) {
        fail(d, "JSON document too large");
        return 0;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 256;
        d->nodes = xrealloc(d->nodes, d->cap * sizeof *d->nodes);
    }
    jnode_t *j = &d->nodes[d->n];
    j->type = (uint8_t)type;
    j->len = (uint32_t)n;
    j->end = (uint32_t)(d->n + 1);
    if (n && s >= d->in && (size_t)(s - d->in) <= d->in_n - n) {
        /* undecoded text that yajl passed from the input: not copied */
        j->in = 1;
        j->off = (uint32_t)(s - d->in);
    } else {
        j->in = 0;
        j->off = (uint32_t)d->text.len;
        if (n)
            buf_append(&d->text, s, n);
    }
    /* the container this value belongs to counts it (a key counts the pair) */
    if (d->depth && type != J_KEY) {
        jnode_t *c = &d->nodes[d->open[d->depth]];
        if (c->type == J_ARR)
            c->len++;
    } else if (d->depth && type == J_KEY) {
        d->nodes[d->open[d->depth]].len++;
    }
    d->n++;
    return 1;
}

static int on_null(void *ctx)
{
    return add(ctx, J_NULL, NULL, 0);
}

static int on_boolean(void *ctx, int v)
{
    return add(ctx, v ? J_TRUE : J_FALSE, NULL, 0);
}

static int on_number(void *ctx, const char *s, size_t n)
{
    return add(ctx, J_NUM, s, n);
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
    return add(ctx, J_STR, (const char *)s, n);
}

static int on_key(void *ctx, const unsigned char *s, size_t n)
{
    return add(ctx, J_KEY, (const char *)s, n);
}

static int open_container(jdom_t *d, int type)
{
    if (d->depth >= JDOM_MAX_DEPTH) {
        fail(d, "JSON nested deeper than 64 levels");
        return 0;
    }
    size_t at = d->n;
    if (!add(d, type, NULL, 0))
        return 0;
    d->nodes[at].len = 0;
    d->open[++d->depth] = (uint32_t)at;
    return 1;
}

static int close_container(jdom_t *d)
{
    jnode_t *c = &d->nodes[d->open[d->depth]];
    c->end = (uint32_t)d->n;
    d->depth--;
    return 1;
}

static int on_start_map(void *ctx)
{
    return open_container(ctx, J_OBJ);
}

static int on_start_array(void *ctx)
{
    return open_container(ctx, J_ARR);
}

static int on_end(void *ctx)
{
    return close_container(ctx);
}

static const yajl_callbacks callbacks = {
    on_null,      on_boolean, NULL,   NULL,           on_number, on_string,
    on_start_map, on_key,     on_end, on_start_array, on_end,
};

static void new_handle(jdom_t *d)
{
    if (d->h)
        yajl_free(d->h);
    d->h = yajl_alloc(&callbacks, NULL, d);
    if (!d->h)
        oom(sizeof(void *));
    /* invalid UTF-8 is repaired to U+FFFD by the record builder */
    yajl_config(d->h, yajl_dont_validate_strings, 1);
    /* so the handle takes one document after another (each is checked to
     * be a single value by add()) */
    yajl_config(d->h, yajl_allow_multiple_values, 1);
}

void jdom_init(jdom_t *d)
{
    memset(d, 0, sizeof *d);
    new_handle(d);
}

void jdom_free(jdom_t *d)
{
    if (d->h)
        yajl_free(d->h);
    free(d->nodes);
    buf_free(&d->text);
    memset(d, 0, sizeof *d);
}

int jdom_parse(jdom_t *d, const char *s, size_t n)
{
    d->n = 0;
    d->depth = 0;
    d->values = 0;
    d->err[0] = '\0';
    buf_reset(&d->text);
    d->in = s;
    d->in_n = n;
    yajl_status st = yajl_parse(d->h, (const unsigned char *)s, n);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(d->h);
    if (st == yajl_status_ok && d->values == 1 && d->depth == 0)
        return 0;
    if (st == yajl_status_error && !d->err[0]) {
        unsigned char *msg = yajl_get_error(d->h, 0, NULL, 0);
        size_t at = yajl_get_bytes_consumed(d->h);
        char clean[160];
        snprintf(clean, sizeof clean, "%s", msg ? (const char *)msg : "invalid JSON");
        size_t cl = strlen(clean);
        while (cl && (clean[cl - 1] == '\n' || clean[cl - 1] == ' '))
            clean[--cl] = '\0';
        snprintf(d->err, sizeof d->err, "invalid JSON near byte %zu: %s", at, clean);
        if (msg)
            yajl_free_error(d->h, msg);
    }
    fail(d, d->values ? "invalid JSON" : "no JSON value");
    new_handle(d);
    d->n = 0;
    return -1;
}

size_t jdom_get(const jdom_t *d, size_t obj, const char *key)
{
    if (obj >= d->n || d->nodes[obj].type != J_OBJ)
        return 0;
    size_t kn = strlen(key), found = 0;
    for (size_t k = obj + 1; k < d->nodes[obj].end; k = d->nodes[k + 1].end) {
        slice_t t = jdom_text(d, k);
        if (t.n == kn && memcmp(t.p, key, kn) == 0)
            found = k + 1;
    }
    return found;
}

void jdom_write(const jdom_t *d, size_t i, buf_t *out)
{
    const jnode_t *j = &d->nodes[i];
    switch (j->type) {
    case J_NULL:
        buf_puts(out, "null");
        return;
    case J_FALSE:
        buf_puts(out, "false");
        return;
    case J_TRUE:
        buf_puts(out, "true");
        return;
    case J_NUM:
        buf_append(out, jdom_text(d, i).p, j->len);
        return;
    case J_STR:
    case J_KEY:
        json_str(out, jdom_text(d, i).p, j->len);
        return;
    case J_OBJ:
    case J_ARR: {
        int obj = j->type == J_OBJ;
        buf_putc(out, obj ? '{' : '[');
        int first = 1;
        for (size_t c = i + 1; c < j->end; c = d->nodes[c].end) {
            if (!first)
                buf_putc(out, ',');
            first = 0;
            jdom_write(d, c, out);
            if (obj) {
                buf_putc(out, ':');
                c++;
                jdom_write(d, c, out);
            }
        }
        buf_putc(out, obj ? '}' : ']');
        return;
    }
    }
}
