/* gelf_chunk.c - chunked GELF reassembly: see gelf_chunk.h. */
#include "gelf_chunk.h"

#include "../../common/check.h"

#define HDR 12

int gelf_is_chunk(const char *p, size_t n)
{
    return n >= 2 && (unsigned char)p[0] == 0x1e && (unsigned char)p[1] == 0x0f;
}

void gelf_chunks_init(gelf_chunks_t *t)
{
    memset(t, 0, sizeof *t);
}

void gelf_chunks_free(gelf_chunks_t *t)
{
    for (size_t i = 0; i < GELF_PENDING; i++)
        buf_free(&t->slot[i].data);
    memset(t, 0, sizeof *t);
}

static void release(gelf_chunks_t *t, gelf_slot_t *s)
{
    t->held -= s->data.len;
    t->used--;
    s->used = 0;
    buf_reset(&s->data);
    /* one huge message must not pin its memory */
    buf_shrink(&s->data, 64 * 1024);
}

size_t gelf_chunks_expire(gelf_chunks_t *t, int64_t now_ns)
{
    size_t n = 0;
    if (!t->used)
        return 0;
    for (size_t i = 0; i < GELF_PENDING; i++) {
        gelf_slot_t *s = &t->slot[i];
        if (s->used && now_ns - s->first_ns > GELF_CHUNK_TIMEOUT_NS) {
            release(t, s);
            n++;
        }
    }
    t->expired += n;
    return n;
}

enum gelf_chunk_result gelf_chunks_add(gelf_chunks_t *t, const char *p, size_t n, int64_t now_ns,
                                       buf_t *out)
{
    gelf_chunks_expire(t, now_ns);
    if (n < HDR) {
        t->invalid++;
        return GELF_CHUNK_INVALID;
    }
    uint64_t id;
    memcpy(&id, p + 2, 8);
    unsigned seq = (unsigned char)p[10], count = (unsigned char)p[11];
    if (count == 0 || count > GELF_MAX_CHUNKS || seq >= count) {
        t->invalid++;
        return GELF_CHUNK_INVALID;
    }
    const char *part = p + HDR;
    size_t plen = n - HDR;
    if (count == 1) {
        buf_reset(out);
        buf_append(out, part, plen);
        return GELF_CHUNK_COMPLETE;
    }
    gelf_slot_t *s = NULL, *free_slot = NULL;
    for (size_t i = 0; i < GELF_PENDING; i++) {
        gelf_slot_t *c = &t->slot[i];
        if (c->used && c->id == id) {
            s = c;
            break;
        }
        if (!c->used && !free_slot)
            free_slot = c;
    }
    if (s && s->count != count) {
        t->invalid++;
        return GELF_CHUNK_INVALID;
    }
    if (s && s->have[seq])
        return GELF_CHUNK_WAIT; /* a repeat */
    if (t->held + plen > GELF_PENDING_BYTES || (!s && !free_slot)) {
        if (s)
            release(t, s);
        t->overflowed++;
        return GELF_CHUNK_DROPPED;
    }
    if (!s) {
        s = free_slot;
        s->used = 1;
        s->id = id;
        s->count = count;
        s->got = 0;
        s->first_ns = now_ns;
        memset(s->have, 0, sizeof s->have);
        t->used++;
    }
    s->off[seq] = (uint32_t)s->data.len;
    s->len[seq] = (uint32_t)plen;
    s->have[seq] = 1;
    buf_append(&s->data, part, plen);
    t->held += plen;
    s->got++;
    if (s->got < s->count)
        return GELF_CHUNK_WAIT;
    buf_reset(out);
    for (unsigned i = 0; i < s->count; i++)
        buf_append(out, s->data.data + s->off[i], s->len[i]);
    release(t, s);
    CHECK(t->held <= GELF_PENDING_BYTES, "C1");
    return GELF_CHUNK_COMPLETE;
}
