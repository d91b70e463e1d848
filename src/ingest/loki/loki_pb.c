/* loki_pb.c - Loki's snappy protobuf push to its JSON push: see loki_pb.h. */
#include "loki_pb.h"

#include <snappy-c.h>
#include <stdint.h>

#include "../../common/json_write.h"
#include "../../common/pbwire.h"

/* {name="value", ...} into a JSON object's members. 0 or -1. */
static int labels(const char *p, size_t n, buf_t *out, buf_t *tmp)
{
    size_t i = 0, pairs = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i == n)
        return 0; /* no labels */
    if (p[i++] != '{')
        return -1;
    while (1) {
        while (i < n && (p[i] == ' ' || p[i] == ',' || p[i] == '\t'))
            i++;
        if (i < n && p[i] == '}')
            return 0;
        size_t k = i;
        while (i < n && (p[i] == '_' || (p[i] >= 'a' && p[i] <= 'z') ||
                         (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9')))
            i++;
        if (i == k || i + 1 >= n || p[i] != '=' || p[i + 1] != '"')
            return -1;
        size_t kn = i - k;
        i += 2;
        buf_reset(tmp);
        while (i < n && p[i] != '"') {
            if (p[i] == '\\' && i + 1 < n) {
                char c = p[i + 1];
                buf_putc(tmp, c == 'n' ? '\n' : c == 't' ? '\t' : c);
                i += 2;
            } else {
                buf_putc(tmp, p[i++]);
            }
        }
        if (i == n)
            return -1;
        i++; /* the closing quote */
        if (pairs++)
            buf_putc(out, ',');
        json_str(out, p + k, kn);
        buf_putc(out, ':');
        json_str(out, tmp->data ? tmp->data : "", tmp->len);
    }
}

/* One Entry as ["ns","line",{metadata}]. 0 or -1. */
static int entry(const char *p, size_t n, buf_t *out)
{
    const unsigned char *q = (const unsigned char *)p, *end = q + n;
    pb_field_t f;
    int64_t sec = 0, nsec = 0;
    const char *line = "";
    size_t line_n = 0;
    int rc, meta = 0;
    while ((rc = pb_next(&q, end, &f)) == 0) {
        if (f.num == 1 && f.type == 2) {
            const unsigned char *t = (const unsigned char *)f.p, *te = t + f.n;
            pb_field_t g;
            int trc;
            while ((trc = pb_next(&t, te, &g)) == 0) {
                if (g.num == 1 && g.type == 0)
                    sec = (int64_t)g.v;
                else if (g.num == 2 && g.type == 0)
                    nsec = (int32_t)g.v;
            }
            if (trc < 0)
                return -1;
        } else if (f.num == 2 && f.type == 2) {
            line = f.p;
            line_n = f.n;
        } else if (f.num == 3 && f.type == 2) {
            meta = 1;
        }
    }
    if (rc < 0 || sec < 0 || sec > INT64_MAX / 1000000000 - 1 || nsec < 0 || nsec > 999999999)
        return -1;
    buf_puts(out, "[\"");
    buf_append_i64(out, sec * 1000000000 + nsec);
    buf_puts(out, "\",");
    json_str(out, line, line_n);
    if (meta) {
        /* the structured metadata, name and value pairs, as an object */
        buf_puts(out, ",{");
        int first = 1;
        q = (const unsigned char *)p;
        while (pb_next(&q, end, &f) == 0) {
            if (f.num != 3 || f.type != 2)
                continue;
            const unsigned char *l = (const unsigned char *)f.p, *le = l + f.n;
            pb_field_t g;
            const char *name = "", *value = "";
            size_t nn = 0, vn = 0;
            while (pb_next(&l, le, &g) == 0) {
                if (g.num == 1 && g.type == 2)
                    name = g.p, nn = g.n;
                else if (g.num == 2 && g.type == 2)
                    value = g.p, vn = g.n;
            }
            if (!nn)
                continue;
            if (!first)
                buf_putc(out, ',');
            first = 0;
            json_str(out, name, nn);
            buf_putc(out, ':');
            json_str(out, value, vn);
        }
        buf_putc(out, '}');
    }
    buf_putc(out, ']');
    return 0;
}

/* One Stream. A part that cannot be read becomes JSON that loki_parse
 * refuses on its own (labels: a stream of null labels; an entry: null),
 * so the rest of the push is still stored. */
static int stream(const char *p, size_t n, buf_t *out, buf_t *tmp, const char **err)
{
    const unsigned char *q = (const unsigned char *)p, *end = q + n;
    pb_field_t f;
    int rc, first = 1;
    size_t start = out->len;
    buf_puts(out, "{\"stream\":{");
    while ((rc = pb_next(&q, end, &f)) == 0)
        if (f.num == 1 && f.type == 2 && labels(f.p, f.n, out, tmp)) {
            out->len = start;
            buf_puts(out, "{\"stream\":null,\"values\":[]}");
            return 0;
        }
    if (rc < 0) {
        *err = "malformed protobuf: a field runs past its message";
        return -1;
    }
    buf_puts(out, "},\"values\":[");
    q = (const unsigned char *)p;
    while (pb_next(&q, end, &f) == 0) {
        if (f.num != 2 || f.type != 2)
            continue;
        if (!first)
            buf_putc(out, ',');
        first = 0;
        size_t at = out->len;
        if (entry(f.p, f.n, out)) {
            out->len = at;
            buf_puts(out, "null");
        }
    }
    buf_puts(out, "]}");
    return 0;
}

int loki_pb_to_json(const char *p, size_t n, size_t max, buf_t *scratch, buf_t *out,
                    const char **err)
{
    size_t len;
    if (snappy_uncompressed_length(p, n, &len) != SNAPPY_OK) {
        *err = "not snappy-compressed: a protobuf push is sent compressed with snappy";
        return -1;
    }
    if (len > max) {
        *err = "decompressed push larger than --max-body";
        return -1;
    }
    buf_reset(scratch);
    char *dst = buf_reserve(scratch, len ? len : 1);
    if (snappy_uncompress(p, n, dst, &len) != SNAPPY_OK) {
        *err = "snappy data is truncated or corrupt";
        return -1;
    }
    scratch->len = len;
    const unsigned char *q = (const unsigned char *)scratch->data, *end = q + len;
    pb_field_t f;
    int rc, first = 1;
    buf_t tmp = BUF_INIT;
    buf_puts(out, "{\"streams\":[");
    while ((rc = pb_next(&q, end, &f)) == 0) {
        if (f.num != 1 || f.type != 2)
            continue;
        if (!first)
            buf_putc(out, ',');
        first = 0;
        if (stream(f.p, f.n, out, &tmp, err)) {
            buf_free(&tmp);
            return -1;
        }
    }
    buf_free(&tmp);
    if (rc < 0) {
        *err = "malformed protobuf: a field runs past its message";
        return -1;
    }
    buf_puts(out, "]}");
    return 0;
}
