/* format.c - JSON lines and echo lines from queued records: see format.h. */
#include "format.h"

#include <stdint.h>

#include "../common/level.h"
#include "../common/utf8.h"

static const char hex[] = "0123456789abcdef";

void cbuf_u64(cbuf_t *b, unsigned long long v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    cbuf_add(b, tmp + i, sizeof tmp - i);
}

void cbuf_i64(cbuf_t *b, long long v)
{
    if (v < 0) {
        cbuf_putc(b, '-');
        cbuf_u64(b, 0ULL - (unsigned long long)v);
    } else {
        cbuf_u64(b, (unsigned long long)v);
    }
}

/* Appends s[0..n) escaped, without quotes, stopping before the output would
 * pass budget bytes (at a character boundary). Returns the input bytes
 * consumed. */
static size_t json_body(cbuf_t *b, const char *s, size_t n, size_t budget)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, out = 0;
    if (cbuf_reserve(b, n < budget ? n + 8 : budget + 8))
        return n;
    while (i < n) {
        size_t start = i;
        while (i < n && u[i] >= 0x20 && u[i] < 0x80 && u[i] != '"' && u[i] != '\\' &&
               out + (i - start) < budget)
            i++;
        cbuf_add(b, u + start, i - start);
        out += i - start;
        if (i >= n || out >= budget)
            break;
        unsigned char c = u[i];
        char esc[8];
        size_t el, len = 1;
        if (c >= 0x80) {
            if (utf8_next(s + i, n - i, &len)) {
                memcpy(esc, s + i, len);
                el = len;
            } else {
                memcpy(esc, "\xEF\xBF\xBD", 3);
                el = 3;
            }
        } else if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            el = 2;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            esc[0] = '\\';
            esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
            el = 2;
        } else {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            el = 6;
        }
        if (out + el > budget)
            break;
        cbuf_add(b, esc, el);
        out += el;
        i += len;
    }
    return i;
}

void format_json_str(cbuf_t *b, const char *s, size_t n)
{
    cbuf_putc(b, '"');
    json_body(b, s, n, SIZE_MAX);
    cbuf_putc(b, '"');
}

int format_ctx_init(format_ctx_t *c, const char *app, const char *host, const char *topic, long pid,
                    const char *const *keys, const char *const *values, size_t n,
                    const char *pattern)
{
    memset(c, 0, sizeof *c);
    c->app = app;
    c->host = host;
    c->topic = topic;
    c->pid = pid;
    c->pattern = pattern;
    c->tm_sec = (time_t)-1;
    if (app && *app) {
        cbuf_puts(&c->app_json, ",\"app\":");
        format_json_str(&c->app_json, app, strlen(app));
    }
    if (host && *host) {
        cbuf_puts(&c->tail, ",\"host\":");
        format_json_str(&c->tail, host, strlen(host));
    }
    cbuf_puts(&c->tail, ",\"pid\":");
    cbuf_i64(&c->tail, pid);
    for (size_t i = 0; i < n; i++) {
        if (i)
            cbuf_putc(&c->fields, ',');
        format_json_str(&c->fields, keys[i], strlen(keys[i]));
        cbuf_putc(&c->fields, ':');
        format_json_str(&c->fields, values[i], strlen(values[i]));
    }
    if (c->app_json.failed || c->tail.failed || c->fields.failed) {
        format_ctx_free(c);
        return -1;
    }
    return 0;
}

void format_ctx_free(format_ctx_t *c)
{
    cbuf_free(&c->app_json);
    cbuf_free(&c->tail);
    cbuf_free(&c->fields);
}

/* The line with the message cut to msg_budget output bytes and, when
 * with_fields is 0, without the record's own fields. */
static void line(cbuf_t *b, const crec_t *r, const format_ctx_t *c, size_t msg_budget,
                 int with_fields)
{
    cbuf_puts(b, "{\"ts\":");
    cbuf_i64(b, r->ts);
    cbuf_puts(b, ",\"level\":\"");
    cbuf_puts(b, level_name(r->level));
    cbuf_puts(b, "\",\"msg\":\"");
    size_t used = json_body(b, r->msg, r->msg_len, msg_budget);
    cbuf_putc(b, '"');
    const char *topic = r->topic ? r->topic : c->topic;
    size_t tn = r->topic ? r->topic_len : topic ? strlen(topic) : 0;
    if (tn) {
        cbuf_puts(b, ",\"topic\":");
        format_json_str(b, topic, tn);
    }
    if (r->app) {
        cbuf_puts(b, ",\"app\":");
        format_json_str(b, r->app, r->app_len);
    } else {
        cbuf_add(b, c->app_json.data, c->app_json.len);
    }
    cbuf_add(b, c->tail.data, c->tail.len);
    int cut = used < r->msg_len || (r->flags & CREC_F_CUT);
    int nf = c->fields.len || (with_fields && r->nfields) || cut;
    if (nf) {
        int sep = 0;
        cbuf_puts(b, ",\"fields\":{");
        if (c->fields.len) {
            cbuf_add(b, c->fields.data, c->fields.len);
            sep = 1;
        }
        const char *p = r->fields, *end = r->fields ? r->fields + r->fields_len : NULL, *k, *v;
        size_t kn, vn;
        while (with_fields && p && crec_field_next(&p, end, &k, &kn, &v, &vn)) {
            if (sep)
                cbuf_putc(b, ',');
            format_json_str(b, k, kn);
            cbuf_putc(b, ':');
            format_json_str(b, v, vn);
            sep = 1;
        }
        if (cut) {
            if (sep)
                cbuf_putc(b, ',');
            cbuf_puts(b, "\"msg_truncated\":true");
        }
        cbuf_putc(b, '}');
    }
    cbuf_puts(b, "}\n");
}

void format_json_line(cbuf_t *b, const crec_t *r, const format_ctx_t *c)
{
    size_t start = b->len;
    line(b, r, c, SIZE_MAX, 1);
    size_t total = b->len - start;
    if (total <= FORMAT_LINE_MAX + 1 || b->failed)
        return;
    /* too long for the server's line limit: cut the message, and drop the
     * record's own fields if they alone are too much */
    b->len = start;
    line(b, r, c, 0, 1);
    size_t rest = b->len - start + 32;
    int with_fields = rest + 1024 < FORMAT_LINE_MAX;
    if (!with_fields) {
        b->len = start;
        line(b, r, c, 0, 0);
        rest = b->len - start + 32;
    }
    b->len = start;
    line(b, r, c, rest < FORMAT_LINE_MAX ? FORMAT_LINE_MAX - rest : 0, with_fields);
}

static void two(cbuf_t *b, int v)
{
    char t[2] = {(char)('0' + v / 10 % 10), (char)('0' + v % 10)};
    cbuf_add(b, t, 2);
}

static void digits(cbuf_t *b, long v, int width)
{
    char t[12];
    for (int i = width - 1; i >= 0; i--) {
        t[i] = (char)('0' + v % 10);
        v /= 10;
    }
    cbuf_add(b, t, (size_t)width);
}

static int date_sep(char ch)
{
    return ch == '-' || ch == '/' || ch == '.';
}

void format_pattern(cbuf_t *b, const crec_t *r, format_ctx_t *c)
{
    const char *p = c->pattern && *c->pattern ? c->pattern : "[%Y-%m-%d %H:%M:%S] [%L] %m";
    time_t sec = (time_t)(r->ts / 1000000000);
    long ns = (long)(r->ts % 1000000000);
    if (ns < 0) {
        ns += 1000000000;
        sec--;
    }
    if (sec != c->tm_sec) {
        localtime_r(&sec, &c->tm);
        c->tm_sec = sec;
    }
    const struct tm *tm = &c->tm;
    for (size_t i = 0; p[i]; i++) {
        if (p[i] != '%' || !p[i + 1]) {
            cbuf_putc(b, p[i]);
            continue;
        }
        char d = p[++i];
        switch (d) {
        case 'Y':
            digits(b, tm->tm_year + 1900L, 4);
            break;
        case 'm':
            if ((i >= 2 && date_sep(p[i - 2])) || date_sep(p[i + 1]))
                two(b, tm->tm_mon + 1);
            else
                cbuf_add(b, r->msg, r->msg_len);
            break;
        case 'd':
            two(b, tm->tm_mday);
            break;
        case 'H':
            two(b, tm->tm_hour);
            break;
        case 'M':
            two(b, tm->tm_min);
            break;
        case 'S':
            two(b, tm->tm_sec);
            break;
        case 'e':
            digits(b, ns / 1000000, 3);
            break;
        case 'f':
            digits(b, ns / 1000, 6);
            break;
        case 'L':
            cbuf_puts(b, level_name_upper(r->level));
            break;
        case 'l':
            cbuf_puts(b, level_name(r->level));
            break;
        case 'a':
            if (r->app)
                cbuf_add(b, r->app, r->app_len);
            else
                cbuf_puts(b, c->app ? c->app : "");
            break;
        case 'h':
            cbuf_puts(b, c->host ? c->host : "");
            break;
        case 'P':
            cbuf_i64(b, c->pid);
            break;
        case 't':
            if (r->topic)
                cbuf_add(b, r->topic, r->topic_len);
            else if (c->topic)
                cbuf_puts(b, c->topic);
            break;
        case 'v':
            cbuf_add(b, r->msg, r->msg_len);
            break;
        case '%':
            cbuf_putc(b, '%');
            break;
        default:
            cbuf_putc(b, '%');
            cbuf_putc(b, d);
        }
    }
    cbuf_putc(b, '\n');
}
