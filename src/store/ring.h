/* ring.h - the memory window: the newest records' frames, oldest first.
 *
 * Holds at most max_records frames and max_bytes bytes; pushing evicts the
 * oldest. Frames are kept exactly as stored (record.h), contiguous, so a
 * reader gets a pointer and no copy. Seqs increase but may have gaps (seqs
 * of a failed write are never reused), so frames are found by position or
 * by a binary search on seq.
 *
 * Layout: live bytes are [tail, head) when not wrapped, or [tail, wrap_end)
 * followed by [0, head) when wrapped (head <= tail). A frame never straddles
 * the end of the buffer: when it does not fit before the end, writing
 * restarts at 0 and the space after wrap_end is unused. Writing wraps at
 * `limit`, which starts at RING_START_BYTES and doubles (up to the full
 * size) only while the record count, not the bytes, has room left (a push
 * that evicts the oldest because the count is full never grows it): so the
 * memory touched follows what the newest max_records need, instead of
 * faulting in every page of a large buffer once.
 *
 * Invariants:
 *   1. count <= max_records and bytes <= max_bytes.
 *   2. slots[(first + i) % max_records] is the i-th oldest frame; seqs
 *      strictly increase with i.
 *   3. frames sit in the buffer in the same order, oldest at tail.
 * Owned by the event loop thread; not thread-safe.
 */
#ifndef LOGSHIP_RING_H
#define LOGSHIP_RING_H

#include <stdint.h>

#include "../common/record.h"

typedef struct ring_slot {
    uint64_t seq;
    uint32_t off;
    uint32_t len; /* kept here so eviction never touches cold frame memory */
} ring_slot_t;

#define RING_START_BYTES (16u << 20)

typedef struct ring {
    char *mem;
    size_t size;  /* bytes allocated */
    size_t limit; /* bytes in use before wrapping: grows toward size */
    size_t head, tail, wrap_end;
    int wrapped;
    ring_slot_t *slots;
    size_t max_records, first, count;
    size_t bytes; /* live frame bytes */
} ring_t;

/* Returns 0, or -1 when memory cannot be had. */
int ring_init(ring_t *r, size_t max_records, size_t max_bytes);
void ring_free(ring_t *r);
void ring_clear(ring_t *r);

/* Copies one sealed frame in (its seq above every seq held), evicting the
 * oldest as needed. A frame larger than the whole ring empties it. */
void ring_push(ring_t *r, const char *frame, size_t n);

static inline size_t ring_count(const ring_t *r)
{
    return r->count;
}
/* The i-th oldest frame, 0 <= i < count. */
static inline const char *ring_at(const ring_t *r, size_t i)
{
    return r->mem + r->slots[(r->first + i) % r->max_records].off;
}
static inline uint64_t ring_seq_at(const ring_t *r, size_t i)
{
    return r->slots[(r->first + i) % r->max_records].seq;
}
/* Seq of the oldest and newest frame held; 0 when empty. */
uint64_t ring_first_seq(const ring_t *r);
uint64_t ring_last_seq(const ring_t *r);
/* Position of the first frame with seq >= seq (count when none). */
size_t ring_lower_bound(const ring_t *r, uint64_t seq);
/* The frame of exactly seq, or NULL. */
const char *ring_get(const ring_t *r, uint64_t seq);

#endif
