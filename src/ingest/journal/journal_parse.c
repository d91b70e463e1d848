/* journal_parse.c - the journal export format: see journal_parse.h. */
#include "journal_parse.h"

#include <stdio.h>

#include "../../common/level.h"

enum { S_LINE, S_BIN_SIZE, S_BIN_DATA, S_BIN_END };

void journal_session_init(journal_session_t *s, size_t max_msg, size_t max_entry)
{
    memset(s, 0, sizeof *s);
    recbuild_init(&s->rb, max_msg);
    s->max_entry = max_entry;
}

void journal_session_free(journal_session_t *s)
{
    recbuild_free(&s->rb);
    buf_free(&s->pending);
}

static int name_ok(const char *p, size_t n)
{
    if (!n || n > JOURNAL_NAME_MAX || (p[0] >= '0' && p[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
            return 0;
    return 1;
}

static int is(const char *p, size_t n, const char *name)
{
    return strlen(name) == n && memcmp(p, name, n) == 0;
}

/* A decimal of at most 19 digits; 0 or -1. */
static int decimal(const char *p, size_t n, int64_t *v)
{
    if (!n || n > 19)
        return -1;
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        *v = *v * 10 + (p[i] - '0');
    }
    return 0;
}

void journal_seen_update(journal_seen_t *t, const char *id, uint64_t seqnum)
{
    size_t oldest = 0;
    t->tick++;
    for (size_t i = 0; i < JOURNAL_SOURCES; i++) {
        if (strcmp(t->src[i].id, id) == 0) {
            if (seqnum > t->src[i].seqnum)
                t->src[i].seqnum = seqnum;
            t->src[i].used = t->tick;
            return;
        }
        if (t->src[i].used < t->src[oldest].used)
            oldest = i;
    }
    snprintf(t->src[oldest].id, sizeof t->src[oldest].id, "%s", id);
    t->src[oldest].seqnum = seqnum;
    t->src[oldest].used = t->tick;
}

static int seen_before(const journal_seen_t *t, const char *id, uint64_t seqnum)
{
    for (size_t i = 0; t && i < JOURNAL_SOURCES; i++)
        if (t->src[i].used && strcmp(t->src[i].id, id) == 0)
            return seqnum <= t->src[i].seqnum;
    return 0;
}

int journal_take_newest(journal_session_t *s, char *id, uint64_t *seqnum)
{
    if (!s->new_has)
        return 0;
    memcpy(id, s->new_id, sizeof s->new_id);
    *seqnum = s->new_seq;
    s->new_has = 0;
    return 1;
}

/* s=<hex id>;i=<hex seqnum>;... into the current entry's cursor. */
static void cursor(journal_session_t *s, const char *v, size_t n)
{
    s->cur_has = 0;
    if (n < 2 || memcmp(v, "s=", 2) != 0)
        return;
    size_t i = 2, idn = 0;
    while (i < n && v[i] != ';' && idn < JOURNAL_SEQID)
        s->cur_id[idn++] = v[i++];
    s->cur_id[idn] = '\0';
    if (i + 3 > n || memcmp(v + i, ";i=", 3) != 0 || !idn)
        return;
    i += 3;
    uint64_t seq = 0;
    size_t digits = 0;
    for (; i < n && v[i] != ';' && digits < 16; i++, digits++) {
        char c = v[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return;
        seq = seq << 4 | (uint64_t)d;
    }
    if (!digits)
        return;
    s->cur_seq = seq;
    s->cur_has = 1;
}

static void begin(journal_session_t *s)
{
    if (s->in_entry)
        return;
    s->cur_has = 0;
    recbuild_reset(&s->rb);
    s->in_entry = 1;
    s->has_msg = 0;
    s->app_rank = 0;
    s->entry_bytes = 0;
}

static void field(journal_session_t *s, const char *k, size_t kn, const char *v, size_t vn)
{
    recbuild_t *rb = &s->rb;
    int64_t x;
    begin(s);
    if (is(k, kn, "__CURSOR"))
        cursor(s, v, vn); /* and kept in fields */
    if (is(k, kn, "MESSAGE")) {
        recbuild_set(rb, RF_MSG, v, vn);
        s->has_msg = 1;
        return;
    }
    if (is(k, kn, "PRIORITY") && vn == 1 && v[0] >= '0' && v[0] <= '7') {
        rb->level = v[0] - '0';
        return;
    }
    if (is(k, kn, "__REALTIME_TIMESTAMP") && decimal(v, vn, &x) == 0 && x < INT64_MAX / 1000) {
        rb->ts = x * 1000;
        rb->has_ts = 1;
        /* kept in fields too: it is the entry's own clock, to the microsecond */
    } else if (is(k, kn, "_SOURCE_REALTIME_TIMESTAMP") && !rb->has_ts && decimal(v, vn, &x) == 0 &&
               x < INT64_MAX / 1000) {
        rb->ts = x * 1000;
        rb->has_ts = 1;
    } else if (is(k, kn, "SYSLOG_IDENTIFIER") && vn) {
        recbuild_set(rb, RF_APP, v, vn);
        s->app_rank = 2;
        return;
    } else if (is(k, kn, "_COMM") && vn && s->app_rank < 1) {
        recbuild_set(rb, RF_APP, v, vn);
        s->app_rank = 1;
    } else if (is(k, kn, "_HOSTNAME") && vn) {
        recbuild_set(rb, RF_HOST, v, vn);
        return;
    } else if (is(k, kn, "_PID") && vn) {
        recbuild_set(rb, RF_PID, v, vn);
        return;
    }
    recbuild_field_key(rb, k, kn);
    recbuild_field_str(rb, v, vn);
}

static void end_entry(journal_session_t *s, batch_t *b, const rec_defaults_t *d)
{
    if (!s->in_entry)
        return;
    s->in_entry = 0;
    s->entries++;
    if (s->cur_has && seen_before(s->seen, s->cur_id, s->cur_seq)) {
        s->duplicates++;
        return;
    }
    if (!s->has_msg)
        recbuild_set(&s->rb, RF_MSG, "", 0);
    recbuild_finish(&s->rb, b, d);
    if (s->cur_has &&
        (!s->new_has || strcmp(s->new_id, s->cur_id) != 0 || s->cur_seq > s->new_seq)) {
        memcpy(s->new_id, s->cur_id, sizeof s->cur_id);
        s->new_seq = s->cur_seq;
        s->new_has = 1;
    }
}

static int fail(journal_session_t *s, const char *why)
{
    snprintf(s->err, sizeof s->err, "entry %llu: %s", (unsigned long long)s->entries + 1, why);
    return -1;
}

/* One whole line (without its '\n'). */
static int line(journal_session_t *s, const char *p, size_t n, batch_t *b, const rec_defaults_t *d)
{
    if (!n) {
        end_entry(s, b, d);
        return 0;
    }
    const char *eq = memchr(p, '=', n);
    if (eq) {
        if (!name_ok(p, (size_t)(eq - p)))
            return fail(s, "a field name must be upper-case letters, digits and _");
        field(s, p, (size_t)(eq - p), eq + 1, n - (size_t)(eq - p) - 1);
        return 0;
    }
    if (!name_ok(p, n))
        return fail(s, "not a field: expected NAME=value or a binary field");
    memcpy(s->bin_name, p, n);
    s->bin_name[n] = '\0';
    s->state = S_BIN_SIZE;
    return 0;
}

int journal_feed(journal_session_t *s, const char *p, size_t n, batch_t *b, const rec_defaults_t *d)
{
    while (n) {
        if (s->state == S_LINE) {
            const char *nl = memchr(p, '\n', n);
            size_t len = nl ? (size_t)(nl - p) : n;
            if (s->pending.len + len > s->max_entry || s->entry_bytes + len > s->max_entry)
                return fail(s, "an entry is larger than the limit");
            if (!nl) {
                buf_append(&s->pending, p, len);
                return 0;
            }
            int rc;
            if (s->pending.len) {
                buf_append(&s->pending, p, len);
                rc = line(s, s->pending.data, s->pending.len, b, d);
                buf_reset(&s->pending);
            } else {
                rc = line(s, p, len, b, d);
            }
            if (rc)
                return -1;
            if (s->in_entry)
                s->entry_bytes += len + 1;
            p += len + 1;
            n -= len + 1;
        } else if (s->state == S_BIN_SIZE) {
            size_t take = 8 - s->pending.len < n ? 8 - s->pending.len : n;
            buf_append(&s->pending, p, take);
            p += take;
            n -= take;
            if (s->pending.len < 8)
                return 0;
            uint64_t size = 0;
            for (int i = 7; i >= 0; i--)
                size = size << 8 | (unsigned char)s->pending.data[i];
            buf_reset(&s->pending);
            if (size > s->max_entry || s->entry_bytes + size > s->max_entry)
                return fail(s, "a binary field is larger than the limit");
            s->bin_left = size;
            s->state = S_BIN_DATA;
        } else if (s->state == S_BIN_DATA) {
            size_t take = s->bin_left < n ? (size_t)s->bin_left : n;
            buf_append(&s->pending, p, take);
            p += take;
            n -= take;
            s->bin_left -= take;
            if (!s->bin_left)
                s->state = S_BIN_END;
        } else {
            if (p[0] != '\n')
                return fail(s, "a binary field does not end with a newline");
            field(s, s->bin_name, strlen(s->bin_name), s->pending.data ? s->pending.data : "",
                  s->pending.len);
            s->entry_bytes += strlen(s->bin_name) + 10 + s->pending.len;
            buf_reset(&s->pending);
            buf_shrink(&s->pending, 64 * 1024);
            s->state = S_LINE;
            p++;
            n--;
        }
    }
    return 0;
}

int journal_finish(journal_session_t *s, batch_t *b, const rec_defaults_t *d)
{
    int rc = 0;
    if (s->state != S_LINE) {
        rc = fail(s, "the body ended inside a binary field");
    } else if (s->pending.len) {
        rc = line(s, s->pending.data, s->pending.len, b, d);
        buf_reset(&s->pending);
    }
    if (s->state == S_LINE)
        end_entry(s, b, d);
    s->state = S_LINE;
    s->in_entry = 0;
    return rc;
}
