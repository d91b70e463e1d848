/* queue.c - the consumer and slow paths of the record queue: see queue.h. */
#include "queue.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/* The ring is mapped and pre-faulted, so a log call never takes a page
 * fault on it (and it comes zeroed: invariant 2). */
static char *ring_map(size_t cap)
{
    void *p =
        mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int queue_init(queue_t *q, size_t cap)
{
    memset(q, 0, sizeof *q);
    if (cap < QUEUE_MIN)
        cap = QUEUE_MIN;
    cap &= ~(size_t)7;
    q->buf = ring_map(cap);
    if (!q->buf)
        return -1;
    q->cap = cap;
    atomic_init(&q->head, 0);
    atomic_init(&q->tail, 0);
    atomic_init(&q->waiters, 0);
    queue_init_locks(q);
    return 0;
}

void queue_init_locks(queue_t *q)
{
    pthread_mutex_init(&q->tail_mu, NULL);
    pthread_mutex_init(&q->space_mu, NULL);
    cond_init_mono(&q->space_cv);
}

void queue_free(queue_t *q)
{
    if (!q->buf)
        return;
    munmap(q->buf, q->cap);
    q->buf = NULL;
    pthread_mutex_destroy(&q->tail_mu);
    pthread_mutex_destroy(&q->space_mu);
    pthread_cond_destroy(&q->space_cv);
}

int queue_reset(queue_t *q)
{
    char *nb = ring_map(q->cap);
    if (!nb)
        return -1;
    munmap(q->buf, q->cap);
    q->buf = nb;
    atomic_store(&q->head, 0);
    atomic_store(&q->tail, 0);
    atomic_store(&q->waiters, 0);
    return 0;
}

static inline qslot_t *slot_at(const queue_t *q, uint64_t pos)
{
    return (qslot_t *)(void *)(q->buf + pos % q->cap);
}

/* Zeroes [from, to) of the ring (invariant 2) and moves the tail there.
 * Caller holds tail_mu. */
static void release(queue_t *q, uint64_t from, uint64_t to)
{
    if (to == from)
        return;
    size_t off = (size_t)(from % q->cap), n = (size_t)(to - from);
    size_t first = n < q->cap - off ? n : q->cap - off;
    memset(q->buf + off, 0, first);
    if (n > first)
        memset(q->buf, 0, n - first);
    atomic_store_explicit(&q->tail, to, memory_order_release);
}

/* Wakes producers waiting for room (LOGSHIP_BLOCK). The seq_cst load pairs
 * with the waiter's seq_cst increment: either it sees the new tail or this
 * sees it waiting. */
static void wake_waiters(queue_t *q)
{
    if (atomic_load(&q->waiters) > 0) {
        pthread_mutex_lock(&q->space_mu);
        pthread_cond_broadcast(&q->space_cv);
        pthread_mutex_unlock(&q->space_mu);
    }
}

/* Copies committed slots from pos on into out; returns bytes copied and
 * sets *end. Caller holds tail_mu. */
static size_t copy_from(queue_t *q, uint64_t pos, char *out, size_t max, size_t max_slots,
                        uint64_t upto, uint64_t *end)
{
    size_t slots = 0;
    uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    size_t n = 0;
    if (upto < head)
        head = upto;
    while (pos < head) {
        qslot_t *s = slot_at(q, pos);
        uint32_t size = atomic_load_explicit(&s->size, memory_order_acquire);
        if (size == 0)
            break; /* reserved, not committed yet (invariant 3) */
        if (s->kind == QSLOT_REC) {
            if (n + size > max || slots++ == max_slots)
                break;
            memcpy(out + n, s, size);
            n += size;
        }
        pos += size;
    }
    *end = pos;
    return n;
}

size_t queue_take(queue_t *q, char *out, size_t max, size_t max_slots, uint64_t upto,
                  uint64_t *start, uint64_t *end)
{
    pthread_mutex_lock(&q->tail_mu);
    uint64_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    size_t n = copy_from(q, t, out, max, max_slots, upto, end);
    *start = t;
    release(q, t, *end);
    pthread_mutex_unlock(&q->tail_mu);
    if (*end != t)
        wake_waiters(q);
    return n;
}

size_t queue_peek(queue_t *q, uint64_t from, char *out, size_t max, uint64_t *end)
{
    pthread_mutex_lock(&q->tail_mu);
    uint64_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    size_t n = copy_from(q, from > t ? from : t, out, max, SIZE_MAX, UINT64_MAX, end);
    pthread_mutex_unlock(&q->tail_mu);
    return n;
}

int queue_evict(queue_t *q, size_t size)
{
    int dropped = 0;
    pthread_mutex_lock(&q->tail_mu);
    uint64_t t = atomic_load_explicit(&q->tail, memory_order_relaxed), t0 = t;
    for (;;) {
        uint64_t h = atomic_load_explicit(&q->head, memory_order_acquire);
        size_t off = (size_t)(h % q->cap);
        size_t pad = off + size > q->cap ? q->cap - off : 0;
        if (h + pad + size - t <= q->cap || t == h)
            break;
        qslot_t *s = slot_at(q, t);
        uint32_t sz = atomic_load_explicit(&s->size, memory_order_acquire);
        if (sz == 0) {
            if (dropped == 0)
                dropped = -1;
            break;
        }
        if (s->kind == QSLOT_REC)
            dropped++;
        t += sz;
    }
    release(q, t0, t);
    pthread_mutex_unlock(&q->tail_mu);
    return dropped;
}

int queue_wait_room(queue_t *q, size_t size, int64_t deadline, void (*wake)(void *), void *arg)
{
    int rc = 0;
    pthread_mutex_lock(&q->space_mu);
    atomic_fetch_add(&q->waiters, 1);
    for (;;) {
        uint64_t h = atomic_load(&q->head), t = atomic_load(&q->tail);
        size_t off = (size_t)(h % q->cap);
        size_t pad = off + size > q->cap ? q->cap - off : 0;
        if (h + pad + size - t <= q->cap)
            break;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
        if (now_ns >= deadline) {
            rc = -1;
            break;
        }
        if (wake)
            wake(arg);
        /* short slices: a missed wake-up costs at most one slice */
        int64_t until = deadline - now_ns > 20000000 ? now_ns + 20000000 : deadline;
        struct timespec ts = {(time_t)(until / 1000000000), (long)(until % 1000000000)};
        pthread_cond_timedwait(&q->space_cv, &q->space_mu, &ts);
    }
    atomic_fetch_sub(&q->waiters, 1);
    pthread_mutex_unlock(&q->space_mu);
    return rc;
}
