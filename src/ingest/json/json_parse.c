/* json_parse.c - JSON records on yajl's event parser: see json_parse.h.
 *
 * yajl was chosen because it validates strictly, streams events without
 * building a tree, hands strings over without copying when they hold no
 * escapes, and parses a stream of concatenated values with one handle
 * (yajl_allow_multiple_values), so NDJSON costs no allocation per line.
 * After an error the handle is replaced: errors are the rare path.
 */
#include "json_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <yajl/yajl_parse.h>

#include "../../common/level.h"
#include "../../common/timeutil.h"

#define MAX_DEPTH 32

enum target {
    T_NONE, /* unknown key: goes to fields */
    T_MSG,
    T_LEVEL,
    T_TS,
    T_APP,
    T_TOPIC,
    T_HOST,
    T_PID,
    T_FIELDS,
    T_SEQ,   /* with json_wrap_t.origin only */
    T_TRUNC, /* likewise */
    T_COUNT,
};

#define K(name, t, rank)                                                                           \
    {                                                                                              \
        name, sizeof name - 1, t, rank                                                             \
    }
static const struct {
    const char *key;
    size_t len;
    enum target t;
    int rank; /* among keys of the same target, the higher wins */
} keymap[] = {
    K("message", T_MSG, 3),   K("msg", T_MSG, 2),         K("log", T_MSG, 1),
    K("level", T_LEVEL, 4),   K("levelname", T_LEVEL, 3), K("severity", T_LEVEL, 2),
    K("levelno", T_LEVEL, 1), K("ts", T_TS, 5),           K("time", T_TS, 4),
    K("timestamp", T_TS, 3),  K("@timestamp", T_TS, 2),   K("created", T_TS, 1),
    K("app", T_APP, 3),       K("service", T_APP, 2),     K("name", T_APP, 1),
    K("topic", T_TOPIC, 1),   K("host", T_HOST, 2),       K("hostname", T_HOST, 1),
    K("pid", T_PID, 2),       K("process", T_PID, 1),     K("fields", T_FIELDS, 1),
    K("seq", T_SEQ, 1),       K("truncated", T_TRUNC, 1),
};
#undef K

struct json_parser {
    yajl_handle h;
    recbuild_t rb;
    batch_t *batch;
    const rec_defaults_t *defs;
    ingest_report_t *rep;
    size_t line;

    int depth;      /* nesting depth of the current position */
    int rec_depth;  /* depth of the record object's members; 0 outside */
    int top_array;  /* the value being parsed is an array of records */
    size_t element; /* 1-based index of the current top-array element */
    int values;     /* top-level values seen in this document */
    int skip_depth; /* > 0: ignoring a rejected element until depth drops */

    enum target cur; /* what the current record-level key maps to */
    int cur_rank;
    int ranks[T_COUNT]; /* rank of the key that set each target */

    buf_t extra; /* json_wrap_t */
    int origin, msg_optional;
    char onode[33]; /* json_wrap_t.origin_node */
    /* origin: the record's seq, and the pair its own fields brought */
    char seq[24], f_node[33], f_seq[24];
    int has_seq, has_f_node, has_f_seq;

    buf_t path; /* dotted key of the current nested value */
    size_t mark[MAX_DEPTH + 2];

    int raw;                            /* > 0: inside an array value, copied as JSON */
    unsigned char raw_n[MAX_DEPTH + 2]; /* 1 once a raw depth has an item */
    int raw_after_key;

    char err[320];
};

static void reset_doc(json_parser_t *jp)
{
    jp->depth = jp->rec_depth = jp->top_array = jp->values = jp->skip_depth = 0;
    jp->element = 0;
    jp->raw = 0;
    jp->raw_after_key = 0;
}

static void fail(json_parser_t *jp, const char *msg)
{
    if (!jp->err[0])
        snprintf(jp->err, sizeof jp->err, "%s", msg);
}

static void begin_record(json_parser_t *jp)
{
    recbuild_reset(&jp->rb);
    jp->has_seq = jp->has_f_node = jp->has_f_seq = 0;
    if (jp->extra.len) {
        buf_putc(&jp->rb.fields, '{');
        buf_append(&jp->rb.fields, jp->extra.data, jp->extra.len);
    }
    memset(jp->ranks, 0, sizeof jp->ranks);
    jp->rec_depth = jp->depth;
}

/* Writes the separator before a value inside a raw (array) value. */
static void raw_sep(json_parser_t *jp)
{
    if (jp->raw_after_key) {
        jp->raw_after_key = 0;
        return;
    }
    if (jp->raw_n[jp->raw])
        recbuild_field_raw(&jp->rb, ",", 1);
    jp->raw_n[jp->raw] = 1;
}

/* Starts the fields entry for the value at the current position. */
static void field_key(json_parser_t *jp)
{
    recbuild_field_key(&jp->rb, jp->path.data, jp->path.len);
}

/* Moves the current text of target f into fields under key, so a value
 * displaced by a higher-ranked key is kept. */
static void displace(json_parser_t *jp, enum rec_field f, const char *key)
{
    if (!recbuild_has(&jp->rb, f))
        return;
    recbuild_field_key(&jp->rb, key, strlen(key));
    recbuild_field_str(&jp->rb, jp->rb.scratch.data + jp->rb.off[f], jp->rb.len[f]);
}

static const char *target_key(enum target t, int rank)
{
    for (size_t i = 0; i < sizeof keymap / sizeof keymap[0]; i++)
        if (keymap[i].t == t && keymap[i].rank == rank)
            return keymap[i].key;
    return "value";
}

/* A seq as logshipd writes it: 1 to 20 digits. */
static int seq_digits(const char *s, size_t n)
{
    if (!n || n > 20)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int node_hex(const char *s, size_t n)
{
    if (n != 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* Origin mode, a member of the record's "fields": takes a valid
 * origin_node or origin_seq aside (origin_finish places them). */
static int origin_member(json_parser_t *jp, char kind, const char *s, size_t n)
{
    slice_t k = slice_make(jp->path.data, jp->path.len);
    if (kind == 's' && slice_eq(k, "origin_node") && !jp->has_f_node && node_hex(s, n)) {
        memcpy(jp->f_node, s, n);
        jp->f_node[n] = '\0';
        jp->has_f_node = 1;
        return 1;
    }
    if (kind == 'n' && slice_eq(k, "origin_seq") && !jp->has_f_seq && seq_digits(s, n)) {
        memcpy(jp->f_seq, s, n);
        jp->f_seq[n] = '\0';
        jp->has_f_seq = 1;
        return 1;
    }
    return 0;
}

static void put_field(recbuild_t *rb, const char *k, const char *v, int str)
{
    recbuild_field_key(rb, k, strlen(k));
    if (str)
        recbuild_field_str(rb, v, strlen(v));
    else
        recbuild_field_raw(rb, v, strlen(v));
}

/* Origin mode, the record's end: its fields begin with one origin pair,
 * the first hop's when it came through a relay; what was taken aside and
 * is not the pair goes back among the fields. */
static void origin_finish(json_parser_t *jp)
{
    recbuild_t *rb = &jp->rb;
    const char *node = NULL, *seq = NULL;
    if (jp->has_f_node && jp->has_f_seq) {
        node = jp->f_node;
        seq = jp->f_seq;
        jp->has_f_node = jp->has_f_seq = 0;
        if (jp->has_seq)
            put_field(rb, "seq", jp->seq, 0); /* the relay's: kept, not the identity */
    } else if (jp->has_seq) {
        node = jp->onode;
        seq = jp->seq;
    }
    if (jp->has_f_node)
        put_field(rb, "origin_node", jp->f_node, 1);
    if (jp->has_f_seq)
        put_field(rb, "origin_seq", jp->f_seq, 0);
    if (!node)
        return;
    /* "origin_node":"NODE","origin_seq":SEQ, without printf per record */
    char pair[128];
    size_t sn = strlen(seq);
    int pn = 0;
    memcpy(pair, "\"origin_node\":\"", 15);
    memcpy(pair + 15, node, 32);
    memcpy(pair + 47, "\",\"origin_seq\":", 15);
    memcpy(pair + 62, seq, sn);
    pn = (int)(62 + sn);
    buf_t *f = &rb->fields;
    if (!f->len) {
        buf_putc(f, '{');
        buf_append(f, pair, (size_t)pn);
        return;
    }
    /* after the '{': the pair, then a ',' and the rest */
    buf_reserve(f, (size_t)pn + 1);
    memmove(f->data + 1 + pn + 1, f->data + 1, f->len - 1);
    memcpy(f->data + 1, pair, (size_t)pn);
    f->data[1 + pn] = ',';
    f->len += (size_t)pn + 1;
}

/* Handles a scalar; kind is 's' string, 'n' number, 'l' literal (true,
 * false, null). Returns 1 to go on, 0 to stop the parse. */
static int scalar(json_parser_t *jp, char kind, const char *s, size_t n)
{
    if (jp->skip_depth)
        return 1;
    if (jp->raw) {
        raw_sep(jp);
        if (kind == 's')
            recbuild_field_str(&jp->rb, s, n);
        else
            recbuild_field_raw(&jp->rb, s, n);
        return 1;
    }
    if (jp->depth == 0) {
        jp->values++;
        fail(jp, "expected a JSON object or an array of objects");
        return 0;
    }
    if (jp->top_array && jp->depth == 1) {
        jp->element++;
        ingest_reject(jp->rep, jp->line ? jp->line : jp->element, "element %zu is not an object",
                      jp->element);
        return 1;
    }
    if (jp->depth == jp->rec_depth && jp->cur != T_NONE && jp->cur != T_FIELDS) {
        recbuild_t *rb = &jp->rb;
        enum target t = jp->cur;
        int better = jp->cur_rank > jp->ranks[t];
        enum rec_field rf = RF_COUNT;
        switch (t) {
        case T_MSG:
            if (kind == 'l')
                break;
            rf = RF_MSG;
            break;
        case T_APP:
            rf = kind == 's' ? RF_APP : RF_COUNT;
            break;
        case T_TOPIC:
            rf = kind == 's' ? RF_TOPIC : RF_COUNT;
            break;
        case T_HOST:
            rf = kind == 's' ? RF_HOST : RF_COUNT;
            break;
        case T_PID:
            rf = kind != 'l' ? RF_PID : RF_COUNT;
            break;
        case T_LEVEL: {
            int lv = kind == 'l' ? -1 : level_parse(s, n);
            if (lv >= 0 && better) {
                rb->level = lv;
                rb->level_unknown = 0;
                jp->ranks[t] = jp->cur_rank;
                return 1;
            }
            if (lv < 0 && kind != 'l' && rb->level < 0 && !rb->level_unknown) {
                /* "bogus": kept as it was sent, the record stored at info */
                rb->level_unknown = 1;
                recbuild_field_key(rb, "level_raw", 9);
                if (kind == 's')
                    recbuild_field_str(rb, s, n);
                else
                    recbuild_field_raw(rb, s, n);
                return 1;
            }
            break;
        }
        case T_SEQ:
            if (kind != 'n' || !seq_digits(s, n))
                break;
            memcpy(jp->seq, s, n);
            jp->seq[n] = '\0';
            jp->has_seq = 1; /* placed at the record's end (origin_finish) */
            return 1;
        case T_TRUNC:
            if (kind != 'l' || n != 4 || memcmp(s, "true", 4) != 0)
                break;
            rb->flags |= RECORD_F_TRUNCATED;
            return 1;
        case T_TS: {
            int64_t ns;
            int ok = kind == 's'   ? time_parse_any(s, n, &ns) == 0
                     : kind == 'n' ? time_parse_epoch(s, n, &ns) == 0
                                   : 0;
            if (ok && better) {
                rb->ts = ns;
                rb->has_ts = 1;
                jp->ranks[t] = jp->cur_rank;
                return 1;
            }
            break;
        }
        default:
            break;
        }
        if (rf != RF_COUNT && better) {
            if (jp->ranks[t])
                displace(jp, rf, target_key(t, jp->ranks[t]));
            recbuild_set(rb, rf, s, n);
            jp->ranks[t] = jp->cur_rank;
            return 1;
        }
    }
    /* a relayed record's first origin, among its own fields */
    if (jp->origin && !jp->raw && jp->depth == jp->rec_depth + 1 && jp->cur == T_FIELDS &&
        origin_member(jp, kind, s, n))
        return 1;
    /* anything else is kept in fields */
    field_key(jp);
    if (kind == 's')
        recbuild_field_str(&jp->rb, s, n);
    else
        recbuild_field_raw(&jp->rb, s, n);
    return 1;
}

static int on_null(void *ctx)
{
    return scalar(ctx, 'l', "null", 4);
}

static int on_boolean(void *ctx, int v)
{
    return scalar(ctx, 'l', v ? "true" : "false", v ? 4 : 5);
}

static int on_number(void *ctx, const char *s, size_t n)
{
    return scalar(ctx, 'n', s, n);
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
    return scalar(ctx, 's', (const char *)s, n);
}

static int push(json_parser_t *jp)
{
    if (jp->depth >= MAX_DEPTH) {
        fail(jp, "JSON nested deeper than 32 levels");
        return 0;
    }
    jp->depth++;
    return 1;
}

static int on_start_map(void *ctx)
{
    json_parser_t *jp = ctx;
    if (jp->skip_depth) {
        jp->depth++;
        return 1;
    }
    if (jp->raw) {
        raw_sep(jp);
        recbuild_field_raw(&jp->rb, "{", 1);
        if (!push(jp))
            return 0;
        jp->raw++;
        jp->raw_n[jp->raw] = 0;
        return 1;
    }
    if (jp->depth == 0) {
        jp->values++;
        if (jp->values > 1) {
            fail(jp, "more than one JSON value");
            return 0;
        }
        push(jp);
        begin_record(jp);
        return 1;
    }
    if (jp->top_array && jp->depth == 1) {
        jp->element++;
        push(jp);
        begin_record(jp);
        return 1;
    }
    /* a nested object: its members become dotted fields */
    if (jp->depth == jp->rec_depth && jp->cur == T_FIELDS)
        jp->path.len = 0;
    if (!push(jp))
        return 0;
    jp->mark[jp->depth] = jp->path.len;
    return 1;
}

static int on_map_key(void *ctx, const unsigned char *k, size_t n)
{
    json_parser_t *jp = ctx;
    if (jp->skip_depth)
        return 1;
    if (jp->raw) {
        raw_sep(jp);
        recbuild_field_str(&jp->rb, (const char *)k, n);
        recbuild_field_raw(&jp->rb, ":", 1);
        jp->raw_after_key = 1;
        return 1;
    }
    if (jp->depth == jp->rec_depth) {
        jp->cur = T_NONE;
        jp->cur_rank = 0;
        for (size_t i = 0; i < sizeof keymap / sizeof keymap[0]; i++) {
            if (keymap[i].len == n && memcmp(keymap[i].key, k, n) == 0) {
                jp->cur = keymap[i].t;
                jp->cur_rank = keymap[i].rank;
                break;
            }
        }
        if ((jp->cur == T_SEQ || jp->cur == T_TRUNC) && !jp->origin)
            jp->cur = T_NONE;
        jp->path.len = 0;
    } else {
        jp->path.len = jp->mark[jp->depth];
        if (jp->path.len)
            buf_putc(&jp->path, '.');
    }
    buf_append(&jp->path, k, n);
    return 1;
}

static int on_end_map(void *ctx)
{
    json_parser_t *jp = ctx;
    if (jp->skip_depth) {
        jp->depth--;
        if (jp->depth < jp->skip_depth)
            jp->skip_depth = 0;
        return 1;
    }
    if (jp->raw) {
        recbuild_field_raw(&jp->rb, "}", 1);
        jp->raw--;
        jp->depth--;
        return 1;
    }
    if (jp->depth == jp->rec_depth) {
        jp->rec_depth = 0;
        if (jp->origin)
            origin_finish(jp);
        if (!recbuild_has(&jp->rb, RF_MSG) && jp->msg_optional)
            recbuild_set(&jp->rb, RF_MSG, "", 0);
        if (!recbuild_has(&jp->rb, RF_MSG)) {
            /* as a form without log=: a record must say something */
            if (!jp->top_array) {
                fail(jp, "record has no message: use message, msg or log");
                return 0;
            }
            ingest_reject(jp->rep, jp->line ? jp->line : jp->element,
                          "element %zu has no message: use message, msg or log", jp->element);
        } else {
            recbuild_finish(&jp->rb, jp->batch, jp->defs);
        }
    }
    jp->depth--;
    return 1;
}

static int on_start_array(void *ctx)
{
    json_parser_t *jp = ctx;
    if (jp->skip_depth) {
        jp->depth++;
        return 1;
    }
    if (jp->raw) {
        raw_sep(jp);
        recbuild_field_raw(&jp->rb, "[", 1);
        if (!push(jp))
            return 0;
        jp->raw++;
        jp->raw_n[jp->raw] = 0;
        return 1;
    }
    if (jp->depth == 0) {
        jp->values++;
        if (jp->values > 1) {
            fail(jp, "more than one JSON value");
            return 0;
        }
        jp->top_array = 1;
        push(jp);
        return 1;
    }
    if (jp->top_array && jp->depth == 1) {
        jp->element++;
        ingest_reject(jp->rep, jp->line ? jp->line : jp->element, "element %zu is not an object",
                      jp->element);
        push(jp);
        jp->skip_depth = jp->depth;
        return 1;
    }
    /* an array value inside a record is kept whole, as JSON */
    field_key(jp);
    recbuild_field_raw(&jp->rb, "[", 1);
    if (!push(jp))
        return 0;
    jp->raw = 1;
    jp->raw_n[1] = 0;
    return 1;
}

static int on_end_array(void *ctx)
{
    json_parser_t *jp = ctx;
    if (jp->skip_depth) {
        jp->depth--;
        if (jp->depth < jp->skip_depth)
            jp->skip_depth = 0;
        return 1;
    }
    if (jp->raw) {
        recbuild_field_raw(&jp->rb, "]", 1);
        jp->raw--;
    }
    jp->depth--;
    return 1;
}

static const yajl_callbacks callbacks = {
    on_null,      on_boolean, NULL,       NULL,           on_number,    on_string,
    on_start_map, on_map_key, on_end_map, on_start_array, on_end_array,
};

static void new_handle(json_parser_t *jp)
{
    if (jp->h)
        yajl_free(jp->h);
    jp->h = yajl_alloc(&callbacks, NULL, jp);
    if (!jp->h)
        oom(sizeof(void *));
    yajl_config(jp->h, yajl_allow_multiple_values, 1);
    /* invalid UTF-8 is repaired to U+FFFD by the record builder */
    yajl_config(jp->h, yajl_dont_validate_strings, 1);
}

json_parser_t *json_parser_create(size_t max_msg)
{
    json_parser_t *jp = xcalloc(1, sizeof *jp);
    recbuild_init(&jp->rb, max_msg);
    new_handle(jp);
    return jp;
}

void json_parser_destroy(json_parser_t *jp)
{
    if (!jp)
        return;
    if (jp->h)
        yajl_free(jp->h);
    recbuild_free(&jp->rb);
    buf_free(&jp->path);
    buf_free(&jp->extra);
    free(jp);
}

void json_parser_set_wrap(json_parser_t *jp, const json_wrap_t *w)
{
    buf_reset(&jp->extra);
    jp->origin = w && w->origin_node && node_hex(w->origin_node, strlen(w->origin_node));
    if (jp->origin)
        memcpy(jp->onode, w->origin_node, 33);
    jp->msg_optional = w && w->msg_optional;
    if (w && w->extra_len)
        buf_append(&jp->extra, w->extra, w->extra_len);
}

/* Runs one document through the handle. Returns 0 or -1 with jp->err set. */
static int run(json_parser_t *jp, const char *s, size_t n)
{
    jp->err[0] = '\0';
    reset_doc(jp);
    yajl_status st = yajl_parse(jp->h, (const unsigned char *)s, n);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(jp->h);
    if (st == yajl_status_ok && jp->values == 1 && jp->depth == 0) {
        /* yajl takes a token cut short after the value (a '"' or "tr")
         * as one to be finished by the next document: refuse it, and
         * start the next one on a fresh handle */
        size_t end = n;
        while (end && (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\r' ||
                       s[end - 1] == '\n'))
            end--;
        if (end && (s[end - 1] == '}' || s[end - 1] == ']'))
            return 0;
        fail(jp, "invalid JSON: an unfinished token after the JSON value");
    }
    if (st == yajl_status_error) {
        unsigned char *msg = yajl_get_error(jp->h, 0, NULL, 0);
        size_t at = yajl_get_bytes_consumed(jp->h);
        char clean[200];
        /* yajl's message ends in a newline and may start with a kind */
        snprintf(clean, sizeof clean, "%s", msg ? (const char *)msg : "invalid JSON");
        size_t cl = strlen(clean);
        while (cl && (clean[cl - 1] == '\n' || clean[cl - 1] == ' '))
            clean[--cl] = '\0';
        snprintf(jp->err, sizeof jp->err, "invalid JSON near byte %zu: %s", at, clean);
        if (msg)
            yajl_free_error(jp->h, msg);
    } else if (jp->values == 0) {
        fail(jp, "no JSON value");
    }
    fail(jp, "invalid JSON");
    new_handle(jp);
    return -1;
}

int json_parse_doc(json_parser_t *jp, const char *s, size_t n, batch_t *b, const rec_defaults_t *d,
                   ingest_report_t *rep, const char **err)
{
    size_t mark = b->frames.len, count = b->count;
    ingest_report_t saved = *rep;
    jp->batch = b;
    jp->defs = d;
    jp->rep = rep;
    jp->line = 0;
    const char *unit = rep->unit;
    rep->unit = "element";
    int rc = run(jp, s, n);
    rep->unit = unit;
    if (rc == 0)
        return 0;
    batch_truncate(b, mark, count);
    rep->rejected = saved.rejected;
    rep->listed = saved.listed;
    rep->json.len = saved.json.len;
    *err = jp->err;
    return -1;
}

void json_parse_lines(json_parser_t *jp, const char *s, size_t n, batch_t *b,
                      const rec_defaults_t *d, ingest_report_t *rep)
{
    jp->batch = b;
    jp->defs = d;
    jp->rep = rep;
    size_t i = 0, line = 0;
    while (i < n) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - s) : n, len = end - i;
        line++;
        if (len && s[i + len - 1] == '\r')
            len--;
        size_t k = 0;
        while (k < len && (s[i + k] == ' ' || s[i + k] == '\t'))
            k++;
        if (k < len) {
            size_t mark = b->frames.len, count = b->count;
            jp->line = line;
            if (run(jp, s + i, len)) {
                batch_truncate(b, mark, count);
                ingest_reject(rep, line, "%s", jp->err);
            }
        }
        i = end + 1;
    }
}
