/* pack.c - records into AMQP message bodies: see pack.h. */
#include "pack.h"

#include <inttypes.h>
#include <stdio.h>

void pack_init(pack_t *p, size_t batch)
{
    memset(p, 0, sizeof *p);
    p->batch = batch ? batch : 1;
}

void pack_free(pack_t *p)
{
    for (size_t i = 0; i < PACK_OPEN_MAX; i++)
        buf_free(&p->msgs[i].body);
}

void pack_reset(pack_t *p)
{
    p->head = p->n = 0;
}

static pack_msg_t *nth(pack_t *p, size_t i)
{
    return &p->msgs[p->fifo[(p->head + i) % PACK_OPEN_MAX]];
}

static pack_msg_t *find(const pack_t *p, slice_t topic)
{
    for (size_t i = 0; i < p->n; i++) {
        pack_msg_t *m = nth((pack_t *)p, i);
        if (!m->ready && m->topic_len == topic.n && memcmp(m->topic, topic.p, topic.n) == 0)
            return m;
    }
    return NULL;
}

int pack_needs_new(const pack_t *p, slice_t topic)
{
    return find(p, topic) == NULL;
}

/* A free slot of msgs: one not in the fifo. */
static size_t free_slot(const pack_t *p)
{
    int used[PACK_OPEN_MAX] = {0};
    for (size_t i = 0; i < p->n; i++)
        used[p->fifo[(p->head + i) % PACK_OPEN_MAX]] = 1;
    for (size_t i = 0; i < PACK_OPEN_MAX; i++)
        if (!used[i])
            return i;
    return PACK_OPEN_MAX; /* not reached: the caller made room */
}

void pack_make_room(pack_t *p, slice_t topic)
{
    if (p->n == PACK_OPEN_MAX && !find(p, topic))
        nth(p, 0)->ready = 1;
}

int pack_add(pack_t *p, const record_t *r)
{
    pack_msg_t *m = find(p, r->topic);
    if (!m) {
        size_t slot = free_slot(p);
        if (slot == PACK_OPEN_MAX)
            return -1;
        m = &p->msgs[slot];
        p->fifo[(p->head + p->n) % PACK_OPEN_MAX] = slot;
        p->n++;
        buf_reset(&m->body);
        memcpy(m->topic, r->topic.p, r->topic.n);
        m->topic_len = r->topic.n;
        m->first = r->seq;
        m->first_ts = r->ts;
        m->count = 0;
        m->ready = 0;
    }
    record_to_json(&m->body, r);
    if (p->batch > 1)
        buf_putc(&m->body, '\n');
    m->last = r->seq;
    if (++m->count >= p->batch) {
        /* it and every older one: messages leave in order */
        for (size_t i = 0; i < p->n; i++) {
            pack_msg_t *o = nth(p, i);
            o->ready = 1;
            if (o == m)
                break;
        }
    }
    return 0;
}

void pack_flush(pack_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        nth(p, i)->ready = 1;
}

pack_msg_t *pack_next(pack_t *p)
{
    if (!p->n || !nth(p, 0)->ready)
        return NULL;
    return nth(p, 0);
}

void pack_pop(pack_t *p)
{
    if (!p->n)
        return;
    p->head = (p->head + 1) % PACK_OPEN_MAX;
    p->n--;
}

size_t pack_msg_id(const pack_msg_t *m, const char *node, char *out, size_t cap)
{
    int n = m->count > 1 ? snprintf(out, cap, "%s:%" PRIu64 "-%" PRIu64, node, m->first, m->last)
                         : snprintf(out, cap, "%s:%" PRIu64, node, m->first);
    if (n < 0)
        return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}
