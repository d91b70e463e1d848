/* dedup.h - the RabbitMQ input's window of message keys already taken, so
 * that a message delivered again (a redelivery after a consumer or broker
 * went away, or the output publishing again what was in flight) is acked
 * without being stored twice.
 *
 * A key is a record's identity as inbody.h gives it ("NODE:SEQ" of a
 * record another logshipd published, or a foreign message's message_id).
 * The window keeps the 128-bit XXH3 hash of the newest `cap` keys, oldest
 * forgotten first: a ring of hashes in the order they came, and an open
 * addressing table (linear probing, at most half full) of ring positions,
 * each with 32 bits of its hash (which hold its home slot), so that a probe
 * reads the ring only for a likely match and moving entries reads it not
 * at all: a cache miss or two per key, not one per probe.
 * Two different keys share a hash with a probability of about
 * cap^2 / 2^129 (1e-27 for a million keys): not a concern.
 *
 * Memory: 16 bytes per key in the ring and 16 per key in the table, taken
 * once at init (32 MiB for a million keys). No allocation afterwards; every
 * operation is O(1) expected. Pure: no I/O, one thread (the input's).
 */
#ifndef LOGSHIP_AMQP_DEDUP_H
#define LOGSHIP_AMQP_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#define DEDUP_MAX (16u << 20) /* keys, at most */

typedef struct dedup_hash {
    uint64_t lo, hi; /* both 0: a ring slot whose key was taken back */
} dedup_hash_t;

typedef struct dedup {
    size_t cap;         /* keys kept; 0: the window is off */
    dedup_hash_t *ring; /* cap entries: the keys in the order they came */
    size_t head, count; /* ring[head] is the oldest of count entries */
    uint64_t *table;    /* tmask + 1 slots: ring index + 1 (low 32 bits; 0:
                         * empty) and the low 32 bits of hash.lo */
    size_t tmask;
    size_t live; /* keys in the table */
} dedup_t;

/* The hash of a key. */
dedup_hash_t dedup_hash(const char *key, size_t n);

/* cap keys (at most DEDUP_MAX; 0: nothing is ever a duplicate). */
void dedup_init(dedup_t *d, size_t cap);
void dedup_free(dedup_t *d);
/* 1 when h is in the window. */
int dedup_has(const dedup_t *d, dedup_hash_t h);
/* Adds h (as the newest; the oldest is forgotten when full). Returns 1
 * when added, 0 when it was there already (nothing changes). */
int dedup_add(dedup_t *d, dedup_hash_t h);
/* Takes h out again (its message was not stored after all). Returns 1
 * when it was there. */
int dedup_remove(dedup_t *d, dedup_hash_t h);

#endif
