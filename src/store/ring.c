/* ring.c - the memory window of recent frames: see ring.h. */
#include "ring.h"

#include <assert.h>
#include <stdlib.h>

int ring_init(ring_t *r, size_t max_records, size_t max_bytes)
{
    memset(r, 0, sizeof *r);
    r->mem = malloc(max_bytes);
    r->offs = malloc(max_records * sizeof *r->offs);
    if (!r->mem || !r->offs) {
        ring_free(r);
        return -1;
    }
    r->size = max_bytes;
    r->max_records = max_records;
    return 0;
}

void ring_free(ring_t *r)
{
    free(r->mem);
    free(r->offs);
    r->mem = NULL;
    r->offs = NULL;
}

void ring_reset(ring_t *r, uint64_t next)
{
    r->head = r->tail = r->wrap_end = 0;
    r->wrapped = 0;
    r->first_seq = r->next_seq = next;
    r->bytes = 0;
}

static size_t frame_size(const char *p)
{
    return (size_t)rd32(p) + RECORD_FRAME_HDR;
}

static void evict(ring_t *r)
{
    size_t n = frame_size(r->mem + r->tail);
    r->tail += n;
    r->bytes -= n;
    r->first_seq++;
    if (r->first_seq == r->next_seq) {
        ring_reset(r, r->next_seq);
        return;
    }
    if (r->wrapped && r->tail >= r->wrap_end) {
        r->tail = 0;
        r->wrapped = 0;
    }
}

void ring_push(ring_t *r, const char *frame, size_t n)
{
    if (n > r->size) {
        ring_reset(r, r->next_seq + 1);
        return;
    }
    if (ring_count(r) == r->max_records)
        evict(r);
    for (;;) {
        if (ring_count(r) == 0) {
            ring_reset(r, r->next_seq);
            break;
        }
        if (!r->wrapped) {
            if (r->head + n <= r->size)
                break;
            r->wrap_end = r->head;
            r->head = 0;
            r->wrapped = 1;
            continue;
        }
        if (r->head + n <= r->tail)
            break;
        evict(r);
    }
    memcpy(r->mem + r->head, frame, n);
    r->offs[r->next_seq % r->max_records] = r->head;
    r->head += n;
    r->bytes += n;
    r->next_seq++;
    assert(ring_count(r) <= r->max_records); /* invariant 1 */
}

const char *ring_get(const ring_t *r, uint64_t s)
{
    if (s < r->first_seq || s >= r->next_seq)
        return NULL;
    return r->mem + r->offs[s % r->max_records];
}
