/* format.c - human lines from the server's JSON records: see format.h.
 *
 * yajl's event parser reads the top-level members a template can show and
 * skips the rest without building a tree. Scalars are copied decoded; a
 * container value that is wanted (the "fields" object) is copied as the raw
 * JSON text it was sent as, found by yajl_get_bytes_consumed() at its
 * opening and closing bracket. {fields.NAME} scans that text once more,
 * for the one member NAME.
 *
 * A template is compiled once into parts: literal text, a top-level member,
 * or a member of fields. The default line is such a list too, built in
 * static storage, so format_record() needs no set-up and no lock.
 */
#include "format.h"

#include <stdio.h>
#include <stdlib.h>
#include <yajl/yajl_parse.h>

#include "../common/level.h"
#include "../common/timeutil.h"
#include "../common/utf8.h"

/* The members of a record that can be shown; "error" is for error bodies. */
enum key { K_TS, K_LEVEL, K_TOPIC, K_APP, K_HOST, K_PID, K_MSG, K_SEQ, K_FIELDS, K_ERROR, K_COUNT };

#define SCAN_MAX K_COUNT

static const slice_t record_keys[K_COUNT] = {
    SLICE_LIT("ts"),     SLICE_LIT("level"), SLICE_LIT("topic"), SLICE_LIT("app"),
    SLICE_LIT("host"),   SLICE_LIT("pid"),   SLICE_LIT("msg"),   SLICE_LIT("seq"),
    SLICE_LIT("fields"), SLICE_LIT("error"),
};

/* The wanted members of one JSON object, copied into text. */
typedef struct scan {
    const slice_t *keys;
    int nkeys;
    unsigned raw_ok; /* bit k: a container value of keys[k] is taken as raw JSON */
    int literals;    /* true, false and null are values ("true"); else absent */
    yajl_handle h;
    const char *json; /* the text being parsed, for raw values */
    int depth;
    int object; /* the value is an object */
    int cur;    /* index in keys of the member whose value comes next, -1 none */
    int raw;    /* index whose container value is open, -1 none */
    size_t raw_start;
    buf_t text;
    size_t off[SCAN_MAX], len[SCAN_MAX];
    unsigned char have[SCAN_MAX], is_raw[SCAN_MAX];
} scan_t;

static void keep(scan_t *s, int k, const void *v, size_t n, int raw)
{
    s->off[k] = s->text.len;
    s->len[k] = n;
    s->have[k] = 1;
    s->is_raw[k] = (unsigned char)raw;
    buf_append(&s->text, v, n);
}

static int take(scan_t *s, const unsigned char *v, size_t n)
{
    if (s->depth == 0)
        return 0; /* a bare scalar, not an object */
    if (s->depth == 1 && s->cur >= 0)
        keep(s, s->cur, v, n, 0);
    s->cur = -1;
    return 1;
}

static int on_null(void *ctx)
{
    scan_t *s = ctx;
    if (s->literals)
        return take(s, (const unsigned char *)"null", 4);
    s->cur = -1; /* null, true, false: as if the member were absent */
    return s->depth > 0;
}

static int on_boolean(void *ctx, int v)
{
    scan_t *s = ctx;
    if (s->literals)
        return take(s, (const unsigned char *)(v ? "true" : "false"), v ? 4 : 5);
    s->cur = -1;
    return s->depth > 0;
}

static int on_number(void *ctx, const char *v, size_t n)
{
    return take(ctx, (const unsigned char *)v, n);
}

static int on_string(void *ctx, const unsigned char *v, size_t n)
{
    return take(ctx, v, n);
}

/* An object or array opens: maybe the start of a wanted raw value. */
static void open_container(scan_t *s)
{
    if (s->depth == 1 && s->cur >= 0 && (s->raw_ok >> s->cur & 1u)) {
        s->raw = s->cur;
        s->raw_start = yajl_get_bytes_consumed(s->h) - 1; /* at the bracket */
    }
    s->depth++;
    s->cur = -1;
}

static int on_start_map(void *ctx)
{
    scan_t *s = ctx;
    if (s->depth == 0)
        s->object = 1;
    open_container(s);
    return 1;
}

static int on_map_key(void *ctx, const unsigned char *k, size_t n)
{
    scan_t *s = ctx;
    s->cur = -1;
    if (s->depth != 1)
        return 1;
    for (int i = 0; i < s->nkeys; i++)
        if (s->keys[i].n == n && memcmp(s->keys[i].p, k, n) == 0)
            s->cur = i;
    return 1;
}

static int on_end(void *ctx)
{
    scan_t *s = ctx;
    s->depth--;
    if (s->depth == 1 && s->raw >= 0) {
        size_t end = yajl_get_bytes_consumed(s->h); /* after the bracket */
        keep(s, s->raw, s->json + s->raw_start, end - s->raw_start, 1);
        s->raw = -1;
    }
    s->cur = -1;
    return 1;
}

static int on_start_array(void *ctx)
{
    scan_t *s = ctx;
    if (s->depth == 0)
        return 0;
    open_container(s);
    return 1;
}

static const yajl_callbacks callbacks = {
    on_null,      on_boolean, NULL,   NULL,           on_number, on_string,
    on_start_map, on_map_key, on_end, on_start_array, on_end,
};

/* Reads the members keys[0..nkeys) of the object json[0..n) into s.
 * Returns 0, or -1 when it is not one well-formed JSON object. */
static int scan_keys(scan_t *s, const char *json, size_t n, const slice_t *keys, int nkeys,
                     unsigned raw_ok, int literals)
{
    memset(s, 0, sizeof *s);
    s->keys = keys;
    s->nkeys = nkeys;
    s->raw_ok = raw_ok;
    s->literals = literals;
    s->json = json;
    s->cur = s->raw = -1;
    yajl_handle h = yajl_alloc(&callbacks, NULL, s);
    if (!h)
        oom(sizeof(void *));
    s->h = h;
    int ok = yajl_parse(h, (const unsigned char *)json, n) == yajl_status_ok &&
             yajl_complete_parse(h) == yajl_status_ok && s->object;
    yajl_free(h);
    s->h = NULL;
    if (!ok) {
        buf_free(&s->text);
        return -1;
    }
    return 0;
}

static int scan(scan_t *s, const char *json, size_t n)
{
    return scan_keys(s, json, n, record_keys, K_COUNT, 1u << K_FIELDS, 0);
}

static slice_t member(const scan_t *s, int k)
{
    if (!s->have[k])
        return SLICE_NULL;
    if (!s->len[k])
        return slice_make("", 0); /* the text may be empty: no pointer to offset */
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
    char e[6] = {'\\',        'u', hex[(cp >> 12) & 15], hex[(cp >> 8) & 15], hex[(cp >> 4) & 15],
                 hex[cp & 15]};
    buf_append(out, e, 6);
}

void format_json_safe(buf_t *out, const char *json, size_t n)
{
    size_t i = 0;
    int in_str = 0, esc = 0;
    while (i < n) {
        unsigned char c = (unsigned char)json[i];
        size_t len = 1;
        int escaped = esc;
        esc = 0;
        if (c >= 0x20 && c < 0x7f) {
            buf_putc(out, (char)c);
            if (!escaped && c == '\\')
                esc = in_str;
            else if (!escaped && c == '"')
                in_str = !in_str;
        } else if (c < 0x80) {
            if (c == '\t')
                buf_putc(out, '\t');
            else if (!in_str && (c == '\n' || c == '\r' || c == '\f' || c == '\v'))
                buf_putc(out, ' '); /* whitespace between tokens stays whitespace */
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

/* The level as its upper-case name, coloured on a terminal. */
static void put_level(buf_t *out, slice_t lvs, int color)
{
    int lv = lvs.p ? level_parse(lvs.p, lvs.n) : -1;
    const char *sgr = color ? level_color(lv) : NULL;
    if (sgr)
        buf_puts(out, sgr);
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
    if (sgr)
        buf_puts(out, "\x1b[0m");
}

/* ---- templates ------------------------------------------------------------ */

enum part_kind { P_TEXT, P_KEY, P_FIELD };

typedef struct part {
    enum part_kind kind;
    enum key key;     /* P_KEY */
    const char *text; /* P_TEXT: the literal; P_FIELD: the member's name */
    size_t len;
} part_t;

struct format_tpl {
    part_t *parts;
    size_t n;
    char *strings; /* the texts of the parts */
};

#define TEXT(lit)                                                                                  \
    {                                                                                              \
        P_TEXT, K_TS, lit, sizeof(lit) - 1                                                         \
    }
#define KEY(k)                                                                                     \
    {                                                                                              \
        P_KEY, k, NULL, 0                                                                          \
    }

/* FORMAT_DEFAULT, compiled by hand. */
static const part_t default_parts[] = {
    TEXT("["), KEY(K_TS),   TEXT("] ["), KEY(K_LEVEL), TEXT("] "), KEY(K_TOPIC),
    TEXT(" "), KEY(K_HOST), TEXT(" "),   KEY(K_APP),   TEXT(": "), KEY(K_MSG),
};

static const format_tpl_t default_tpl = {(part_t *)default_parts,
                                         sizeof default_parts / sizeof default_parts[0], NULL};

/* The placeholders a template may use: the record's members but "error". */
static int placeholder_key(const char *name, size_t n)
{
    for (int k = 0; k < K_ERROR; k++)
        if (record_keys[k].n == n && memcmp(record_keys[k].p, name, n) == 0)
            return k;
    return -1;
}

static void set_err(char *err, size_t errlen, const char *what, const char *p, size_t n)
{
    buf_t b = BUF_INIT;
    format_escape(&b, p, n > 100 ? 100 : n);
    snprintf(err, errlen, "%s%s%s", what, buf_cstr(&b), n > 100 ? "..." : "");
    buf_free(&b);
}

format_tpl_t *format_tpl_compile(const char *text, char *err, size_t errlen)
{
    size_t len = strlen(text);
    format_tpl_t *t = xcalloc(1, sizeof *t);
    /* at most one part per byte; the texts never grow ({{ becomes {) */
    t->parts = xcalloc(len + 1, sizeof *t->parts);
    t->strings = xmalloc(len + 1);
    size_t used = 0;
    part_t *lit = NULL; /* the literal being extended */
    for (size_t i = 0; i < len;) {
        char c = text[i];
        if ((c == '{' || c == '}') && i + 1 < len && text[i + 1] == c) {
            i++; /* {{ and }} are one brace of text */
        } else if (c == '}') {
            set_err(err, errlen, "'}' without '{' in the format (write }} for a brace): ", text + i,
                    len - i);
            format_tpl_free(t);
            return NULL;
        } else if (c == '{') {
            const char *close = memchr(text + i + 1, '}', len - i - 1);
            const char *open = memchr(text + i + 1, '{', len - i - 1);
            if (!close || (open && open < close)) {
                set_err(err, errlen,
                        "'{' without '}' in the format (write {{ for a brace): ", text + i,
                        len - i);
                format_tpl_free(t);
                return NULL;
            }
            const char *name = text + i + 1;
            size_t n = (size_t)(close - name);
            part_t *p = &t->parts[t->n];
            int k = placeholder_key(name, n);
            if (k >= 0) {
                *p = (part_t){P_KEY, (enum key)k, NULL, 0};
            } else if (n > 7 && memcmp(name, "fields.", 7) == 0) {
                memcpy(t->strings + used, name + 7, n - 7);
                *p = (part_t){P_FIELD, K_FIELDS, t->strings + used, n - 7};
                used += n - 7;
            } else {
                set_err(err, errlen,
                        "unknown placeholder in the format: accepted are " FORMAT_PLACEHOLDERS
                        " (and {{ }} for braces), not ",
                        text + i, n + 2);
                format_tpl_free(t);
                return NULL;
            }
            t->n++;
            lit = NULL;
            i += n + 2;
            continue;
        }
        if (!lit) {
            lit = &t->parts[t->n++];
            *lit = (part_t){P_TEXT, K_TS, t->strings + used, 0};
        }
        t->strings[used++] = text[i++];
        lit->len++;
    }
    return t;
}

void format_tpl_free(format_tpl_t *t)
{
    if (!t || t == &default_tpl)
        return;
    free(t->parts);
    free(t->strings);
    free(t);
}

/* A value of the record for a terminal; "-" when it is absent. */
static void put_text(buf_t *out, slice_t v)
{
    if (v.p)
        format_escape(out, v.p, v.n);
    else
        buf_putc(out, '-');
}

/* {fields.NAME}: a string as its text, any other value as its JSON. */
static void put_field(buf_t *out, slice_t fields, slice_t name)
{
    scan_t f;
    slice_t key[1] = {name};
    if (!fields.p || scan_keys(&f, fields.p, fields.n, key, 1, 1u, 1)) {
        buf_putc(out, '-');
        return;
    }
    slice_t v = member(&f, 0);
    if (v.p && f.is_raw[0])
        format_json_safe(out, v.p, v.n);
    else
        put_text(out, v);
    buf_free(&f.text);
}

int format_record(buf_t *out, const format_tpl_t *t, const char *json, size_t n, int color)
{
    scan_t s;
    if (scan(&s, json, n))
        return -1;
    if (!t)
        t = &default_tpl;
    for (size_t i = 0; i < t->n; i++) {
        const part_t *p = &t->parts[i];
        slice_t v = p->kind == P_TEXT ? SLICE_NULL : member(&s, p->key);
        switch (p->kind) {
        case P_TEXT:
            buf_append(out, p->text, p->len);
            break;
        case P_FIELD:
            put_field(out, v, slice_make(p->text, p->len));
            break;
        case P_KEY:
            if (p->key == K_TS)
                put_time(out, v);
            else if (p->key == K_LEVEL)
                put_level(out, v, color);
            else if (p->key == K_FIELDS && v.p)
                format_json_safe(out, v.p, v.n);
            else
                put_text(out, v);
            break;
        }
    }
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
    if (e.p && !s.is_raw[K_ERROR]) {
        format_escape(out, e.p, e.n);
        rc = 0;
    }
    buf_free(&s.text);
    return rc;
}
