/* queue.h - liblogship's bounded multi-producer, single-consumer record queue.
 *
 * Design
 * ------
 * One byte ring of cap bytes (cap a multiple of 8) and two 64-bit positions
 * that only grow: head (the next byte to reserve; producers move it with a
 * compare-and-swap) and tail (the oldest byte still held; the consumer moves
 * it, and so do producers that evict under LOGSHIP_DROP_OLDEST). The byte of
 * position p is buf[p % cap]. A slot is an 8-byte header {size, kind}
 * followed by its body, padded to 8 bytes; a slot never wraps: a
 * reservation that would cross the end is preceded by a PAD slot that fills
 * the end, reserved by the same compare-and-swap.
 *
 * A producer: loads head and tail, checks room, CASes head forward, writes
 * the body, then publishes the slot by storing its size with release order.
 * No lock, no system call, no allocation. The consumer: under tail_mu,
 * copies committed slots from tail on (loading size with acquire order) up
 * to the first one not yet committed, zeroes the bytes it took, and stores
 * the new tail with release order.
 *
 * Invariants
 *  1. tail <= head, head - tail <= cap.
 *  2. Every byte in [head, tail + cap) is zero: free space is zeroed before
 *     tail passes it, so a zero size word means "reserved, not committed"
 *     wherever a slot may start.
 *  3. Slots are published in any order but taken in position order: a slow
 *     producer holds back the slots after its own (never skipped: order).
 *  4. tail_mu is held only while copying and zeroing memory, never across
 *     I/O; producers take it only to evict (DROP_OLDEST) when full.
 *  5. Slot sizes and positions are multiples of 8.
 */
#ifndef LOGSHIP_CLIENT_QUEUE_H
#define LOGSHIP_CLIENT_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define QUEUE_SLOT_HDR 8u
#define QUEUE_MIN      (64u * 1024)

enum { QSLOT_PAD = 1, QSLOT_REC = 2 };

/* The header of a slot, at an 8-aligned address in the ring. */
typedef struct qslot {
    _Atomic uint32_t size; /* whole slot, header included; 0: not committed */
    uint32_t kind;         /* QSLOT_PAD or QSLOT_REC */
} qslot_t;

typedef struct queue {
    char *buf;
    size_t cap;
    _Alignas(64) _Atomic uint64_t head;
    _Alignas(64) _Atomic uint64_t tail;
    _Alignas(64) pthread_mutex_t tail_mu;
    /* LOGSHIP_BLOCK: producers waiting for room */
    pthread_mutex_t space_mu;
    pthread_cond_t space_cv;
    _Atomic int waiters;
} queue_t;

/* A condition variable timed against CLOCK_MONOTONIC (all of the client's
 * waits are). */
static inline void cond_init_mono(pthread_cond_t *c)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(c, &ca);
    pthread_condattr_destroy(&ca);
}

/* Allocates and pre-faults a ring of cap bytes (rounded down to 8, at least
 * QUEUE_MIN). Returns 0, or -1 (errno set). */
int queue_init(queue_t *q, size_t cap);
void queue_free(queue_t *q);
/* (Re)creates the queue's locks: queue_init, and a fork child. */
void queue_init_locks(queue_t *q);
/* Forgets all content (the child after fork: another thread may have been
 * between reserve and commit). Returns 0 or -1. */
int queue_reset(queue_t *q);

/* Slot size for a body of n bytes. */
static inline size_t queue_slot_size(size_t body)
{
    return (QUEUE_SLOT_HDR + body + 7) & ~(size_t)7;
}

/* Producer: reserves a slot of size bytes (queue_slot_size()). Returns a
 * pointer to its body (size - 8 bytes, 8-aligned), or NULL when the queue
 * has no room. Lock-free. */
static inline void *queue_reserve(queue_t *q, size_t size)
{
    uint64_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    size_t pad;
    for (;;) {
        uint64_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
        if (t > h) { /* h is stale: tail never passes head */
            h = atomic_load_explicit(&q->head, memory_order_relaxed);
            continue;
        }
        size_t off = (size_t)(h % q->cap);
        pad = off + size > q->cap ? q->cap - off : 0;
        if (h + pad + size - t > q->cap)
            return NULL;
        if (atomic_compare_exchange_weak_explicit(&q->head, &h, h + pad + size,
                                                  memory_order_relaxed, memory_order_relaxed))
            break;
    }
    if (pad) {
        qslot_t *p = (qslot_t *)(void *)(q->buf + h % q->cap);
        p->kind = QSLOT_PAD;
        atomic_store_explicit(&p->size, (uint32_t)pad, memory_order_release);
        h += pad;
    }
    qslot_t *s = (qslot_t *)(void *)(q->buf + h % q->cap);
    s->kind = QSLOT_REC;
    return (char *)s + QUEUE_SLOT_HDR;
}

/* Producer: publishes the slot whose body queue_reserve() returned. */
static inline void queue_commit(void *body, size_t size)
{
    qslot_t *s = (qslot_t *)(void *)((char *)body - QUEUE_SLOT_HDR);
    atomic_store_explicit(&s->size, (uint32_t)size, memory_order_release);
}

/* Producer, DROP_OLDEST: evicts committed slots from the tail until a slot
 * of size bytes would fit at the current head. Returns the number of
 * records evicted (>= 0), or -1 when the oldest slot is not committed yet
 * (nothing more can go). Takes tail_mu. */
int queue_evict(queue_t *q, size_t size);

/* Producer, BLOCK: waits until a slot of size bytes may fit or deadline
 * (CLOCK_MONOTONIC ns) passes; wake() is called (with arg) before each wait
 * so the consumer hurries. Returns 0 when there may be room, -1 on timeout. */
int queue_wait_room(queue_t *q, size_t size, int64_t deadline, void (*wake)(void *), void *arg);

/* Consumer: copies committed slots starting at the tail and before
 * position upto into out (PAD slots skipped), at most max bytes and
 * max_slots records, frees them, and wakes blocked producers. Sets *start
 * and *end to the positions taken. Returns the bytes copied. out must hold
 * the largest slot. */
size_t queue_take(queue_t *q, char *out, size_t max, size_t max_slots, uint64_t upto,
                  uint64_t *start, uint64_t *end);
/* Consumer: like queue_take() from position from (or the tail, when it is
 * later) without freeing anything: for the stderr echo. */
size_t queue_peek(queue_t *q, uint64_t from, char *out, size_t max, uint64_t *end);

/* Bytes in use (approximate while producers run). */
static inline size_t queue_used(queue_t *q)
{
    uint64_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    uint64_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    return h > t ? (size_t)(h - t) : 0;
}

#endif
