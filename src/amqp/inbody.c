/* inbody.c - RabbitMQ messages into records: see inbody.h. */
#include "inbody.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/json_write.h"
#include "../common/utf8.h"
#include "../ingest/ingest.h"
#include "../ingest/json/json_parse.h"

#define NODE_HEX 32

enum kind { K_SNIFF, K_JSON, K_NDJSON, K_TEXT };

struct inbody {
    json_parser_t *jp;
    recbuild_t rb;
    ingest_report_t rep;
    buf_t extra; /* fields every record of the message gets */
    buf_t key;   /* the message's key (its message_id, escaped as stored) */
    int origin;  /* the message is another logshipd's */
    char why[400];
};

inbody_t *inbody_create(size_t max_msg)
{
    inbody_t *p = xcalloc(1, sizeof *p);
    p->jp = json_parser_create(max_msg);
    recbuild_init(&p->rb, max_msg ? max_msg : RECORD_MSG_MAX);
    return p;
}

void inbody_destroy(inbody_t *p)
{
    if (!p)
        return;
    json_parser_destroy(p->jp);
    recbuild_free(&p->rb);
    ingest_report_free(&p->rep);
    buf_free(&p->extra);
    buf_free(&p->key);
    free(p);
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int digits(const char *p, size_t n)
{
    if (!n || n > 20)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

int inbody_origin(slice_t app_id, slice_t id, char *node)
{
    if (app_id.n != 8 || memcmp(app_id.p, "logshipd", 8) != 0)
        return 0;
    if (id.n < NODE_HEX + 2 || id.p[NODE_HEX] != ':')
        return 0;
    for (size_t i = 0; i < NODE_HEX; i++)
        if (!is_hex(id.p[i]))
            return 0;
    const char *s = id.p + NODE_HEX + 1, *end = id.p + id.n;
    const char *dash = memchr(s, '-', (size_t)(end - s));
    if (!digits(s, (size_t)((dash ? dash : end) - s)))
        return 0;
    if (dash && !digits(dash + 1, (size_t)(end - dash - 1)))
        return 0;
    memcpy(node, id.p, NODE_HEX);
    node[NODE_HEX] = '\0';
    return 1;
}

/* ---- keys ----------------------------------------------------------------- */

/* The key a record's fields begin with (see inbody.h), whether or not the
 * record is flagged yet. */
static size_t key_of(slice_t fields, char *out)
{
    static const char node_k[] = "{\"origin_node\":\"",
                      seq_k[] = "\",\"origin_seq\":", id_k[] = "{\"amqp_message_id\":\"";
    const char *p = fields.p, *end = fields.p + fields.n;
    out[0] = '\0';
    size_t nk = sizeof node_k - 1, sk = sizeof seq_k - 1, ik = sizeof id_k - 1;
    if (fields.n > nk + NODE_HEX + sk && memcmp(p, node_k, nk) == 0) {
        const char *node = p + nk, *q = node + NODE_HEX;
        for (size_t i = 0; i < NODE_HEX; i++)
            if (!is_hex(node[i]))
                return 0;
        if (memcmp(q, seq_k, sk) != 0)
            return 0;
        const char *d = q + sk, *e = d;
        while (e < end && *e >= '0' && *e <= '9')
            e++;
        if (!digits(d, (size_t)(e - d)) || e == end || (*e != ',' && *e != '}'))
            return 0;
        memcpy(out, node, NODE_HEX);
        out[NODE_HEX] = ':';
        memcpy(out + NODE_HEX + 1, d, (size_t)(e - d));
        out[NODE_HEX + 1 + (e - d)] = '\0';
        return NODE_HEX + 1 + (size_t)(e - d);
    }
    if (fields.n > ik && memcmp(p, id_k, ik) == 0) {
        /* json_str() output: the string ends at the first quote that no
         * backslash escapes */
        const char *v = p + ik, *e = v;
        while (e < end && *e != '"')
            e += *e == '\\' ? 2 : 1;
        size_t n = (size_t)(e - v);
        if (e >= end || !n || n >= INBODY_KEY_MAX)
            return 0;
        memcpy(out, v, n);
        out[n] = '\0';
        return n;
    }
    return 0;
}

size_t inbody_record_key(const record_t *r, char *out)
{
    out[0] = '\0';
    if (!(r->flags & RECORD_F_AMQP_KEY))
        return 0;
    return key_of(r->fields, out);
}

/* ---- what a body is ----------------------------------------------------------- */

static int ct_is(slice_t ct, size_t n, const char *name)
{
    size_t k = strlen(name);
    if (n != k)
        return 0;
    for (size_t i = 0; i < k; i++) {
        char c = ct.p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != name[i])
            return 0;
    }
    return 1;
}

static enum kind kind_of(slice_t ct)
{
    size_t n = 0;
    while (n < ct.n && ct.p[n] != ';' && ct.p[n] != ' ')
        n++;
    if (ct_is(ct, n, "application/json"))
        return K_JSON;
    if (ct_is(ct, n, "application/x-ndjson") || ct_is(ct, n, "application/ndjson") ||
        ct_is(ct, n, "application/jsonl") || ct_is(ct, n, "application/x-jsonlines") ||
        ct_is(ct, n, "application/jsonlines"))
        return K_NDJSON;
    if (n >= 5 && ct_is(ct, 5, "text/"))
        return K_TEXT;
    if (n > 5 && ct_is(slice_make(ct.p + n - 5, 5), 5, "+json"))
        return K_JSON; /* application/vnd.example+json */
    return K_SNIFF;
}

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Lines with something on them, up to 2. */
static int busy_lines(const char *s, size_t n)
{
    int lines = 0, has = 0;
    for (size_t i = 0; i < n && lines < 2; i++) {
        if (s[i] == '\n') {
            lines += has;
            has = 0;
        } else if (!blank(s[i])) {
            has = 1;
        }
    }
    return lines + has;
}

/* ---- records -------------------------------------------------------------------- */

/* The message's own fields, first in a record's fields. */
static void add_extra(inbody_t *p)
{
    if (!p->extra.len)
        return;
    buf_putc(&p->rb.fields, '{');
    buf_append(&p->rb.fields, p->extra.data, p->extra.len);
}

static void text_record(inbody_t *p, const char *s, size_t n, batch_t *b, const rec_defaults_t *d,
                        const char *parse_error, int truncated, inbody_result_t *res)
{
    recbuild_reset(&p->rb);
    add_extra(p);
    recbuild_set(&p->rb, RF_MSG, s, n);
    if (truncated)
        p->rb.flags |= RECORD_F_TRUNCATED;
    if (p->key.len)
        p->rb.flags |= RECORD_F_AMQP_KEY; /* the message's key is its first field */
    if (parse_error) {
        recbuild_field_key(&p->rb, "parse_error", 11);
        recbuild_field_str(&p->rb, parse_error, strlen(parse_error));
        res->parse_errors++;
    }
    recbuild_finish(&p->rb, b, d);
    res->records++;
}

/* Takes the frame at off out of b. */
static void drop_frame(batch_t *b, size_t off)
{
    char *f = b->frames.data + off;
    size_t size = frame_size(f);
    unsigned flags = frame_flags(f);
    b->repaired -= (flags & RECORD_F_REPAIRED) && b->repaired;
    b->truncated -= (flags & RECORD_F_TRUNCATED) && b->truncated;
    memmove(f, f + size, b->frames.len - off - size);
    b->frames.len -= size;
    b->count--;
}

/* The records added from mark on. Another logshipd's (per_record) are
 * asked for by their keys, and kept ones flagged as keyed; any other
 * message's are flagged when the message had a key (keyed). */
static void keep_new(batch_t *b, size_t mark, int per_record, int keyed, inbody_key_fn key,
                     void *arg, inbody_result_t *res)
{
    char k[INBODY_KEY_MAX];
    size_t off = mark;
    while (off < b->frames.len) {
        record_t r;
        long n = record_decode(b->frames.data + off, b->frames.len - off, &r);
        if (n <= 0)
            return; /* cannot be: the builder wrote it */
        size_t kn = per_record ? key_of(r.fields, k) : 0;
        if (kn && key && !key(arg, k, kn)) {
            drop_frame(b, off);
            res->duplicates++;
            continue;
        }
        if (kn || (keyed && key_of(r.fields, k)))
            frame_add_flags(b->frames.data + off, RECORD_F_AMQP_KEY);
        res->records++;
        off += (size_t)n;
    }
}

/* One JSON document (a body, or a line of NDJSON). Returns 0, or -1 with
 * p->why set (nothing added). */
static int json_doc(inbody_t *p, const char *s, size_t n, batch_t *b, const rec_defaults_t *d,
                    inbody_key_fn key, void *arg, inbody_result_t *res)
{
    const char *err;
    size_t mark = b->frames.len;
    ingest_report_reset(&p->rep);
    if (json_parse_doc(p->jp, s, n, b, d, &p->rep, &err)) {
        snprintf(p->why, sizeof p->why, "%s", err);
        return -1;
    }
    keep_new(b, mark, p->origin, p->key.len > 0, key, arg, res);
    if (p->rep.rejected) {
        /* elements of an array that are not records: the whole text is
         * kept beside the records the others made */
        snprintf(p->why, sizeof p->why,
                 "%zu element(s) of the array are not records; the others are stored as records",
                 p->rep.rejected);
        text_record(p, s, n, b, d, p->why, 0, res);
    }
    return 0;
}

void inbody_parse(inbody_t *p, const inbody_msg_t *m, int64_t now, batch_t *b, inbody_key_fn key,
                  void *arg, inbody_result_t *res)
{
    memset(res, 0, sizeof *res);
    char node[NODE_HEX + 1];
    res->origin = p->origin = inbody_origin(m->app_id, m->message_id, node);
    buf_reset(&p->extra);
    buf_reset(&p->key);
    if (res->origin) {
        buf_puts(&p->extra, "\"origin_node\":\"");
        buf_append(&p->extra, node, NODE_HEX);
        buf_putc(&p->extra, '"');
    } else if (m->message_id.n) {
        json_str_body(&p->key, m->message_id.p, m->message_id.n);
        if (p->key.len >= INBODY_KEY_MAX)
            buf_reset(&p->key); /* too long to be a key: kept, never matched */
        buf_puts(&p->extra, "\"amqp_message_id\":");
        json_str(&p->extra, m->message_id.p, m->message_id.n);
    }
    /* records of a foreign message have no keys of their own: the message
     * is asked for once */
    if (!res->origin && p->key.len && key && !key(arg, p->key.data, p->key.len)) {
        res->duplicates = 1;
        return;
    }
    rec_defaults_t d = {
        .level = -1,
        .now = m->timestamp_ns > 0 ? m->timestamp_ns : now,
    };
    if (utf8_valid_prefix(m->routing_key.p, m->routing_key.n) == m->routing_key.n)
        d.topic = m->routing_key;
    /* another logshipd's records get their origin pair from the parser;
     * the extra origin_node is for the text records of lines that fail */
    json_wrap_t w = {
        .extra = res->origin ? NULL : p->extra.data,
        .extra_len = res->origin ? 0 : p->extra.len,
        .origin_node = res->origin ? node : NULL,
        .msg_optional = 1,
    };
    json_parser_set_wrap(p->jp, &w);

    const char *s = m->body;
    size_t n = m->len;
    if (m->size > m->len) {
        snprintf(p->why, sizeof p->why,
                 "the body of %llu bytes is over the limit: its first %zu bytes are kept as msg",
                 (unsigned long long)m->size, n);
        text_record(p, s, n, b, &d, p->why, 1, res);
        return;
    }
    size_t lead = 0;
    while (lead < n && blank(s[lead]))
        lead++;
    if (lead == n) {
        text_record(p, s, n, b, &d, n ? "the body is blank" : "the body is empty", 0, res);
        return;
    }
    enum kind k = kind_of(m->content_type);
    if (k == K_SNIFF) {
        if (s[lead] != '{' && s[lead] != '[') {
            k = K_TEXT;
        } else {
            if (json_doc(p, s, n, b, &d, key, arg, res) == 0)
                return;
            k = busy_lines(s, n) > 1 ? K_NDJSON : K_JSON;
            if (k == K_JSON) {
                text_record(p, s, n, b, &d, p->why, 0, res);
                return;
            }
        }
    }
    if (k == K_TEXT) {
        size_t t = n;
        if (t && s[t - 1] == '\n')
            t--;
        if (t && s[t - 1] == '\r')
            t--;
        text_record(p, s, t, b, &d, NULL, 0, res);
        return;
    }
    if (k == K_JSON) {
        if (json_doc(p, s, n, b, &d, key, arg, res))
            text_record(p, s, n, b, &d, p->why, 0, res);
        return;
    }
    /* NDJSON: each line on its own; a line that fails is kept as text */
    size_t i = 0, line = 0;
    char why[sizeof p->why + 32];
    while (i < n) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - s) : n, len = end - i;
        line++;
        if (len && s[i + len - 1] == '\r')
            len--;
        size_t sp = 0;
        while (sp < len && blank(s[i + sp]))
            sp++;
        if (sp < len && json_doc(p, s + i, len, b, &d, key, arg, res)) {
            snprintf(why, sizeof why, "line %zu: %s", line, p->why);
            text_record(p, s + i, len, b, &d, why, 0, res);
        }
        i = end + 1;
    }
}
