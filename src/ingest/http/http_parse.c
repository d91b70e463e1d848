/* http_parse.c - HTTP ingest bodies into records: see http_parse.h. */
#include "http_parse.h"

#include <stdio.h>

#include "../../common/level.h"
#include "../../common/timeutil.h"
#include "pyfmt.h"

const char http_err_empty[] = "empty body";
const char http_err_no_records[] = "body holds no records";

enum http_body_kind http_body_kind(const char *ctype, size_t n)
{
    static const struct {
        const char *type;
        enum http_body_kind kind;
    } types[] = {
        {"application/x-www-form-urlencoded", HTTP_BODY_FORM},
        {"application/json", HTTP_BODY_JSON},
        {"application/x-ndjson", HTTP_BODY_NDJSON},
        {"application/ndjson", HTTP_BODY_NDJSON},
        {"application/jsonl", HTTP_BODY_NDJSON},
        {"application/x-jsonlines", HTTP_BODY_NDJSON},
        {"text/plain", HTTP_BODY_TEXT},
    };
    const char *semi = memchr(ctype, ';', n);
    slice_t media = slice_trim(slice_make(ctype, semi ? (size_t)(semi - ctype) : n));
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (slice_eq_nocase(media, types[i].type))
            return types[i].kind;
    return HTTP_BODY_UNKNOWN;
}

void http_parse_init(http_parse_t *hp, size_t max_msg)
{
    memset(hp, 0, sizeof *hp);
    hp->jp = json_parser_create(max_msg);
    recbuild_init(&hp->rb, max_msg);
}

void http_parse_free(http_parse_t *hp)
{
    json_parser_destroy(hp->jp);
    form_free(&hp->form);
    recbuild_free(&hp->rb);
    buf_free(&hp->text);
}

static int all_digits(slice_t s)
{
    if (!s.n || s.n > 18)
        return 0;
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] < '0' || s.p[i] > '9')
            return 0;
    return 1;
}

/* Keys a form may use for the record itself, and Python's bookkeeping
 * fields that describe the record rather than add to it. */
static const char *const consumed[] = {
    "log",     "msg",      "message", "args",    "level", "levelname",
    "levelno", "app",      "name",    "topic",   "host",  "pid",
    "process", "ts",       "time",    "created", "msecs", "relativeCreated",
    "asctime", "exc_info",
};

static int is_consumed(slice_t k)
{
    for (size_t i = 0; i < sizeof consumed / sizeof consumed[0]; i++)
        if (slice_eq(k, consumed[i]))
            return 1;
    return 0;
}

int http_parse_form(http_parse_t *hp, const form_t *f, batch_t *b, const rec_defaults_t *d,
                    const char **err)
{
    recbuild_t *rb = &hp->rb;
    slice_t v, args;

    recbuild_reset(rb);
    if (form_get(f, "log", &v)) {
        recbuild_set(rb, RF_MSG, v.p, v.n);
    } else if (form_get(f, "message", &v)) {
        recbuild_set(rb, RF_MSG, v.p, v.n);
    } else if (form_get(f, "msg", &v)) {
        /* Python sent the template and the repr of its args: format them
         * as LogRecord.getMessage() would; keep the raw args otherwise */
        buf_reset(&hp->text);
        if (form_get(f, "args", &args) && !slice_eq(args, "None") && args.n &&
            pyfmt_format(&hp->text, v.p, v.n, args.p, args.n) == 0) {
            recbuild_set(rb, RF_MSG, hp->text.data ? hp->text.data : "", hp->text.len);
        } else {
            recbuild_set(rb, RF_MSG, v.p, v.n);
            if (form_get(f, "args", &args) && !slice_eq(args, "()") && !slice_eq(args, "None")) {
                recbuild_field_key(rb, "args", 4);
                recbuild_field_str(rb, args.p, args.n);
            }
        }
    } else {
        *err = "form has no log, message or msg field";
        return 400;
    }

    static const char *const level_keys[] = {"level", "levelname", "levelno"};
    for (size_t i = 0; i < 3 && rb->level < 0; i++) {
        if (!form_get(f, level_keys[i], &v))
            continue;
        rb->level = level_parse(v.p, v.n);
        if (rb->level < 0 && !rb->level_unknown && v.n) {
            /* kept as sent; the record is stored at the default level */
            rb->level_unknown = 1;
            recbuild_field_key(rb, "level_raw", 9);
            recbuild_field_str(rb, v.p, v.n);
        }
    }
    if (rb->level >= 0)
        rb->level_unknown = 0;
    static const char *const ts_keys[] = {"ts", "time", "created"};
    for (size_t i = 0; i < 3 && !rb->has_ts; i++)
        if (form_get(f, ts_keys[i], &v) && time_parse_any(v.p, v.n, &rb->ts) == 0)
            rb->has_ts = 1;
    if (form_get(f, "app", &v) || form_get(f, "name", &v))
        recbuild_set(rb, RF_APP, v.p, v.n);
    if (form_get(f, "topic", &v))
        recbuild_set(rb, RF_TOPIC, v.p, v.n);
    if (form_get(f, "host", &v))
        recbuild_set(rb, RF_HOST, v.p, v.n);
    if ((form_get(f, "pid", &v) || form_get(f, "process", &v)) && !slice_eq(v, "None"))
        recbuild_set(rb, RF_PID, v.p, v.n);

    /* everything else is structured data: Python's pathname, lineno,
     * funcName, threadName..., or a custom handler's extra fields */
    for (size_t i = 0; i < f->n; i++) {
        slice_t k = form_key(f, i), val = form_val(f, i);
        if (is_consumed(k) || slice_eq(val, "None") || !k.n)
            continue;
        /* a key repeated later wins; skip the earlier ones */
        int later = 0;
        for (size_t j = i + 1; j < f->n && !later; j++) {
            slice_t kj = form_key(f, j);
            later = kj.n == k.n && memcmp(kj.p, k.p, k.n) == 0;
        }
        if (later)
            continue;
        recbuild_field_key(rb, k.p, k.n);
        if (all_digits(val))
            recbuild_field_raw(rb, val.p, val.n);
        else
            recbuild_field_str(rb, val.p, val.n);
    }
    recbuild_finish(rb, b, d);
    return 200;
}

int http_parse_defaults(const form_t *q, rec_defaults_t *d, const char **err)
{
    slice_t v;
    if (form_get(q, "app", &v))
        d->app = v;
    if (form_get(q, "topic", &v))
        d->topic = v;
    if (form_get(q, "host", &v))
        d->host = v;
    if (form_get(q, "level", &v)) {
        d->level = level_parse(v.p, v.n);
        if (d->level < 0) {
            *err = "unknown level in query (use emerg..debug or 0..7)";
            return -1;
        }
    }
    return 0;
}

static void parse_text(http_parse_t *hp, const char *s, size_t n, batch_t *b,
                       const rec_defaults_t *d)
{
    recbuild_t *rb = &hp->rb;
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - s) : n, len = end - i;
        if (len && s[i + len - 1] == '\r')
            len--;
        if (len) {
            recbuild_reset(rb);
            recbuild_set(rb, RF_MSG, s + i, len);
            recbuild_finish(rb, b, d);
        }
        i = end + 1;
    }
}

int http_parse_body(http_parse_t *hp, enum http_body_kind kind, const char *body, size_t n,
                    batch_t *b, const rec_defaults_t *d, ingest_report_t *rep, const char **err)
{
    size_t before = b->count;
    const char *why = NULL;

    if (n == 0) {
        *err = http_err_empty;
        return 400;
    }
    switch (kind) {
    case HTTP_BODY_FORM: {
        size_t at = 0;
        form_reset(&hp->form);
        if (form_parse(&hp->form, body, n, &why, &at)) {
            snprintf(hp->err, sizeof hp->err, "%s at byte %zu", why, at);
            *err = hp->err;
            return 400;
        }
        return http_parse_form(hp, &hp->form, b, d, err);
    }
    case HTTP_BODY_JSON:
        if (json_parse_doc(hp->jp, body, n, b, d, rep, &why)) {
            *err = why;
            return 400;
        }
        break;
    case HTTP_BODY_NDJSON:
        json_parse_lines(hp->jp, body, n, b, d, rep);
        break;
    case HTTP_BODY_TEXT:
        parse_text(hp, body, n, b, d);
        break;
    default:
        *err = "unsupported content type";
        return 415;
    }
    if (b->count == before) {
        *err = rep->rejected ? "no valid records in body" : http_err_no_records;
        return 400;
    }
    return 200;
}
