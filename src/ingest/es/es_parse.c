/* es_parse.c - Elasticsearch _bulk bodies: see es_parse.h. */
#include "es_parse.h"

#include <stdio.h>

#include "../../common/json_write.h"
#include "../../common/utf8.h"

static const jmap_key_t doc_keys[] = {
    {"message", JM_MSG, 3},
    {"msg", JM_MSG, 2},
    {"log", JM_MSG, 1}, /* Fluent Bit's and Docker's */
    {"@timestamp", JM_TS, 4},
    {"timestamp", JM_TS, 3},
    {"timereported", JM_TS, 2}, /* rsyslog's default template */
    {"time", JM_TS, 1},
    {"log.level", JM_LEVEL, 4},
    {"level", JM_LEVEL, 3},
    {"severity", JM_LEVEL, 2},
    {"priority", JM_LEVEL, 1},
    {"host.name", JM_HOST, 4},
    {"host.hostname", JM_HOST, 3},
    {"host", JM_HOST, 2},
    {"fromhost", JM_HOST, 1},
    {"service.name", JM_APP, 4},
    {"app", JM_APP, 3},
    {"programname", JM_APP, 2},
    {"process.pid", JM_PID, 2},
    {"pid", JM_PID, 1},
    {"topic", JM_TOPIC, 1},
};
static const jmap_t doc_map = {doc_keys, sizeof doc_keys / sizeof doc_keys[0], NULL};

enum op { OP_NONE, OP_INDEX, OP_CREATE, OP_UPDATE, OP_DELETE };
static const char *const op_names[] = {"index", "index", "create", "update", "delete"};

void es_parser_init(es_parser_t *ep, size_t max_msg)
{
    memset(ep, 0, sizeof *ep);
    jdom_init(&ep->dom);
    recbuild_init(&ep->rb, max_msg);
}

void es_parser_free(es_parser_t *ep)
{
    jdom_free(&ep->dom);
    recbuild_free(&ep->rb);
    buf_free(&ep->sc.path);
    buf_free(&ep->sc.value);
    buf_free(&ep->sc.keys);
    buf_free(&ep->sc.prev);
    buf_free(&ep->index);
    buf_free(&ep->id);
    buf_free(&ep->last_line);
    buf_free(&ep->last_index);
    buf_free(&ep->last_id);
    buf_free(&ep->head);
    buf_free(&ep->head_index);
    buf_free(&ep->id_prefix);
    buf_free(&ep->index_json);
    buf_free(&ep->index_json_of);
}

static void copy(buf_t *dst, const buf_t *src)
{
    buf_reset(dst);
    buf_append(dst, src->data ? src->data : "", src->len);
}

/* The next line of s from *i (CR and blanks trimmed); 0 at the end. */
static int next_line(const char *s, size_t n, size_t *i, slice_t *line)
{
    if (*i >= n)
        return 0;
    const char *nl = memchr(s + *i, '\n', n - *i);
    size_t end = nl ? (size_t)(nl - s) : n;
    *line = slice_trim(slice_make(s + *i, end - *i));
    while (line->n && line->p[line->n - 1] == '\r')
        line->n--;
    *i = end + 1;
    return 1;
}

/* The action of a parsed action line, its index and id; OP_NONE when the
 * line is not one. */
static enum op action_of(es_parser_t *ep)
{
    const jdom_t *d = &ep->dom;
    if (jdom_type(d, 0) != J_OBJ || jdom_node(d, 0)->len != 1)
        return OP_NONE;
    slice_t k = jdom_text(d, 1);
    enum op op = slice_eq(k, "index")    ? OP_INDEX
                 : slice_eq(k, "create") ? OP_CREATE
                 : slice_eq(k, "update") ? OP_UPDATE
                 : slice_eq(k, "delete") ? OP_DELETE
                                         : OP_NONE;
    if (op == OP_NONE || jdom_type(d, 2) != J_OBJ)
        return OP_NONE;
    size_t ix = jdom_get(d, 2, "_index"), id = jdom_get(d, 2, "_id");
    if (ix && jdom_type(d, ix) == J_STR) {
        slice_t t = jdom_text(d, ix);
        buf_reset(&ep->index);
        buf_append(&ep->index, t.p, t.n);
    }
    if (id && (jdom_type(d, id) == J_STR || jdom_type(d, id) == J_NUM)) {
        slice_t t = jdom_text(d, id);
        buf_append(&ep->id, t.p, t.n);
    }
    return op;
}

/* Whether line is an action line (for resynchronising after a bad one);
 * clobbers the item's index and id, which the next item sets again. */
static int is_action(es_parser_t *ep, slice_t line)
{
    return jdom_parse(&ep->dom, line.p, line.n) == 0 && action_of(ep) != OP_NONE;
}

/* {"<op>":{"_index":"<index>","_id": into out, from ep->head when it was
 * made for this op and index. */
static void item_start(es_bulk_t *out, enum op op, es_parser_t *ep)
{
    buf_t *j = out->json;
    if (out->items++)
        buf_putc(j, ',');
    if (ep->head_op != (int)op + 1 || ep->head_index.len != ep->index.len ||
        (ep->index.len && memcmp(ep->head_index.data, ep->index.data, ep->index.len) != 0)) {
        buf_t *h = &ep->head;
        buf_reset(h);
        buf_append(h, "{\"", 2);
        buf_puts(h, op_names[op]);
        buf_append(h, "\":{\"_index\":", 12);
        json_str(h, ep->index.data ? ep->index.data : "", ep->index.len);
        buf_append(h, ",\"_id\":", 7);
        copy(&ep->head_index, &ep->index);
        ep->head_op = (int)op + 1;
    }
    buf_append(j, ep->head.data, ep->head.len);
}

static void item_head(es_bulk_t *out, enum op op, es_parser_t *ep)
{
    item_start(out, op, ep);
    if (ep->id.len)
        json_str(out->json, ep->id.data, ep->id.len);
    else
        buf_puts(out->json, "null");
}

static void item_error(es_bulk_t *out, enum op op, es_parser_t *ep, const char *type,
                       const char *reason)
{
    item_head(out, op, ep);
    buf_puts(out->json, ",\"status\":400,\"error\":{\"type\":\"");
    buf_puts(out->json, type);
    buf_puts(out->json, "\",\"reason\":");
    json_str(out->json, reason, strlen(reason));
    buf_puts(out->json, "}}}");
    out->errors++;
}

static void hex(buf_t *b, uint64_t v)
{
    char tmp[16];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    while (n)
        buf_putc(b, tmp[--n]);
}

static void item_created(es_bulk_t *out, enum op op, es_parser_t *ep, uint64_t id_base)
{
    static const char tail[] = ",\"_version\":1,\"result\":\"created\",\"_shards\":{\"total\":1,"
                               "\"successful\":1,\"failed\":0},\"_seq_no\":0,\"_primary_term\":1,"
                               "\"status\":201}}";
    if (ep->id.len) {
        item_head(out, op, ep);
    } else {
        /* "ls<id_base>-<item>": hex digits only, nothing to escape */
        if (ep->id_base != id_base || !ep->id_prefix.len) {
            buf_reset(&ep->id_prefix);
            buf_append(&ep->id_prefix, "\"ls", 3);
            hex(&ep->id_prefix, id_base);
            buf_putc(&ep->id_prefix, '-');
            ep->id_base = id_base;
        }
        size_t item = out->items;
        item_start(out, op, ep);
        buf_append(out->json, ep->id_prefix.data, ep->id_prefix.len);
        hex(out->json, item);
        buf_putc(out->json, '"');
    }
    buf_append(out->json, tail, sizeof tail - 1);
}

/* The app an index names: without a trailing -YYYY.MM.DD (or -YYYY.MM,
 * -YYYY-MM-DD). */
static size_t index_app_len(const char *s, size_t n)
{
    size_t i = n;
    while (i && ((s[i - 1] >= '0' && s[i - 1] <= '9') || s[i - 1] == '.' || s[i - 1] == '-'))
        i--;
    /* i is where the date-ish tail starts; it must be "-" then 4 digits */
    while (i < n && s[i] != '-')
        i++;
    if (i + 5 <= n && i > 0 && s[i] == '-') {
        size_t digits = 0;
        while (i + 1 + digits < n && s[i + 1 + digits] >= '0' && s[i + 1 + digits] <= '9')
            digits++;
        if (digits == 4)
            return i;
    }
    return n;
}

static void document(es_parser_t *ep, enum op op, slice_t line, size_t lineno, uint64_t id_base,
                     batch_t *b, const rec_defaults_t *d, ingest_report_t *rep, es_bulk_t *out)
{
    if (jdom_parse(&ep->dom, line.p, line.n) || jdom_type(&ep->dom, 0) != J_OBJ) {
        char why[320];
        snprintf(why, sizeof why, "failed to parse: %s",
                 ep->dom.err[0] ? ep->dom.err : "the document is not a JSON object");
        ingest_reject(rep, lineno, "%s", why);
        item_error(out, op, ep, "mapper_parsing_exception", why);
        return;
    }
    recbuild_t *rb = &ep->rb;
    jmap_result_t res;
    recbuild_reset(rb);
    jmap_object(&ep->dom, 0, &doc_map, rb, &ep->sc, &res);
    if (!res.has[JM_MSG])
        recbuild_set(rb, RF_MSG, "", 0);
    if (ep->index.len) {
        /* the index's JSON string, made once for the items that share it */
        if (ep->index_json_of.len != ep->index.len ||
            memcmp(ep->index_json_of.data, ep->index.data, ep->index.len) != 0) {
            copy(&ep->index_json_of, &ep->index);
            buf_reset(&ep->index_json);
            json_str(&ep->index_json, ep->index.data, ep->index.len);
            ep->index_repaired = utf8_valid_prefix(ep->index.data, ep->index.len) != ep->index.len;
        }
        recbuild_field_key(rb, "_index", 6);
        recbuild_field_raw(rb, ep->index_json.data, ep->index_json.len);
        if (ep->index_repaired)
            rb->flags |= RECORD_F_REPAIRED;
        if (!res.has[JM_APP])
            recbuild_set(rb, RF_APP, ep->index.data, index_app_len(ep->index.data, ep->index.len));
    }
    recbuild_finish(rb, b, d);
    item_created(out, op, ep, id_base);
}

void es_parse_bulk(es_parser_t *ep, const char *s, size_t n, slice_t index, uint64_t id_base,
                   batch_t *b, const rec_defaults_t *d, ingest_report_t *rep, es_bulk_t *out)
{
    size_t i = 0, lineno = 0;
    slice_t line;
    const char *unit = rep->unit;
    ep->last_op = 0; /* the path's index may differ from the last request's */
    rep->unit = "line";
    while (next_line(s, n, &i, &line)) {
        lineno++;
        if (!line.n)
            continue;
        buf_reset(&ep->index);
        buf_append(&ep->index, index.p ? index.p : "", index.n);
        buf_reset(&ep->id);
        enum op op = OP_NONE;
        if (ep->last_op && line.n == ep->last_line.len &&
            memcmp(line.p, ep->last_line.data, line.n) == 0) {
            op = (enum op)ep->last_op;
            copy(&ep->index, &ep->last_index);
            copy(&ep->id, &ep->last_id);
        } else if (jdom_parse(&ep->dom, line.p, line.n) == 0) {
            op = action_of(ep);
            if (op != OP_NONE) {
                buf_reset(&ep->last_line);
                buf_append(&ep->last_line, line.p, line.n);
                copy(&ep->last_index, &ep->index);
                copy(&ep->last_id, &ep->id);
                ep->last_op = (int)op;
            }
        }
        if (op == OP_NONE) {
            char why[480];
            snprintf(why, sizeof why,
                     "Malformed action/metadata line [%zu], expected {\"index\":{...}}, "
                     "{\"create\":{...}}, {\"update\":{...}} or {\"delete\":{...}}%s%s",
                     lineno, ep->dom.err[0] ? ": " : "", ep->dom.err);
            ingest_reject(rep, lineno, "%s", why);
            item_error(out, OP_NONE, ep, "illegal_argument_exception", why);
            /* the line after it is its document unless it is an action */
            size_t save = i, save_no = lineno;
            slice_t peek = SLICE_NULL;
            while (next_line(s, n, &i, &peek)) {
                lineno++;
                if (peek.n)
                    break;
            }
            if (peek.n && is_action(ep, peek)) {
                i = save;
                lineno = save_no;
            }
            continue;
        }
        if (op == OP_DELETE) {
            item_error(out, op, ep, "illegal_argument_exception",
                       "logshipd stores logs append-only: delete is not supported");
            ingest_reject(rep, lineno, "delete is not supported");
            continue;
        }
        /* the document line follows (blank lines between are skipped) */
        slice_t doc = SLICE_NULL;
        size_t docno = lineno;
        while (next_line(s, n, &i, &doc)) {
            docno++;
            if (doc.n)
                break;
        }
        lineno = docno;
        if (!doc.n) {
            item_error(out, op, ep, "action_request_validation_exception",
                       "the action has no document line after it");
            ingest_reject(rep, lineno, "the action has no document line after it");
            break;
        }
        if (op == OP_UPDATE) {
            item_error(out, op, ep, "illegal_argument_exception",
                       "logshipd stores logs append-only: update is not supported");
            ingest_reject(rep, lineno, "update is not supported");
            continue;
        }
        document(ep, op, doc, lineno, id_base, b, d, rep, out);
    }
    rep->unit = unit;
}
