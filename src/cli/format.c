/* format.c - human lines from the server's JSON records: see format.h.
 *
 * yajl's event parser reads the top-level members we print and skips the
 * rest (fields, nested values) without building a tree.
 */
#include "format.h"

#include <yajl/yajl_parse.h>

#include "../common/level.h"
#include "../common/timeutil.h"
#include "../common/utf8.h"

enum key { K_NONE = -1, K_TS, K_LEVEL, K_APP, K_MSG, K_ERROR, K_COUNT };

static const char *const key_names[K_COUNT] = {"ts", "level", "app", "msg", "error"};

/* The top-level members of one JSON object, copied into text. */
typedef struct scan {
    int depth;
    int object; /* the value is an object */
    enum key cur;
    buf_t text;
    size_t off[K_COUNT], len[K_COUNT];
    unsigned char have[K_COUNT];
} scan_t;

static int take(scan_t *s, const unsigned char *v, size_t n)
{
    if (s->depth == 0)
        return 0; /* a bare scalar, not an object */
    if (s->depth == 1 && s->cur != K_NONE) {
        s->off[s->cur] = s->text.len;
        s->len[s->cur] = n;
        s->have[s->cur] = 1;
        buf_append(&s->text, v, n);
    }
    s->cur = K_NONE;
    return 1;
}

static int on_null(void *ctx)
{
    scan_t *s = ctx;
    s->cur = K_NONE; /* null, true, false: as if the member were absent */
    return s->depth > 0;
}

static int on_boolean(void *ctx, int v)
{
    (void)v;
    return on_null(ctx);
}

static int on_number(void *ctx, const char *v, size_t n)
{
    return take(ctx, (const unsigned char *)v, n);
}

static int on_string(void *ctx, const unsigned char *v, size_t n)
{
    return take(ctx, v, n);
}

static int on_start_map(void *ctx)
{
    scan_t *s = ctx;
    if (s->depth == 0)
        s->object = 1;
    s->depth++;
    s->cur = K_NONE;
    return 1;
}

static int on_map_key(void *ctx, const unsigned char *k, size_t n)
{
    scan_t *s = ctx;
    s->cur = K_NONE;
    if (s->depth != 1)
        return 1;
    for (int i = 0; i < K_COUNT; i++)
        if (strlen(key_names[i]) == n && memcmp(key_names[i], k, n) == 0)
            s->cur = (enum key)i;
    return 1;
}

static int on_end(void *ctx)
{
    scan_t *s = ctx;
    s->depth--;
    s->cur = K_NONE;
    return 1;
}

static int on_start_array(void *ctx)
{
    scan_t *s = ctx;
    if (s->depth == 0)
        return 0;
    s->depth++;
    s->cur = K_NONE;
    return 1;
}

static const yajl_callbacks callbacks = {
    on_null, on_boolean, NULL, NULL, on_number, on_string, on_start_map, on_map_key, on_end,
    on_start_array, on_end,
};

/* Reads the object json[0..n) into s. Returns 0, or -1 when it is not one
 * well-formed JSON object. */
static int scan(scan_t *s, const char *json, size_t n)
{
    memset(s, 0, sizeof *s);
    s->cur = K_NONE;
    yajl_handle h = yajl_alloc(&callbacks, NULL, s);
    if (!h)
        oom(sizeof(void *));
    int ok = yajl_parse(h, (const unsigned char *)json, n) == yajl_status_ok &&
             yajl_complete_parse(h) == yajl_status_ok && s->object;
    yajl_free(h);
    if (!ok) {
        buf_free(&s->text);
        return -1;
    }
    return 0;
}

static slice_t member(const scan_t *s, enum key k)
{
    if (!s->have[k])
        return SLICE_NULL;
    return slice_make(s->text.data + s->off[k], s->len[k]);
}

int format_is_unsafe_cp(unsigned cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* The code point of the well-formed len-byte sequence at s. */
static unsigned decode_cp(const unsigned char *s, size_t len)
{
    if (len == 2)
        return ((s[0] & 0x1fu) << 6) | (s[1] & 0x3fu);
    if (len == 3)
        return ((s[0] & 0x0fu) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3fu);
    if (len == 4)
        return ((s[0] & 0x07u) << 18) | ((s[1] & 0x3fu) << 12) | ((s[2] & 0x3fu) << 6) |
               (s[3] & 0x3fu);
    return s[0];
}

static void put_u(buf_t *out, unsigned cp)
{
    static const char hex[] = "0123456789abcdef";
    char e[6] = {'\\', 'u', hex[(cp >> 12) & 15], hex[(cp >> 8) & 15], hex[(cp >> 4) & 15],
                 hex[cp & 15]};
    buf_append(out, e, 6);
}

void format_json_safe(buf_t *out, const char *json, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)json[i];
        size_t len = 1;
        if (c >= 0x20 && c < 0x7f) {
            buf_putc(out, (char)c);
        } else if (c < 0x80) {
            if (c == '\t')
                buf_putc(out, '\t');
            else
                put_u(out, c);
        } else if (!utf8_next(json + i, n - i, &len)) {
            put_u(out, 0xfffd);
        } else if (format_is_unsafe_cp(decode_cp((const unsigned char *)json + i, len))) {
            put_u(out, decode_cp((const unsigned char *)json + i, len));
        } else {
            buf_append(out, json + i, len);
        }
        i += len;
    }
}

void format_escape(buf_t *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t len;
        if (c < 0x20 || c == 0x7f) {
            const char *named = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
            if (named) {
                buf_puts(out, named);
            } else {
                char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
                buf_append(out, e, 4);
            }
            i++;
            continue;
        }
        if (c < 0x80) {
            buf_putc(out, (char)c);
            i++;
            continue;
        }
        if (!utf8_next(s + i, n - i, &len)) {
            for (size_t j = 0; j < len; j++) {
                unsigned char b = (unsigned char)s[i + j];
                char e[4] = {'\\', 'x', hex[b >> 4], hex[b & 15]};
                buf_append(out, e, 4);
            }
            i += len;
            continue;
        }
        /* C1 controls (U+0080..U+009F, e.g. the 8-bit CSI) and the
         * bidirectional controls that reorder a line */
        unsigned cp = decode_cp((const unsigned char *)s + i, len);
        if (format_is_unsafe_cp(cp)) {
            put_u(out, cp);
        } else {
            buf_append(out, s + i, len);
        }
        i += len;
    }
}

/* SGR colour of a level: red for error and worse, yellow warning, cyan
 * notice and info, dim debug. */
static const char *level_color(int lv)
{
    static const char *const colors[8] = {"\x1b[1;31m", "\x1b[1;31m", "\x1b[1;31m", "\x1b[31m",
                                          "\x1b[33m",   "\x1b[36m",   "\x1b[36m",   "\x1b[2m"};
    return lv >= 0 && lv <= 7 ? colors[lv] : NULL;
}

static void put_time(buf_t *out, slice_t ts)
{
    int64_t ns;
    char local[64];
    if (ts.p && time_parse_rfc3339(ts.p, ts.n, &ns) == 0 &&
        time_format_local(ns, local, sizeof local) > 0)
        buf_puts(out, local);
    else if (ts.p)
        format_escape(out, ts.p, ts.n);
    else
        buf_putc(out, '-');
}

static void put_level(buf_t *out, slice_t lvs, int color)
{
    int lv = lvs.p ? level_parse(lvs.p, lvs.n) : -1;
    const char *sgr = color ? level_color(lv) : NULL;
    if (sgr)
        buf_puts(out, sgr);
    buf_putc(out, '[');
    if (lv >= 0) {
        buf_puts(out, level_name_upper(lv));
    } else if (lvs.p) {
        size_t start = out->len;
        format_escape(out, lvs.p, lvs.n);
        for (size_t i = start; i < out->len; i++)
            if (out->data[i] >= 'a' && out->data[i] <= 'z')
                out->data[i] = (char)(out->data[i] - 'a' + 'A');
    } else {
        buf_putc(out, '-');
    }
    buf_putc(out, ']');
    if (sgr)
        buf_puts(out, "\x1b[0m");
}

int format_record(buf_t *out, const char *json, size_t n, int color)
{
    scan_t s;
    if (scan(&s, json, n))
        return -1;
    buf_putc(out, '[');
    put_time(out, member(&s, K_TS));
    buf_puts(out, "] ");
    put_level(out, member(&s, K_LEVEL), color);
    buf_putc(out, ' ');
    slice_t app = member(&s, K_APP), msg = member(&s, K_MSG);
    if (app.n) {
        format_escape(out, app.p, app.n);
        buf_puts(out, ": ");
    }
    if (msg.p)
        format_escape(out, msg.p, msg.n);
    buf_putc(out, '\n');
    buf_free(&s.text);
    return 0;
}

int format_error(buf_t *out, const char *json, size_t n)
{
    scan_t s;
    if (scan(&s, json, n))
        return -1;
    slice_t e = member(&s, K_ERROR);
    int rc = -1;
    if (e.p) {
        format_escape(out, e.p, e.n);
        rc = 0;
    }
    buf_free(&s.text);
    return rc;
}
