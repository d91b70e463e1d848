/* fluent_parse.c - the Fluentd forward protocol: see fluent_parse.h. */
#include "fluent_parse.h"

#include <stdio.h>
#include <zlib.h>

#include "../../common/json_write.h"

void fluent_session_init(fluent_session_t *s, size_t max_msg, size_t max_message)
{
    memset(s, 0, sizeof *s);
    s->max_message = max_message;
    s->jp = json_parser_create(max_msg);
}

void fluent_session_free(fluent_session_t *s)
{
    json_parser_destroy(s->jp);
    buf_free(&s->pending);
    buf_free(&s->json);
    buf_free(&s->inflated);
    buf_free(&s->entry);
    batch_free(&s->batch);
    batch_free(&s->one);
    ingest_report_free(&s->rep);
}

void fluent_ack(buf_t *out, const char *chunk, size_t n)
{
    buf_reset(out);
    buf_append(out,
               "\x81\xa3"
               "ack",
               5);
    if (n < 32) {
        buf_putc(out, (char)(0xa0 | n));
    } else if (n < 256) {
        buf_putc(out, (char)0xd9);
        buf_putc(out, (char)n);
    } else {
        buf_putc(out, (char)0xda);
        buf_putc(out, (char)(n >> 8));
        buf_putc(out, (char)n);
        if (n > 0xffff)
            n = 0xffff; /* a chunk id is short; never longer than its header says */
    }
    buf_append(out, chunk, n);
}

static void skipped(fluent_session_t *s, const char *fmt, const char *what)
{
    s->parse_errors++;
    ingest_reject(&s->rep, (size_t)s->messages, fmt, what);
}

/* An entry's time into ns. 0 or -1. */
static int entry_time(const mp_obj_t *t, int64_t *ns)
{
    switch (t->type) {
    case MP_UINT:
        if (t->u > INT64_MAX / 1000000000)
            return -1;
        *ns = (int64_t)t->u * 1000000000;
        return 0;
    case MP_INT:
        if (t->i < 0 || t->i > INT64_MAX / 1000000000)
            return -1;
        *ns = t->i * 1000000000;
        return 0;
    case MP_FLOAT:
        if (!(t->f >= 0 && t->f < 9e9))
            return -1;
        *ns = (int64_t)(t->f * 1e9);
        return 0;
    case MP_EXT:
        if (t->ext != 0 || t->n != 8)
            return -1;
        {
            const unsigned char *p = (const unsigned char *)t->p;
            uint32_t sec = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
            uint32_t nsec =
                (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
            *ns = (int64_t)sec * 1000000000 + nsec;
        }
        return 0;
    default:
        return -1;
    }
}

static int is_message_key(const mp_obj_t *k)
{
    return k->type == MP_STR && ((k->n == 7 && memcmp(k->p, "message", 7) == 0) ||
                                 (k->n == 3 && memcmp(k->p, "msg", 3) == 0) ||
                                 (k->n == 3 && memcmp(k->p, "log", 3) == 0));
}

/* One [time, record] at c into b. */
static void entry(fluent_session_t *s, mp_cur_t *c, batch_t *b, const rec_defaults_t *d)
{
    mp_obj_t a, t, r;
    if (mp_next(c, &a))
        return;
    if (a.type != MP_ARR || a.n != 2) {
        skipped(s, "%s", "an entry is not [time, record]");
        mp_skip_rest(c, &a);
        return;
    }
    int64_t ns = 0;
    if (mp_next(c, &t) || mp_skip_rest(c, &t) || mp_next(c, &r))
        return;
    if (entry_time(&t, &ns) || r.type != MP_MAP) {
        skipped(s, "%s",
                r.type != MP_MAP ? "an entry's record is not a map"
                                 : "an entry's time is not seconds or an EventTime");
        mp_skip_rest(c, &r);
        return;
    }
    /* the record as JSON, the event's time first so that it wins */
    buf_t *j = &s->json;
    buf_reset(j);
    buf_puts(j, "{\"ts\":");
    buf_append_i64(j, ns);
    int has_msg = 0;
    for (uint32_t k = 0; k < r.n; k++) {
        mp_obj_t key, val;
        if (mp_next(c, &key))
            return;
        buf_putc(j, ',');
        has_msg |= is_message_key(&key);
        if (key.type == MP_STR) {
            json_str(j, key.p, key.n);
        } else {
            /* JSON keys are strings: a number key becomes its text */
            buf_t kt = BUF_INIT;
            int bad = mp_write_json(c, &key, &kt);
            json_str(j, kt.data ? kt.data : "", kt.len);
            buf_free(&kt);
            if (bad)
                return;
        }
        buf_putc(j, ':');
        if (mp_next(c, &val) || mp_write_json(c, &val, j))
            return;
    }
    if (!has_msg)
        buf_puts(j, ",\"message\":\"\"");
    buf_putc(j, '}');
    const char *err;
    if (json_parse_doc(s->jp, j->data, j->len, b, d, &s->rep, &err))
        skipped(s, "%s", err);
}

/* Entries back to back in p (PackedForward). */
static void packed(fluent_session_t *s, const char *p, size_t n, batch_t *b,
                   const rec_defaults_t *d)
{
    while (n) {
        long sz = mp_value_size(p, n, NULL);
        if (sz <= 0) {
            skipped(s, "%s", "packed entries end in the middle of one");
            return;
        }
        mp_cur_t c = {p, p + sz};
        entry(s, &c, b, d);
        p += sz;
        n -= (size_t)sz;
    }
}

/* Inflates gzip members back to back into s->inflated. 0 or -1. */
static int gunzip(fluent_session_t *s, const char *p, size_t n)
{
    buf_reset(&s->inflated);
    while (n) {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
            return -1;
        z.next_in = (Bytef *)p;
        z.avail_in = (uInt)n;
        int rc = Z_OK;
        while (rc == Z_OK) {
            if (s->inflated.len >= s->max_message) {
                rc = Z_MEM_ERROR;
                break;
            }
            size_t room = s->max_message - s->inflated.len;
            if (room > 64 * 1024)
                room = 64 * 1024;
            z.next_out = (Bytef *)buf_reserve(&s->inflated, room);
            z.avail_out = (uInt)room;
            rc = inflate(&z, Z_NO_FLUSH);
            s->inflated.len += room - z.avail_out;
            if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0)
                rc = Z_BUF_ERROR;
        }
        size_t used = n - z.avail_in;
        inflateEnd(&z);
        if (rc != Z_STREAM_END)
            return -1;
        p += used;
        n -= used;
    }
    return 0;
}

/* One whole message at p. */
static void message(fluent_session_t *s, const char *p, size_t n, const rec_defaults_t *dflt,
                    const fluent_events_t *ev, void *arg)
{
    mp_cur_t c = {p, p + n};
    mp_obj_t m, tag, second, record;
    s->messages++;
    if (mp_next(&c, &m) || m.type != MP_ARR || m.n < 2 || m.n > 4 || mp_next(&c, &tag) ||
        tag.type != MP_STR) {
        skipped(s, "%s", "not a forward message: expected [tag, ...]");
        return;
    }
    /* the tag is the topic, its first word the app */
    rec_defaults_t d = *dflt;
    d.topic = slice_make(tag.p, tag.n);
    const char *dot = memchr(tag.p, '.', tag.n);
    d.app = slice_make(tag.p, dot ? (size_t)(dot - tag.p) : tag.n);
    const char *second_at = c.p;
    if (mp_next(&c, &second))
        return;
    mp_cur_t entries = c; /* Forward: the entries, after the array's head */
    int mode;             /* 0 Message, 1 Forward, 2 PackedForward */
    if (second.type == MP_ARR) {
        mode = 1;
    } else if (second.type == MP_STR || second.type == MP_BIN) {
        mode = 2;
    } else {
        mode = 0; /* second is the time, then the record */
        if (m.n < 3 || mp_next(&c, &record)) {
            skipped(s, "%s", "a Message has no record");
            return;
        }
    }
    const char *entry_end = NULL;
    if (mp_skip_rest(&c, mode == 0 ? &record : &second))
        return;
    entry_end = c.p;
    /* the option, last: chunk and compressed */
    const char *chunk = NULL;
    size_t chunk_len = 0;
    int gzip = 0;
    mp_obj_t opt, k, v;
    if ((unsigned)(mode == 0 ? 4 : 3) == m.n && mp_next(&c, &opt) == 0 && opt.type == MP_MAP) {
        for (uint32_t i = 0; i < opt.n; i++) {
            if (mp_next(&c, &k) || mp_skip_rest(&c, &k) || mp_next(&c, &v))
                break;
            if (k.type == MP_STR && k.n == 5 && memcmp(k.p, "chunk", 5) == 0 && v.type == MP_STR) {
                chunk = v.p;
                chunk_len = v.n;
            } else if (k.type == MP_STR && k.n == 10 && memcmp(k.p, "compressed", 10) == 0 &&
                       v.type == MP_STR && v.n == 4 && memcmp(v.p, "gzip", 4) == 0) {
                gzip = 1;
            }
            if (mp_skip_rest(&c, &v))
                break;
        }
    }
    batch_t *b = &s->batch;
    if (chunk) {
        /* the records before it go first, then this message's on their own */
        if (s->batch.count)
            ev->records(arg, &s->batch);
        batch_reset(&s->batch);
        batch_reset(&s->one);
        b = &s->one;
    }
    if (mode == 0) {
        /* [tag, time, record]: its time and record make one entry */
        buf_reset(&s->entry);
        buf_putc(&s->entry, (char)0x92);
        buf_append(&s->entry, second_at, (size_t)(entry_end - second_at));
        mp_cur_t e = {s->entry.data, s->entry.data + s->entry.len};
        entry(s, &e, b, &d);
    } else if (mode == 1) {
        for (uint32_t i = 0; i < second.n; i++)
            entry(s, &entries, b, &d);
    } else if (gzip) {
        if (gunzip(s, second.p, second.n))
            skipped(s, "%s", "CompressedPackedForward entries do not decompress");
        else
            packed(s, s->inflated.data ? s->inflated.data : "", s->inflated.len, b, &d);
    } else {
        packed(s, second.p, second.n, b, &d);
    }
    if (chunk)
        ev->acked(arg, &s->one, chunk, chunk_len);
}

/* Reads whole messages from p; returns the bytes used, or -1 with s->err. */
static long messages(fluent_session_t *s, const char *p, size_t n, const rec_defaults_t *d,
                     const fluent_events_t *ev, void *arg)
{
    size_t off = 0;
    while (off < n) {
        size_t need = 0;
        long sz = mp_value_size(p + off, n - off, &need);
        if (sz < 0) {
            snprintf(s->err, sizeof s->err, "not MessagePack: the stream cannot be read on");
            return -1;
        }
        if ((sz == 0 && need > s->max_message) || (size_t)sz > s->max_message) {
            snprintf(s->err, sizeof s->err,
                     "a forward message is longer than %zu bytes (--max-batch-bytes)",
                     s->max_message);
            return -1;
        }
        if (sz == 0) {
            s->need = need;
            break;
        }
        message(s, p + off, (size_t)sz, d, ev, arg);
        off += (size_t)sz;
    }
    return (long)off;
}

int fluent_feed(fluent_session_t *s, const char *p, size_t n, const rec_defaults_t *d,
                const fluent_events_t *ev, void *arg)
{
    int rc = 0;
    batch_reset(&s->batch);
    ingest_report_reset(&s->rep);
    if (!s->pending.len) {
        /* the common case: whole messages read in place */
        long used = messages(s, p, n, d, ev, arg);
        if (used < 0) {
            rc = -1;
        } else if ((size_t)used < n) {
            buf_append(&s->pending, p + used, n - (size_t)used);
        }
    } else {
        buf_append(&s->pending, p, n);
        /* a partial message is read again only once it can be whole */
        if (s->pending.len >= s->need) {
            long used = messages(s, s->pending.data, s->pending.len, d, ev, arg);
            if (used < 0) {
                rc = -1;
            } else {
                size_t rest = s->pending.len - (size_t)used;
                memmove(s->pending.data, s->pending.data + used, rest);
                s->pending.len = rest;
                if (!rest)
                    buf_shrink(&s->pending, 64 * 1024);
            }
        }
    }
    if (s->batch.count)
        ev->records(arg, &s->batch);
    batch_reset(&s->batch);
    return rc;
}
