/* tail_proto.c - reading logshipd's tail messages and pacing reconnects:
 * see tail_proto.h.
 *
 * yajl's event parser walks the message once without building a tree. A
 * record's own text is found through yajl_get_bytes_consumed(), which
 * inside a callback is the offset just past the token being reported: at
 * the '{' that opens an array element and at the '}' that closes it. This
 * holds for yajl 2.x, whose parser lexes one token and then calls back
 * (yajl_parser.c); the whole message is handed to one yajl_parse() call so
 * the offsets count from its start, and the result is checked to be a
 * '{'..'}' span before it is used (test_tail_proto.c pins it down).
 */
#include "tail_proto.h"

#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

enum key { K_NONE = -1, K_TYPE, K_LAG, K_SOURCE, K_FROM, K_TO, K_ERROR, K_HINT, K_SEQ, K_COUNT };

static const char *const key_names[K_COUNT] = {"type", "lag",   "source", "from",
                                               "to",   "error", "hint",   "seq"};

typedef struct parser {
    tail_proto_msg_t *m;
    yajl_handle h;
    const char *json;
    size_t n;
    int depth;
    int top; /* 0 nothing yet, '[' or '{' */
    enum key cur;
    /* the control strings, as offsets into m->text while it may move */
    size_t off[K_COUNT], len[K_COUNT];
    unsigned char have[K_COUNT];
    int bad; /* a span did not come out as '{'..'}' */
} parser_t;

static void msg_clear(tail_proto_msg_t *m)
{
    m->kind = TAIL_PROTO_BATCH;
    m->nitems = 0;
    m->lag = m->from = m->to = 0;
    m->source = m->error = m->hint = SLICE_NULL;
    buf_reset(&m->text);
}

void tail_proto_init(tail_proto_msg_t *m)
{
    memset(m, 0, sizeof *m);
    msg_clear(m);
}

void tail_proto_free(tail_proto_msg_t *m)
{
    if (!m)
        return;
    free(m->items);
    buf_free(&m->text);
    memset(m, 0, sizeof *m);
}

static tail_proto_item_t *add_item(tail_proto_msg_t *m)
{
    if (m->nitems == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->items = xrealloc(m->items, m->cap * sizeof *m->items);
    }
    tail_proto_item_t *it = &m->items[m->nitems++];
    memset(it, 0, sizeof *it);
    return it;
}

/* Decimal digits to a uint64; 0 for anything else (a fraction, a sign,
 * an overflow): such a value is treated as absent. */
static uint64_t to_u64(const char *s, size_t n)
{
    uint64_t v = 0;
    if (!n || n > 20)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    return v;
}

/* Offset just past the token being reported. */
static size_t here(const parser_t *p)
{
    return yajl_get_bytes_consumed(p->h);
}

static int on_scalar(parser_t *p)
{
    if (p->depth == 0)
        return 0; /* a bare scalar is no message */
    if (p->top == '[' && p->depth == 1)
        return 0; /* arrays hold records and lines only */
    p->cur = K_NONE;
    return 1;
}

static int on_null(void *ctx)
{
    return on_scalar(ctx);
}

static int on_boolean(void *ctx, int v)
{
    (void)v;
    return on_scalar(ctx);
}

static int on_number(void *ctx, const char *v, size_t n)
{
    parser_t *p = ctx;
    enum key k = p->cur;
    if (!on_scalar(p))
        return 0;
    uint64_t u = to_u64(v, n);
    if (p->top == '{' && p->depth == 1) {
        if (k == K_LAG)
            p->m->lag = u;
        else if (k == K_FROM)
            p->m->from = u;
        else if (k == K_TO)
            p->m->to = u;
    } else if (p->top == '[' && p->depth == 2 && k == K_SEQ) {
        p->m->items[p->m->nitems - 1].seq = u;
    }
    return 1;
}

static int on_string(void *ctx, const unsigned char *v, size_t n)
{
    parser_t *p = ctx;
    tail_proto_msg_t *m = p->m;
    if (p->depth == 0)
        return 0;
    if (p->top == '[' && p->depth == 1) {
        tail_proto_item_t *it = add_item(m);
        it->is_line = 1;
        it->off = m->text.len;
        it->len = n;
        buf_append(&m->text, v, n);
        return 1;
    }
    if (p->top == '{' && p->depth == 1 &&
        (p->cur == K_TYPE || p->cur == K_SOURCE || p->cur == K_ERROR || p->cur == K_HINT)) {
        p->off[p->cur] = m->text.len;
        p->len[p->cur] = n;
        p->have[p->cur] = 1;
        buf_append(&m->text, v, n);
    }
    p->cur = K_NONE;
    return 1;
}

static int on_start_map(void *ctx)
{
    parser_t *p = ctx;
    if (p->depth == 0) {
        p->top = '{';
    } else if (p->top == '[' && p->depth == 1) {
        tail_proto_item_t *it = add_item(p->m);
        it->off = here(p) - 1;
    }
    p->depth++;
    p->cur = K_NONE;
    return 1;
}

static int on_map_key(void *ctx, const unsigned char *k, size_t n)
{
    parser_t *p = ctx;
    p->cur = K_NONE;
    int want = (p->top == '{' && p->depth == 1) || (p->top == '[' && p->depth == 2);
    if (!want)
        return 1;
    for (int i = 0; i < K_COUNT; i++)
        if (strlen(key_names[i]) == n && memcmp(key_names[i], k, n) == 0)
            p->cur = (enum key)i;
    if ((p->top == '[') != (p->cur == K_SEQ))
        p->cur = K_NONE; /* seq belongs to records, the rest to controls */
    return 1;
}

static int on_end_map(void *ctx)
{
    parser_t *p = ctx;
    p->depth--;
    p->cur = K_NONE;
    if (p->top == '[' && p->depth == 1) {
        tail_proto_item_t *it = &p->m->items[p->m->nitems - 1];
        size_t end = here(p);
        if (end <= it->off || end > p->n || p->json[it->off] != '{' || p->json[end - 1] != '}') {
            p->bad = 1;
            return 0;
        }
        it->len = end - it->off;
    }
    return 1;
}

static int on_start_array(void *ctx)
{
    parser_t *p = ctx;
    if (p->depth == 0)
        p->top = '[';
    else if (p->top == '[' && p->depth == 1)
        return 0;
    p->depth++;
    p->cur = K_NONE;
    return 1;
}

static int on_end_array(void *ctx)
{
    parser_t *p = ctx;
    p->depth--;
    p->cur = K_NONE;
    return 1;
}

static const yajl_callbacks callbacks = {
    on_null,      on_boolean, NULL,       NULL,           on_number,    on_string,
    on_start_map, on_map_key, on_end_map, on_start_array, on_end_array,
};

/* The control string k, once parsing is over; SLICE_NULL when absent. */
static slice_t control(const tail_proto_msg_t *m, const parser_t *p, enum key k)
{
    if (!p->have[k])
        return SLICE_NULL;
    return slice_make(m->text.data ? m->text.data + p->off[k] : "", p->len[k]);
}

int tail_proto_parse(tail_proto_msg_t *m, const char *json, size_t n)
{
    parser_t p;
    memset(&p, 0, sizeof p);
    p.m = m;
    p.json = json;
    p.n = n;
    p.cur = K_NONE;
    msg_clear(m);
    p.h = yajl_alloc(&callbacks, NULL, &p);
    if (!p.h)
        oom(sizeof(void *));
    int ok = yajl_parse(p.h, (const unsigned char *)json, n) == yajl_status_ok &&
             yajl_complete_parse(p.h) == yajl_status_ok && p.top && !p.bad;
    yajl_free(p.h);
    if (!ok) {
        msg_clear(m);
        return -1;
    }
    if (p.top == '[') {
        m->kind = TAIL_PROTO_BATCH;
        return 0;
    }
    m->source = control(m, &p, K_SOURCE);
    m->error = control(m, &p, K_ERROR);
    m->hint = control(m, &p, K_HINT);
    slice_t type = control(m, &p, K_TYPE);
    static const struct {
        const char *name;
        enum tail_proto_kind kind;
    } types[] = {
        {"status", TAIL_PROTO_STATUS},       {"gap", TAIL_PROTO_GAP},
        {"error", TAIL_PROTO_ERROR},         {"rotated", TAIL_PROTO_ROTATED},
        {"truncated", TAIL_PROTO_TRUNCATED}, {"hint", TAIL_PROTO_HINT},
    };
    m->kind = TAIL_PROTO_OTHER;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (type.p && slice_eq(type, types[i].name))
            m->kind = types[i].kind;
    return 0;
}

slice_t tail_proto_item_text(const tail_proto_msg_t *m, const char *json, size_t i)
{
    const tail_proto_item_t *it = &m->items[i];
    if (!it->is_line)
        return slice_make(json + it->off, it->len);
    /* an empty line may leave text unallocated */
    return slice_make(m->text.data ? m->text.data + it->off : "", it->len);
}

uint32_t tail_proto_backoff_ms(unsigned attempt, uint32_t rnd)
{
    uint32_t d = TAIL_BACKOFF_MIN_MS;
    for (unsigned i = 0; i < attempt && d < TAIL_BACKOFF_MAX_MS; i++)
        d *= 2;
    if (d > TAIL_BACKOFF_MAX_MS)
        d = TAIL_BACKOFF_MAX_MS;
    return d - rnd % (d / 2 + 1);
}
