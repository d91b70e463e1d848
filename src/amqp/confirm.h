/* confirm.h - the publisher's window of messages the broker has not yet
 * confirmed, and the seq up to which every record is confirmed.
 *
 * DESIGN
 *
 * The AMQP output (amqp_out.h) is a cursor over the store. It reads the
 * records after `published` in chunks; each message it publishes on a
 * channel in confirm mode gets the next delivery tag (1, 2, ... per
 * channel) and holds records of one topic, the oldest being `first`. The
 * broker answers with basic.ack for a tag, or for every tag up to it
 * (multiple), in any order.
 *
 *   entries   ring of {first, acked}, oldest first; entry i has tag
 *             base_tag + i
 *   published once a chunk is read: every seq <= published is in an entry,
 *             or needs no message (no --amqp-out-topic matched)
 *   confirmed every seq <= confirmed is confirmed by the broker or needs
 *             no message: what the output persists and resumes after
 *
 * Invariants:
 *   1. Entries are pushed in order of their first record: first strictly
 *      increases from entry to entry, and is above published when pushed
 *      (a chunk's messages, pushed before the chunk ends).
 *   2. confirmed only moves forward: it is published while no entry is
 *      left, else the first of the oldest entry not yet acked, less one.
 *      So a record is counted confirmed only when every message holding a
 *      record at or below it is acked.
 *   3. A tag is acked at most once: an ack for a tag never sent or already
 *      dropped, or a single ack of one already acked, is refused (a broker
 *      or protocol error).
 * Pure: no I/O, one thread (the publisher's).
 */
#ifndef LOGSHIP_AMQP_CONFIRM_H
#define LOGSHIP_AMQP_CONFIRM_H

#include <stddef.h>
#include <stdint.h>

typedef struct confirm_entry {
    uint64_t first;
    int acked;
} confirm_entry_t;

typedef struct confirm {
    confirm_entry_t *v;
    size_t cap, head, n;
    uint64_t base_tag; /* the tag of the oldest entry (or of the next one when none) */
    uint64_t published, confirmed;
} confirm_t;

/* A window of at most cap messages, everything up to confirmed already
 * confirmed. Allocates the ring. */
void confirm_init(confirm_t *w, size_t cap, uint64_t confirmed);
void confirm_free(confirm_t *w);
/* A new channel: the entries are dropped (their records will be published
 * again from confirmed on: published goes back to it), tags start at 1. */
void confirm_reset(confirm_t *w);

static inline size_t confirm_room(const confirm_t *w)
{
    return w->cap - w->n;
}
static inline size_t confirm_inflight(const confirm_t *w)
{
    return w->n;
}

/* A message published whose oldest record is first: returns its delivery
 * tag. The window must have room. */
uint64_t confirm_push(confirm_t *w, uint64_t first);
/* A chunk was read up to seq (>= published): its records are all in
 * entries or need no message. */
void confirm_scanned(confirm_t *w, uint64_t seq);
/* basic.ack for tag (and every earlier one when multiple). Returns the
 * number of messages it newly acked, or -1 when invariant 3 refuses it
 * (nothing changes then). */
long confirm_ack(confirm_t *w, uint64_t tag, int multiple);

#endif
