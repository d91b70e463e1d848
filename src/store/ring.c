/* ring.c - the memory window of recent frames: see ring.h. */
#include "ring.h"

#include <stdlib.h>

#include "../common/check.h"

int ring_init(ring_t *r, size_t max_records, size_t max_bytes)
{
    memset(r, 0, sizeof *r);
    if (max_bytes > UINT32_MAX)
        max_bytes = UINT32_MAX; /* offsets are 32-bit */
    if (!max_records)
        max_records = 1;
    r->mem = malloc(max_bytes ? max_bytes : 1);
    r->slots = malloc(max_records * sizeof *r->slots);
    if (!r->mem || !r->slots) {
        ring_free(r);
        return -1;
    }
    r->size = max_bytes;
    r->limit = max_bytes < RING_START_BYTES ? max_bytes : RING_START_BYTES;
    r->max_records = max_records;
    return 0;
}

void ring_free(ring_t *r)
{
    free(r->mem);
    free(r->slots);
    r->mem = NULL;
    r->slots = NULL;
    r->count = 0;
}

void ring_clear(ring_t *r)
{
    r->head = r->tail = r->wrap_end = 0;
    r->wrapped = 0;
    r->first = r->count = 0;
    r->bytes = 0;
}

static void evict(ring_t *r)
{
    size_t n = r->slots[r->first].len;
    r->tail += n;
    r->bytes -= n;
    r->first = (r->first + 1) % r->max_records;
    if (--r->count == 0) {
        ring_clear(r);
        return;
    }
    if (r->wrapped && r->tail >= r->wrap_end) {
        r->tail = 0;
        r->wrapped = 0;
    }
}

void ring_push(ring_t *r, const char *frame, size_t n)
{
    uint64_t seq = frame_seq(frame);
    CHECK(r->count == 0 || seq > ring_last_seq(r), "ring.h invariant 2: seqs strictly increase");
    if (n > r->size) {
        ring_clear(r);
        return;
    }
    /* a full count evicts the oldest: then the frame takes its place and
     * the buffer must not grow for it (the record count has no room left) */
    int may_grow = r->count < r->max_records;
    if (!may_grow)
        evict(r);
    for (;;) {
        if (r->count == 0) {
            ring_clear(r);
            break;
        }
        if (!r->wrapped) {
            if (r->head + n <= r->limit)
                break;
            if (r->limit < r->size && may_grow) {
                /* short of bytes, not of records: use more of the buffer */
                r->limit = r->limit * 2 < r->size ? r->limit * 2 : r->size;
                continue;
            }
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
    ring_slot_t *s = &r->slots[(r->first + r->count) % r->max_records];
    s->seq = seq;
    s->off = (uint32_t)r->head;
    s->len = (uint32_t)n;
    r->head += n;
    r->bytes += n;
    r->count++;
}

uint64_t ring_first_seq(const ring_t *r)
{
    return r->count ? ring_seq_at(r, 0) : 0;
}

uint64_t ring_last_seq(const ring_t *r)
{
    return r->count ? ring_seq_at(r, r->count - 1) : 0;
}

size_t ring_lower_bound(const ring_t *r, uint64_t seq)
{
    size_t lo = 0, hi = r->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ring_seq_at(r, mid) < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const char *ring_get(const ring_t *r, uint64_t seq)
{
    size_t i = ring_lower_bound(r, seq);
    return i < r->count && ring_seq_at(r, i) == seq ? ring_at(r, i) : NULL;
}
