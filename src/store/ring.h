/* ring.h - the memory window: the newest records' frames, in seq order.
 *
 * Holds at most max_records frames and max_bytes bytes; appending evicts the
 * oldest. Frames are stored exactly as built (see record.h), contiguous, so a
 * reader gets a pointer and no copy. Any seq in [first, next) is found in
 * O(1) through a circular offset index.
 *
 * Layout: live bytes are [tail, head) when not wrapped, or [tail, wrap_end)
 * followed by [0, head) when wrapped (head <= tail). A frame never straddles
 * the end of the buffer: when it does not fit before the end, writing
 * restarts at 0 and the space after wrap_end is unused.
 *
 * Invariants:
 *   1. next_seq - first_seq == count <= max_records.
 *   2. offs[s % max_records] is the offset of frame s for first <= s < next.
 *   3. frames are in seq order, oldest at tail.
 * Owned by the event loop thread; not thread-safe.
 */
#ifndef LOGSHIP_RING_H
#define LOGSHIP_RING_H

#include <stdint.h>

#include "../common/record.h"

typedef struct ring {
    char *mem;
    size_t size; /* bytes */
    size_t head, tail, wrap_end;
    int wrapped;
    size_t *offs;
    size_t max_records;
    uint64_t first_seq, next_seq;
    size_t bytes; /* live frame bytes */
} ring_t;

/* Returns 0, or -1 when memory cannot be had. */
int ring_init(ring_t *r, size_t max_records, size_t max_bytes);
void ring_free(ring_t *r);
/* Empties the ring; the next appended frame must have seq next. */
void ring_reset(ring_t *r, uint64_t next);

/* Copies one frame (its seq must be next_seq) in, evicting as needed. A
 * frame larger than the whole ring is not kept (the ring is emptied). */
void ring_push(ring_t *r, const char *frame, size_t n);

/* Frame of seq s, or NULL when s is outside the window. */
const char *ring_get(const ring_t *r, uint64_t s);

static inline size_t ring_count(const ring_t *r)
{
    return (size_t)(r->next_seq - r->first_seq);
}

#endif
