/* producer.c - the producer batch table: see producer.h.
 *
 * Open addressing with linear probing over a power-of-two array. Slots are
 * never deleted one by one: when the table is full the least recently seen
 * half is dropped and the rest rehashed, an O(n) step that runs once per
 * PRODUCER_MAX / 2 new producers.
 */
#include "producer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "../common/buf.h"
#include "../common/record.h"

#define SNAP_MAGIC "LSPROD01"
#define META_TOPIC "logship.producer"

void producer_table_init(producer_table_t *t)
{
    memset(t, 0, sizeof *t);
}

void producer_table_free(producer_table_t *t)
{
    free(t->slots);
    memset(t, 0, sizeof *t);
}

void producer_table_copy(producer_table_t *dst, const producer_table_t *src)
{
    *dst = *src;
    dst->slots = NULL;
    if (src->cap) {
        dst->slots = xmalloc(src->cap * sizeof *src->slots);
        memcpy(dst->slots, src->slots, src->cap * sizeof *src->slots);
    }
}

int producer_id_check(const char *id, size_t n)
{
    if (n == 0 || n > PRODUCER_ID_MAX)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)id[i] <= 0x20 || (unsigned char)id[i] >= 0x7f)
            return -1;
    return 0;
}

static producer_t *find(const producer_table_t *t, const char *id, size_t n, int *found)
{
    *found = 0;
    if (!t->cap)
        return NULL;
    size_t mask = t->cap - 1, i = (size_t)XXH3_64bits(id, n) & mask;
    for (;;) {
        producer_t *p = &t->slots[i];
        if (!p->idlen)
            return p;
        if (p->idlen == n && memcmp(p->id, id, n) == 0) {
            *found = 1;
            return p;
        }
        i = (i + 1) & mask;
    }
}

static int by_touched_desc(const void *a, const void *b)
{
    uint64_t x = ((const producer_t *)a)->touched, y = ((const producer_t *)b)->touched;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Resizes to cap slots, keeping at most keep producers, newest first. */
static void rebuild(producer_table_t *t, size_t cap, size_t keep)
{
    producer_t *old = t->slots;
    size_t oldcap = t->cap, n = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].idlen)
            old[n++] = old[i];
    if (n)
        qsort(old, n, sizeof *old, by_touched_desc);
    if (n > keep)
        n = keep;
    t->slots = xcalloc(cap, sizeof *t->slots);
    t->cap = cap;
    t->count = 0;
    for (size_t i = 0; i < n; i++) {
        int found;
        producer_t *p = find(t, old[i].id, old[i].idlen, &found);
        *p = old[i];
        t->count++;
    }
    free(old);
}

static producer_t *get(producer_table_t *t, const char *id, size_t n)
{
    int found;
    if (t->count + 1 > t->cap / 2) {
        if (t->cap < 2 * PRODUCER_MAX)
            rebuild(t, t->cap ? t->cap * 2 : 64, SIZE_MAX);
        else
            rebuild(t, t->cap, PRODUCER_MAX / 2);
    }
    producer_t *p = find(t, id, n, &found);
    if (!found) {
        memset(p, 0, sizeof *p);
        memcpy(p->id, id, n);
        p->idlen = (unsigned char)n;
        t->count++;
    }
    p->touched = ++t->clock;
    return p;
}

enum producer_seen producer_lookup(producer_table_t *t, const char *id, size_t n, uint64_t batch,
                                   producer_batch_t *out)
{
    int found;
    producer_t *p = find(t, id, n, &found);
    if (!found || batch > p->max_batch)
        return PRODUCER_NEW;
    for (unsigned i = 0; i < p->n; i++) {
        if (p->recent[i].batch == batch) {
            *out = p->recent[i];
            p->touched = ++t->clock;
            return PRODUCER_DUPLICATE;
        }
    }
    /* at or below the highest number seen but no longer remembered: with a
     * full window it was stored long ago (numbers only grow); with room
     * left it was never sent, so it is new */
    return p->n == PRODUCER_WINDOW ? PRODUCER_SUPERSEDED : PRODUCER_NEW;
}

uint64_t producer_max_batch(producer_table_t *t, const char *id, size_t n)
{
    int found;
    producer_t *p = find(t, id, n, &found);
    return found ? p->max_batch : 0;
}

void producer_record(producer_table_t *t, const char *id, size_t n, const producer_batch_t *b)
{
    producer_t *p = get(t, id, n);
    /* recording a batch twice (a snapshot and the meta frame after it)
     * must not push another batch out of the window */
    for (unsigned i = 0; i < p->n; i++) {
        if (p->recent[i].batch == b->batch) {
            p->recent[i] = *b;
            return;
        }
    }
    p->recent[p->head] = *b;
    p->head = (unsigned char)((p->head + 1) % PRODUCER_WINDOW);
    if (p->n < PRODUCER_WINDOW)
        p->n++;
    if (b->batch > p->max_batch)
        p->max_batch = b->batch;
}

void producer_forget(producer_table_t *t, const char *id, size_t n, uint64_t batch)
{
    int found;
    producer_t *p = find(t, id, n, &found);
    if (!found)
        return;
    for (unsigned i = 0; i < p->n; i++) {
        if (p->recent[i].batch == batch) {
            p->recent[i].batch = 0;
            p->recent[i].first = p->recent[i].last = 0;
        }
    }
    /* recompute the maximum without the forgotten batch */
    p->max_batch = 0;
    for (unsigned i = 0; i < p->n; i++)
        if (p->recent[i].batch > p->max_batch)
            p->max_batch = p->recent[i].batch;
}

void producer_meta_encode(buf_t *out, const char *id, size_t n, uint64_t batch, uint64_t first,
                          uint64_t last)
{
    char msg[80];
    int len = snprintf(msg, sizeof msg, "%" PRIu64 " %" PRIu64 " %" PRIu64, batch, first, last);
    record_t r = {0};
    r.flags = RECORD_F_META;
    r.level = 7;
    r.topic = SLICE_LIT(META_TOPIC);
    r.app = slice_make(id, n);
    r.msg = slice_make(msg, (size_t)len);
    size_t size = record_frame_size(&r);
    char *p = buf_reserve(out, size);
    record_encode(p, &r);
    record_seal(p, 0);
    out->len += size;
}

int producer_meta_parse(const record_t *r, producer_batch_t *b)
{
    char msg[80];
    if (!slice_eq(r->topic, META_TOPIC) || r->msg.n >= sizeof msg ||
        producer_id_check(r->app.p, r->app.n))
        return -1;
    memcpy(msg, r->msg.p, r->msg.n);
    msg[r->msg.n] = '\0';
    memset(b, 0, sizeof *b);
    if (sscanf(msg, "%" SCNu64 " %" SCNu64 " %" SCNu64, &b->batch, &b->first, &b->last) != 3)
        return -1;
    return 0;
}

int producer_save(const producer_table_t *t, const char *path, uint64_t seg)
{
    buf_t b = BUF_INIT;
    char tmp[8];
    buf_append(&b, SNAP_MAGIC, 8);
    wr64(tmp, seg);
    buf_append(&b, tmp, 8);
    wr64(tmp, t->count);
    buf_append(&b, tmp, 8);
    for (size_t i = 0; i < t->cap; i++) {
        const producer_t *p = &t->slots[i];
        if (!p->idlen)
            continue;
        buf_putc(&b, (char)p->idlen);
        buf_append(&b, p->id, p->idlen);
        wr64(tmp, p->max_batch);
        buf_append(&b, tmp, 8);
        buf_putc(&b, (char)p->n);
        for (unsigned k = 0; k < p->n; k++) {
            /* oldest first, so replaying them in order rebuilds the ring */
            const producer_batch_t *r =
                &p->recent[(p->head + PRODUCER_WINDOW - p->n + k) % PRODUCER_WINDOW];
            wr64(tmp, r->batch);
            buf_append(&b, tmp, 8);
            wr64(tmp, r->first);
            buf_append(&b, tmp, 8);
            wr64(tmp, r->last);
            buf_append(&b, tmp, 8);
        }
    }
    wr64(tmp, XXH3_64bits(b.data, b.len));
    buf_append(&b, tmp, 8);

    char tpath[4200];
    snprintf(tpath, sizeof tpath, "%s.tmp", path);
    int rc = -1, fd = open(tpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        if (write(fd, b.data, b.len) == (ssize_t)b.len && fdatasync(fd) == 0)
            rc = 0;
        close(fd);
        if (rc == 0 && rename(tpath, path) != 0)
            rc = -1;
        if (rc)
            unlink(tpath);
    }
    buf_free(&b);
    return rc;
}

int producer_load(producer_table_t *t, const char *path, uint64_t *seg)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < 32 || size > (off_t)(256u << 20)) {
        close(fd);
        return -1;
    }
    char *b = xmalloc((size_t)size);
    ssize_t r = pread(fd, b, (size_t)size, 0);
    close(fd);
    int rc = -1;
    if (r != size || memcmp(b, SNAP_MAGIC, 8) != 0 ||
        rd64(b + size - 8) != XXH3_64bits(b, (size_t)size - 8))
        goto out;
    *seg = rd64(b + 8);
    uint64_t count = rd64(b + 16);
    size_t pos = 24, end = (size_t)size - 8;
    for (uint64_t i = 0; i < count; i++) {
        if (pos + 1 > end)
            goto out;
        size_t idlen = (unsigned char)b[pos++];
        if (idlen == 0 || idlen > PRODUCER_ID_MAX || pos + idlen + 9 > end)
            goto out;
        const char *id = b + pos;
        pos += idlen;
        uint64_t max_batch = rd64(b + pos);
        pos += 8;
        unsigned n = (unsigned char)b[pos++];
        if (n > PRODUCER_WINDOW || pos + (size_t)n * 24 > end)
            goto out;
        for (unsigned k = 0; k < n; k++) {
            producer_batch_t pb = {rd64(b + pos), rd64(b + pos + 8), rd64(b + pos + 16), 0};
            pos += 24;
            producer_record(t, id, idlen, &pb);
        }
        producer_t *p = get(t, id, idlen);
        if (max_batch > p->max_batch)
            p->max_batch = max_batch;
    }
    rc = 0;
out:
    free(b);
    return rc;
}
