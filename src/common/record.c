/* record.c - record frames, batches and the record builder: see record.h. */
#include "record.h"

#include <xxhash.h>

#include "json_write.h"
#include "level.h"
#include "timeutil.h"
#include "utf8.h"

size_t record_frame_size(const record_t *r)
{
    return RECORD_HEAD + r->topic.n + r->app.n + r->host.n + r->pid.n + r->fields.n + r->msg.n;
}

static inline void wr16(char *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static inline uint16_t rd16(const char *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

void record_encode(char *dst, const record_t *r)
{
    size_t size = record_frame_size(r);
    wr32(dst, (uint32_t)(size - RECORD_FRAME_HDR));
    wr32(dst + 4, 0);
    wr64(dst + 8, r->seq);
    wr64(dst + 16, (uint64_t)r->ts);
    dst[24] = (char)r->level;
    dst[25] = (char)r->flags;
    wr16(dst + 26, (uint16_t)r->topic.n);
    wr16(dst + 28, (uint16_t)r->app.n);
    wr16(dst + 30, (uint16_t)r->host.n);
    wr16(dst + 32, (uint16_t)r->pid.n);
    wr32(dst + 34, (uint32_t)r->fields.n);
    wr32(dst + 38, (uint32_t)r->msg.n);
    char *p = dst + RECORD_HEAD;
    const slice_t *parts[] = {&r->topic, &r->app, &r->host, &r->pid, &r->fields, &r->msg};
    for (size_t i = 0; i < 6; i++) {
        if (parts[i]->n)
            memcpy(p, parts[i]->p, parts[i]->n);
        p += parts[i]->n;
    }
}

long record_decode(const char *p, size_t n, record_t *out)
{
    if (n < RECORD_FRAME_HDR)
        return 0;
    uint32_t body = rd32(p);
    if (body < RECORD_HEAD - RECORD_FRAME_HDR || body > RECORD_MSG_MAX + 4 * 65536u + (1u << 24))
        return -1;
    size_t size = (size_t)body + RECORD_FRAME_HDR;
    if (n < size)
        return 0;
    size_t lens[6] = {rd16(p + 26), rd16(p + 28), rd16(p + 30),
                      rd16(p + 32), rd32(p + 34), rd32(p + 38)};
    size_t total = RECORD_HEAD;
    for (size_t i = 0; i < 6; i++) {
        if (lens[i] > size)
            return -1;
        total += lens[i];
    }
    if (total != size || (unsigned char)p[24] > 7)
        return -1;
    out->seq = rd64(p + 8);
    out->ts = (int64_t)rd64(p + 16);
    out->level = (unsigned char)p[24];
    out->flags = (unsigned char)p[25];
    const char *q = p + RECORD_HEAD;
    slice_t *parts[] = {&out->topic, &out->app, &out->host, &out->pid, &out->fields, &out->msg};
    for (size_t i = 0; i < 6; i++) {
        parts[i]->p = q;
        parts[i]->n = lens[i];
        q += lens[i];
    }
    return (long)size;
}

uint32_t record_checksum(const char *frame)
{
    return (uint32_t)XXH3_64bits(frame + RECORD_FRAME_HDR, rd32(frame));
}

void record_seal(char *frame, uint64_t seq)
{
    wr64(frame + 8, seq);
    wr32(frame + 4, record_checksum(frame));
}

int record_verify(const char *p, size_t n, size_t *size)
{
    record_t r;
    long k = record_decode(p, n, &r);
    if (k <= 0 || record_checksum(p) != rd32(p + 4))
        return 0;
    *size = (size_t)k;
    return 1;
}

void record_to_json(buf_t *b, const record_t *r)
{
    char ts[RFC3339_MAX];
    size_t tn = time_format_rfc3339(r->ts, ts);

    buf_reserve(b, 96 + record_frame_size(r));
    buf_puts(b, "{\"seq\":");
    buf_append_u64(b, r->seq);
    buf_puts(b, ",\"ts\":\"");
    buf_append(b, ts, tn);
    buf_puts(b, "\",\"level\":\"");
    buf_puts(b, level_name(r->level));
    buf_puts(b, "\",\"topic\":");
    json_slice(b, r->topic);
    if (r->host.n) {
        buf_puts(b, ",\"host\":");
        json_slice(b, r->host);
    }
    buf_puts(b, ",\"app\":");
    json_slice(b, r->app);
    if (r->pid.n) {
        buf_puts(b, ",\"pid\":");
        json_slice(b, r->pid);
    }
    buf_puts(b, ",\"msg\":");
    json_slice(b, r->msg);
    if (r->fields.n) {
        /* built by recbuild: already a valid JSON object */
        buf_puts(b, ",\"fields\":");
        buf_append(b, r->fields.p, r->fields.n);
    }
    if (r->flags & RECORD_F_TRUNCATED)
        buf_puts(b, ",\"truncated\":true");
    buf_putc(b, '}');
}

void batch_reset(batch_t *b)
{
    buf_reset(&b->frames);
    b->count = b->repaired = b->truncated = b->unknown_levels = 0;
}

void batch_free(batch_t *b)
{
    buf_free(&b->frames);
    b->count = 0;
}

void batch_add(batch_t *b, const record_t *r)
{
    size_t size = record_frame_size(r);
    record_encode(buf_reserve(&b->frames, size), r);
    b->frames.len += size;
    b->count++;
    if (r->flags & RECORD_F_REPAIRED)
        b->repaired++;
    if (r->flags & RECORD_F_TRUNCATED)
        b->truncated++;
}

void batch_truncate(batch_t *b, size_t mark, size_t count)
{
    b->frames.len = mark;
    b->count = count;
}

void recbuild_init(recbuild_t *rb, size_t max_msg)
{
    memset(rb, 0, sizeof *rb);
    rb->max_msg = max_msg && max_msg < RECORD_MSG_MAX ? max_msg : RECORD_MSG_MAX;
    rb->level = -1;
}

void recbuild_reset(recbuild_t *rb)
{
    buf_reset(&rb->scratch);
    buf_reset(&rb->fields);
    rb->set = 0;
    rb->has_ts = 0;
    rb->level = -1;
    rb->level_unknown = 0;
    rb->flags = 0;
}

void recbuild_free(recbuild_t *rb)
{
    buf_free(&rb->scratch);
    buf_free(&rb->fields);
}

void recbuild_set(recbuild_t *rb, enum rec_field f, const char *s, size_t n)
{
    size_t max = f == RF_MSG ? rb->max_msg : RECORD_NAME_MAX;
    size_t start = rb->scratch.len;
    /* allocate even for an empty text: readers compute scratch.data + off */
    buf_reserve(&rb->scratch, n);
    if (utf8_repair_append(&rb->scratch, s, n))
        rb->flags |= RECORD_F_REPAIRED;
    size_t len = rb->scratch.len - start;
    if (len > max) {
        len = utf8_truncate(rb->scratch.data + start, len, max);
        rb->scratch.len = start + len;
        if (f == RF_MSG)
            rb->flags |= RECORD_F_TRUNCATED;
    }
    rb->off[f] = start;
    rb->len[f] = len;
    rb->set |= 1u << f;
}

void recbuild_field_key(recbuild_t *rb, const char *k, size_t kn)
{
    buf_putc(&rb->fields, rb->fields.len ? ',' : '{');
    json_str(&rb->fields, k, kn);
    buf_putc(&rb->fields, ':');
}

void recbuild_field_str(recbuild_t *rb, const char *s, size_t n)
{
    if (utf8_valid_prefix(s, n) != n)
        rb->flags |= RECORD_F_REPAIRED;
    json_str(&rb->fields, s, n);
}

void recbuild_field_raw(recbuild_t *rb, const char *s, size_t n)
{
    buf_append(&rb->fields, s, n);
}

void recbuild_finish(recbuild_t *rb, batch_t *b, const rec_defaults_t *d)
{
    record_t r;
    char topic[RECORD_NAME_MAX + 16];

    r.seq = 0;
    r.level = rb->level >= 0 ? rb->level : d->level >= 0 ? d->level : LEVEL_INFO;
    r.ts = rb->has_ts ? rb->ts : d->now;
    r.flags = rb->flags;
    slice_t *dst[RF_COUNT] = {&r.topic, &r.app, &r.host, &r.pid, &r.msg};
    for (int f = 0; f < RF_COUNT; f++)
        *dst[f] = recbuild_has(rb, (enum rec_field)f)
                      ? slice_make(rb->scratch.data + rb->off[f], rb->len[f])
                      : SLICE_NULL;
    if (!r.app.n)
        r.app = d->app.n ? d->app : SLICE_LIT("default");
    if (!r.host.n)
        r.host = d->host;
    if (!r.topic.n && d->topic.n)
        r.topic = d->topic;
    /* defaults obey the name limit too (their caller checked the UTF-8) */
    r.app.n = utf8_truncate(r.app.p, r.app.n, RECORD_NAME_MAX);
    r.host.n = utf8_truncate(r.host.p, r.host.n, RECORD_NAME_MAX);
    r.topic.n = utf8_truncate(r.topic.p, r.topic.n, RECORD_NAME_MAX);
    if (!r.topic.n) {
        /* <app>.<level>, cut so it fits the name limit */
        size_t an = r.app.n > RECORD_NAME_MAX - 8 ? RECORD_NAME_MAX - 8 : r.app.n;
        an = utf8_truncate(r.app.p, r.app.n, an);
        memcpy(topic, r.app.p, an);
        topic[an] = '.';
        const char *ln = level_name(r.level);
        size_t lnn = strlen(ln);
        memcpy(topic + an + 1, ln, lnn);
        r.topic = slice_make(topic, an + 1 + lnn);
    }
    if (rb->fields.len) {
        buf_putc(&rb->fields, '}');
        r.fields = slice_make(rb->fields.data, rb->fields.len);
    } else {
        r.fields = SLICE_NULL;
    }
    batch_add(b, &r);
    b->unknown_levels += rb->level_unknown != 0;
}
