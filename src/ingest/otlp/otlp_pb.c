/* otlp_pb.c - OTLP logs protobuf to JSON: see otlp_pb.h. */
#include "otlp_pb.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "../../common/json_write.h"
#include "../../common/pbwire.h"

enum kind {
    K_STR,     /* string */
    K_HEX,     /* bytes as hex (trace and span ids) */
    K_B64,     /* bytes as base64 */
    K_UINT,    /* varint, unsigned: a JSON number */
    K_INT64,   /* varint, two's complement int64: a string */
    K_BOOL,    /* varint */
    K_FIXED64, /* a string of digits */
    K_DOUBLE,  /* fixed64 */
    K_FIXED32, /* a JSON number */
    K_MSG,     /* a nested message */
};

typedef struct field {
    unsigned num;
    const char *name;
    enum kind kind;
    int repeated;
    int msg; /* K_MSG: index into messages[] */
} field_t;

enum {
    M_REQUEST,
    M_RESOURCE_LOGS,
    M_RESOURCE,
    M_SCOPE_LOGS,
    M_SCOPE,
    M_LOG_RECORD,
    M_KEY_VALUE,
    M_ANY_VALUE,
    M_ARRAY_VALUE,
    M_KV_LIST,
    M_COUNT
};

static const field_t f_request[] = {{1, "resourceLogs", K_MSG, 1, M_RESOURCE_LOGS}};
static const field_t f_resource_logs[] = {
    {1, "resource", K_MSG, 0, M_RESOURCE},
    {2, "scopeLogs", K_MSG, 1, M_SCOPE_LOGS},
    {3, "schemaUrl", K_STR, 0, 0},
};
static const field_t f_resource[] = {
    {1, "attributes", K_MSG, 1, M_KEY_VALUE},
    {2, "droppedAttributesCount", K_UINT, 0, 0},
};
static const field_t f_scope_logs[] = {
    {1, "scope", K_MSG, 0, M_SCOPE},
    {2, "logRecords", K_MSG, 1, M_LOG_RECORD},
    {3, "schemaUrl", K_STR, 0, 0},
};
static const field_t f_scope[] = {
    {1, "name", K_STR, 0, 0},
    {2, "version", K_STR, 0, 0},
    {3, "attributes", K_MSG, 1, M_KEY_VALUE},
    {4, "droppedAttributesCount", K_UINT, 0, 0},
};
static const field_t f_log_record[] = {
    {1, "timeUnixNano", K_FIXED64, 0, 0},
    {11, "observedTimeUnixNano", K_FIXED64, 0, 0},
    {2, "severityNumber", K_UINT, 0, 0},
    {3, "severityText", K_STR, 0, 0},
    {5, "body", K_MSG, 0, M_ANY_VALUE},
    {6, "attributes", K_MSG, 1, M_KEY_VALUE},
    {7, "droppedAttributesCount", K_UINT, 0, 0},
    {8, "flags", K_FIXED32, 0, 0},
    {9, "traceId", K_HEX, 0, 0},
    {10, "spanId", K_HEX, 0, 0},
    {12, "eventName", K_STR, 0, 0},
};
static const field_t f_key_value[] = {
    {1, "key", K_STR, 0, 0},
    {2, "value", K_MSG, 0, M_ANY_VALUE},
};
static const field_t f_any_value[] = {
    {1, "stringValue", K_STR, 0, 0},
    {2, "boolValue", K_BOOL, 0, 0},
    {3, "intValue", K_INT64, 0, 0},
    {4, "doubleValue", K_DOUBLE, 0, 0},
    {5, "arrayValue", K_MSG, 0, M_ARRAY_VALUE},
    {6, "kvlistValue", K_MSG, 0, M_KV_LIST},
    {7, "bytesValue", K_B64, 0, 0},
};
static const field_t f_array_value[] = {{1, "values", K_MSG, 1, M_ANY_VALUE}};
static const field_t f_kv_list[] = {{1, "values", K_MSG, 1, M_KEY_VALUE}};

static const struct {
    const field_t *f;
    size_t n;
} messages[M_COUNT] = {
#define M(x)                                                                                       \
    {                                                                                              \
        x, sizeof x / sizeof x[0]                                                                  \
    }
    [M_REQUEST] = M(f_request),
    [M_RESOURCE_LOGS] = M(f_resource_logs),
    [M_RESOURCE] = M(f_resource),
    [M_SCOPE_LOGS] = M(f_scope_logs),
    [M_SCOPE] = M(f_scope),
    [M_LOG_RECORD] = M(f_log_record),
    [M_KEY_VALUE] = M(f_key_value),
    [M_ANY_VALUE] = M(f_any_value),
    [M_ARRAY_VALUE] = M(f_array_value),
    [M_KV_LIST] = M(f_kv_list),
#undef M
};

/* One field on the wire (common/pbwire.h). */
typedef pb_field_t wire_t;
#define next pb_next

static const unsigned wire_of[] = {
    [K_STR] = 2,  [K_HEX] = 2,     [K_B64] = 2,    [K_UINT] = 0,    [K_INT64] = 0,
    [K_BOOL] = 0, [K_FIXED64] = 1, [K_DOUBLE] = 1, [K_FIXED32] = 5, [K_MSG] = 2};

static void base64(buf_t *out, const unsigned char *s, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    buf_putc(out, '"');
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) |
                     (i + 2 < n ? s[i + 2] : 0);
        buf_putc(out, tab[v >> 18 & 63]);
        buf_putc(out, tab[v >> 12 & 63]);
        buf_putc(out, i + 1 < n ? tab[v >> 6 & 63] : '=');
        buf_putc(out, i + 2 < n ? tab[v & 63] : '=');
    }
    buf_putc(out, '"');
}

static int message(int m, const char *p, size_t n, buf_t *out, int depth, const char **err);

static int value(const field_t *f, const wire_t *w, buf_t *out, int depth, const char **err)
{
    char num[40];
    switch (f->kind) {
    case K_STR:
        json_str(out, w->p, w->n);
        return 0;
    case K_HEX:
        buf_putc(out, '"');
        for (size_t i = 0; i < w->n; i++) {
            snprintf(num, sizeof num, "%02x", (unsigned char)w->p[i]);
            buf_append(out, num, 2);
        }
        buf_putc(out, '"');
        return 0;
    case K_B64:
        base64(out, (const unsigned char *)w->p, w->n);
        return 0;
    case K_UINT:
    case K_FIXED32:
        buf_append_u64(out, w->v);
        return 0;
    case K_INT64:
        buf_putc(out, '"');
        buf_append_i64(out, (int64_t)w->v);
        buf_putc(out, '"');
        return 0;
    case K_FIXED64:
        buf_putc(out, '"');
        buf_append_u64(out, w->v);
        buf_putc(out, '"');
        return 0;
    case K_BOOL:
        buf_puts(out, w->v ? "true" : "false");
        return 0;
    case K_DOUBLE: {
        double d;
        memcpy(&d, &w->v, 8);
        if (isnan(d))
            buf_puts(out, "\"NaN\"");
        else if (isinf(d))
            buf_puts(out, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        else {
            snprintf(num, sizeof num, "%.17g", d);
            buf_puts(out, num);
        }
        return 0;
    }
    case K_MSG:
        return message(f->msg, w->p, w->n, out, depth + 1, err);
    }
    return -1;
}

/* Writes message m (its bytes p, n) as a JSON object: each known field
 * once, at its first occurrence, a repeated one as an array of every
 * occurrence (protobuf lets them interleave with other fields: the rest of
 * the message is scanned for them). */
static int message(int m, const char *p, size_t n, buf_t *out, int depth, const char **err)
{
    if (depth > OTLP_PB_MAX_DEPTH) {
        *err = "protobuf nested too deep";
        return -1;
    }
    const unsigned char *q = (const unsigned char *)p, *end = q + n;
    const field_t *fields = messages[m].f;
    uint32_t done = 0; /* bit per schema field written */
    int first = 1, rc;
    wire_t w;
    buf_putc(out, '{');
    while ((rc = next(&q, end, &w)) == 0) {
        size_t fi = 0;
        while (fi < messages[m].n &&
               (fields[fi].num != w.num || wire_of[fields[fi].kind] != w.type))
            fi++;
        if (fi == messages[m].n || (done >> fi & 1))
            continue; /* unknown, or written (a scalar's first value is kept) */
        done |= 1u << fi;
        const field_t *f = &fields[fi];
        if (!first)
            buf_putc(out, ',');
        first = 0;
        json_str(out, f->name, strlen(f->name));
        buf_putc(out, ':');
        if (!f->repeated) {
            if (value(f, &w, out, depth, err))
                return -1;
            continue;
        }
        buf_putc(out, '[');
        if (value(f, &w, out, depth, err))
            return -1;
        const unsigned char *r = q;
        wire_t x;
        while (next(&r, end, &x) == 0) {
            if (x.num != f->num || x.type != w.type)
                continue;
            buf_putc(out, ',');
            if (value(f, &x, out, depth, err))
                return -1;
        }
        buf_putc(out, ']');
    }
    if (rc < 0) {
        *err = "malformed protobuf: a field runs past its message";
        return -1;
    }
    buf_putc(out, '}');
    return 0;
}

int otlp_pb_to_json(const char *p, size_t n, buf_t *out, const char **err)
{
    return message(M_REQUEST, p, n, out, 0, err);
}
