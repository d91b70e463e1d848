/* otlp_parse.c - OTLP/HTTP JSON logs: see otlp_parse.h. */
#include "otlp_parse.h"

#include <stdlib.h>

#include "../../common/json_write.h"
#include "../../common/level.h"
#include "../../common/timeutil.h"

void otlp_parser_init(otlp_parser_t *op, size_t max_msg)
{
    memset(op, 0, sizeof *op);
    jdom_init(&op->dom);
    recbuild_init(&op->rb, max_msg);
}

void otlp_parser_free(otlp_parser_t *op)
{
    jdom_free(&op->dom);
    recbuild_free(&op->rb);
    buf_free(&op->key);
    buf_free(&op->value);
}

int otlp_level(long n)
{
    if (n >= 1 && n <= 8)
        return LEVEL_DEBUG;
    if (n >= 9 && n <= 12)
        return LEVEL_INFO;
    if (n >= 13 && n <= 16)
        return LEVEL_WARNING;
    if (n >= 17 && n <= 20)
        return LEVEL_ERROR;
    if (n >= 21 && n <= 24)
        return LEVEL_CRIT;
    return -1;
}

/* An unsigned decimal (a JSON number or a string of digits, as int64s are
 * sent in JSON). 0 or -1. */
static int number_of(const jdom_t *d, size_t i, int64_t *out)
{
    int t = jdom_type(d, i);
    if (t != J_NUM && t != J_STR)
        return -1;
    slice_t s = jdom_text(d, i);
    if (!s.n || s.n > 19)
        return -1;
    int64_t v = 0;
    for (size_t k = 0; k < s.n; k++) {
        if (s.p[k] < '0' || s.p[k] > '9' || v > (INT64_MAX - (s.p[k] - '0')) / 10)
            return -1;
        v = v * 10 + (s.p[k] - '0');
    }
    *out = v;
    return 0;
}

/* An optional '-' and 1..19 digits, without a leading zero. */
static int is_integer(slice_t s)
{
    size_t i = s.n && s.p[0] == '-';
    if (i >= s.n || s.n - i > 19 || (s.p[i] == '0' && s.n - i > 1))
        return 0;
    for (; i < s.n; i++)
        if (s.p[i] < '0' || s.p[i] > '9')
            return 0;
    return 1;
}

/* Writes an AnyValue as JSON ({"stringValue":"x"} is "x", a kvlist an
 * object, an array an array). */
static void any_json(const jdom_t *d, size_t v, buf_t *out, int depth)
{
    size_t x;
    if (jdom_type(d, v) != J_OBJ || depth > JDOM_MAX_DEPTH) {
        buf_puts(out, "null");
        return;
    }
    if ((x = jdom_get(d, v, "stringValue")) || (x = jdom_get(d, v, "bytesValue"))) {
        slice_t s = jdom_text(d, x);
        json_str(out, s.p, s.n);
    } else if ((x = jdom_get(d, v, "intValue")) || (x = jdom_get(d, v, "doubleValue"))) {
        /* int64s come as strings in JSON: written back as numbers */
        slice_t s = jdom_text(d, x);
        if (jdom_type(d, x) == J_NUM || is_integer(s))
            buf_append(out, s.p, s.n);
        else
            json_str(out, s.p, s.n); /* "NaN", "Infinity": kept as text */
    } else if ((x = jdom_get(d, v, "boolValue"))) {
        buf_puts(out, jdom_type(d, x) == J_TRUE ? "true" : "false");
    } else if ((x = jdom_get(d, v, "arrayValue"))) {
        size_t vals = jdom_get(d, x, "values");
        buf_putc(out, '[');
        if (vals && jdom_type(d, vals) == J_ARR)
            for (size_t e = jdom_first(d, vals); e < jdom_end(d, vals); e = jdom_end(d, e)) {
                if (e != jdom_first(d, vals))
                    buf_putc(out, ',');
                any_json(d, e, out, depth + 1);
            }
        buf_putc(out, ']');
    } else if ((x = jdom_get(d, v, "kvlistValue"))) {
        size_t vals = jdom_get(d, x, "values");
        int first = 1;
        buf_putc(out, '{');
        if (vals && jdom_type(d, vals) == J_ARR)
            for (size_t e = jdom_first(d, vals); e < jdom_end(d, vals); e = jdom_end(d, e)) {
                size_t k = jdom_get(d, e, "key");
                if (!k || jdom_type(d, k) != J_STR)
                    continue;
                if (!first)
                    buf_putc(out, ',');
                first = 0;
                slice_t ks = jdom_text(d, k);
                json_str(out, ks.p, ks.n);
                buf_putc(out, ':');
                any_json(d, jdom_get(d, e, "value"), out, depth + 1);
            }
        buf_putc(out, '}');
    } else {
        buf_puts(out, "null");
    }
}

/* The string of an AnyValue, or NULL slice when it is not a string. */
static slice_t any_str(const jdom_t *d, size_t v)
{
    size_t x = jdom_type(d, v) == J_OBJ ? jdom_get(d, v, "stringValue") : 0;
    return x && jdom_type(d, x) == J_STR ? jdom_text(d, x) : SLICE_NULL;
}

/* Adds a KeyValue list to fields, keys prefixed; resource attributes that
 * name record parts set them instead. */
static void attributes(otlp_parser_t *op, size_t list, const char *prefix, int resource)
{
    const jdom_t *d = &op->dom;
    recbuild_t *rb = &op->rb;
    if (!list || jdom_type(d, list) != J_ARR)
        return;
    for (size_t e = jdom_first(d, list); e < jdom_end(d, list); e = jdom_end(d, e)) {
        size_t k = jdom_get(d, e, "key"), v = jdom_get(d, e, "value");
        if (!k || jdom_type(d, k) != J_STR)
            continue;
        slice_t ks = jdom_text(d, k), s = any_str(d, v);
        if (resource && s.p && s.n) {
            if (slice_eq(ks, "service.name")) {
                recbuild_set(rb, RF_APP, s.p, s.n);
                continue;
            }
            if (slice_eq(ks, "host.name")) {
                recbuild_set(rb, RF_HOST, s.p, s.n);
                continue;
            }
        }
        size_t iv = jdom_type(d, v) == J_OBJ ? jdom_get(d, v, "intValue") : 0;
        if (resource && slice_eq(ks, "process.pid") && (iv || s.p)) {
            slice_t pid = iv ? jdom_text(d, iv) : s;
            recbuild_set(rb, RF_PID, pid.p, pid.n);
            continue;
        }
        buf_reset(&op->key);
        buf_puts(&op->key, prefix);
        buf_append(&op->key, ks.p, ks.n);
        recbuild_field_key(rb, op->key.data, op->key.len);
        if (s.p) {
            recbuild_field_str(rb, s.p, s.n);
        } else {
            buf_reset(&op->value);
            any_json(d, v, &op->value, 0);
            recbuild_field_raw(rb, op->value.data, op->value.len);
        }
    }
}

static void str_field(recbuild_t *rb, const char *key, slice_t s)
{
    recbuild_field_key(rb, key, strlen(key));
    recbuild_field_str(rb, s.p, s.n);
}

static void log_record(otlp_parser_t *op, size_t resource, size_t scope, size_t lr, batch_t *b,
                       const rec_defaults_t *d, ingest_report_t *rep)
{
    const jdom_t *dom = &op->dom;
    recbuild_t *rb = &op->rb;
    size_t no = ++op->records;
    if (jdom_type(dom, lr) != J_OBJ) {
        ingest_reject(rep, no, "log record %zu is not an object", no);
        return;
    }
    recbuild_reset(rb);
    if (resource)
        attributes(op, jdom_get(dom, resource, "attributes"), "resource.", 1);
    size_t x;
    if (scope && (x = jdom_get(dom, scope, "name")) && jdom_type(dom, x) == J_STR &&
        jdom_text(dom, x).n)
        str_field(rb, "scope.name", jdom_text(dom, x));
    attributes(op, jdom_get(dom, lr, "attributes"), "", 0);
    int64_t ns;
    if (((x = jdom_get(dom, lr, "timeUnixNano")) && number_of(dom, x, &ns) == 0 && ns > 0) ||
        ((x = jdom_get(dom, lr, "observedTimeUnixNano")) && number_of(dom, x, &ns) == 0 &&
         ns > 0)) {
        rb->ts = ns;
        rb->has_ts = 1;
    }
    int64_t sev;
    slice_t text = (x = jdom_get(dom, lr, "severityText")) && jdom_type(dom, x) == J_STR
                       ? jdom_text(dom, x)
                       : SLICE_NULL;
    if ((x = jdom_get(dom, lr, "severityNumber")) && number_of(dom, x, &sev) == 0 &&
        otlp_level((long)sev) >= 0)
        rb->level = otlp_level((long)sev);
    else if (text.n && level_parse(text.p, text.n) >= 0)
        rb->level = level_parse(text.p, text.n);
    if (text.n && (rb->level < 0 || level_parse(text.p, text.n) != rb->level))
        str_field(rb, "severity_text", text);
    if ((x = jdom_get(dom, lr, "traceId")) && jdom_type(dom, x) == J_STR && jdom_text(dom, x).n)
        str_field(rb, "trace_id", jdom_text(dom, x));
    if ((x = jdom_get(dom, lr, "spanId")) && jdom_type(dom, x) == J_STR && jdom_text(dom, x).n)
        str_field(rb, "span_id", jdom_text(dom, x));
    size_t body = jdom_get(dom, lr, "body");
    slice_t s = body ? any_str(dom, body) : SLICE_NULL;
    if (s.p) {
        recbuild_set(rb, RF_MSG, s.p, s.n);
    } else if (body) {
        buf_reset(&op->value);
        any_json(dom, body, &op->value, 0);
        recbuild_set(rb, RF_MSG, op->value.data, op->value.len);
    } else {
        recbuild_set(rb, RF_MSG, "", 0);
    }
    recbuild_finish(rb, b, d);
}

int otlp_parse_json(otlp_parser_t *op, const char *s, size_t n, batch_t *b, const rec_defaults_t *d,
                    ingest_report_t *rep, const char **err)
{
    jdom_t *dom = &op->dom;
    op->records = 0;
    if (jdom_parse(dom, s, n)) {
        *err = dom->err;
        return -1;
    }
    size_t rl = jdom_type(dom, 0) == J_OBJ ? jdom_get(dom, 0, "resourceLogs") : 0;
    if (jdom_type(dom, 0) != J_OBJ || (rl && jdom_type(dom, rl) != J_ARR)) {
        *err = "not an OTLP logs request: expected {\"resourceLogs\":[...]}";
        return -1;
    }
    if (!rl)
        return 0; /* an empty request is a valid one */
    const char *unit = rep->unit;
    rep->unit = "log_record";
    for (size_t r = jdom_first(dom, rl); r < jdom_end(dom, rl); r = jdom_end(dom, r)) {
        size_t resource = jdom_get(dom, r, "resource");
        size_t sl = jdom_get(dom, r, "scopeLogs");
        if (resource && jdom_type(dom, resource) != J_OBJ)
            resource = 0;
        if (!sl || jdom_type(dom, sl) != J_ARR)
            continue;
        for (size_t sc = jdom_first(dom, sl); sc < jdom_end(dom, sl); sc = jdom_end(dom, sc)) {
            size_t scope = jdom_get(dom, sc, "scope");
            size_t lrs = jdom_get(dom, sc, "logRecords");
            if (scope && jdom_type(dom, scope) != J_OBJ)
                scope = 0;
            if (!lrs || jdom_type(dom, lrs) != J_ARR)
                continue;
            for (size_t lr = jdom_first(dom, lrs); lr < jdom_end(dom, lrs); lr = jdom_end(dom, lr))
                log_record(op, resource, scope, lr, b, d, rep);
        }
    }
    rep->unit = unit;
    return 0;
}
