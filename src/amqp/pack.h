/* pack.h - packing stored records into AMQP messages for the output.
 *
 * With --amqp-batch 1 a message is one record's JSON, exactly as /api/logs
 * returns it. With --amqp-batch N > 1 it is up to N records as NDJSON (one
 * JSON object and a newline each). A message is published with routing key
 * = topic, so the records of one message share a topic: a pack keeps up to
 * PACK_OPEN_MAX messages open, one per topic, in the order they were opened.
 *
 * Messages leave the pack only from the oldest end, so they are published
 * in the order of their first record (what confirm.h invariant 1 needs):
 *   - a message that reaches N records makes it and every older one ready;
 *   - a record of a topic with no open message, when PACK_OPEN_MAX are
 *     open, makes the oldest ready first (pack_make_room);
 *   - pack_flush() makes every open one ready (a chunk of the store ends).
 * Memory: PACK_OPEN_MAX bodies, reused from message to message.
 * Pure: no I/O, one thread (the publisher's).
 */
#ifndef LOGSHIP_AMQP_PACK_H
#define LOGSHIP_AMQP_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "../common/record.h"

#define PACK_OPEN_MAX 16

typedef struct pack_msg {
    buf_t body;
    char topic[RECORD_NAME_MAX];
    size_t topic_len;
    uint64_t first, last; /* seqs of its oldest and newest record */
    int64_t first_ts;
    size_t count;
    int ready;
} pack_msg_t;

typedef struct pack {
    size_t batch;
    pack_msg_t msgs[PACK_OPEN_MAX];
    size_t fifo[PACK_OPEN_MAX]; /* open messages, oldest first: indexes into msgs */
    size_t head, n;
} pack_t;

/* batch: records per message at most (1: JSON, more: NDJSON). */
void pack_init(pack_t *p, size_t batch);
void pack_free(pack_t *p);
/* Drops every open message (a new channel starts from the cursor again). */
void pack_reset(pack_t *p);

/* Messages open, ready or not: each needs a slot in the confirm window. */
static inline size_t pack_open(const pack_t *p)
{
    return p->n;
}
/* 1 when a record of this topic would open a message. */
int pack_needs_new(const pack_t *p, slice_t topic);
/* Before adding a record of this topic: when it would open a message and
 * PACK_OPEN_MAX are open, makes the oldest ready (to be published first). */
void pack_make_room(pack_t *p, slice_t topic);
/* Adds r (its topic, seq, time and JSON) to its topic's message. Returns
 * 0, or -1 when it needs a new message and PACK_OPEN_MAX are still open
 * (pack_make_room, then publish what is ready). */
int pack_add(pack_t *p, const record_t *r);
/* Makes every open message ready. */
void pack_flush(pack_t *p);
/* The oldest message when it is ready to publish, else NULL. */
pack_msg_t *pack_next(pack_t *p);
/* The message pack_next() returned was published: frees its slot. */
void pack_pop(pack_t *p);

/* The message's id: "NODE:SEQ" for one record, "NODE:FIRST-LAST" for more.
 * Returns its length (cut to cap - 1). */
size_t pack_msg_id(const pack_msg_t *m, const char *node, char *out, size_t cap);

#endif
