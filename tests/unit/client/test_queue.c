/* test_queue.c - liblogship's MPSC record queue (src/client/queue.c):
 * order, wrap-around, fullness, slow producers, eviction, blocking, and
 * many producers against one consumer. Also built with -fsanitize=thread
 * (cmake/client.cmake: unit_client_tsan). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "client/queue.h"

/* A test record: producer id, sequence number, then filler up to len. */
typedef struct trec {
    uint32_t who;
    uint32_t len;
    uint64_t seq;
} trec_t;

static size_t rec_size(size_t len)
{
    return queue_slot_size(sizeof(trec_t) + len);
}

static int put(queue_t *q, uint32_t who, uint64_t seq, size_t len)
{
    size_t size = rec_size(len);
    char *p = queue_reserve(q, size);
    if (!p)
        return -1;
    trec_t t = {who, (uint32_t)len, seq};
    memcpy(p, &t, sizeof t);
    memset(p + sizeof t, (int)(seq & 0xFF), len);
    queue_commit(p, size);
    return 0;
}

/* Reads the slots in out[0..n) into recs and checks each body's filler.
 * Returns the count, or (size_t)-1 for a damaged slot (threads must not
 * fail a cmocka assertion themselves). */
static size_t parse_quiet(const char *out, size_t n, trec_t *recs, size_t max)
{
    size_t k = 0;
    for (size_t off = 0; off < n;) {
        uint32_t size;
        memcpy(&size, out + off, 4);
        if (size < QUEUE_SLOT_HDR + sizeof(trec_t) || size % 8 || k == max)
            return (size_t)-1;
        trec_t t;
        memcpy(&t, out + off + QUEUE_SLOT_HDR, sizeof t);
        const unsigned char *f = (const unsigned char *)out + off + QUEUE_SLOT_HDR + sizeof t;
        for (size_t i = 0; i < t.len; i++)
            if (f[i] != (unsigned char)(t.seq & 0xFF))
                return (size_t)-1;
        recs[k++] = t;
        off += size;
    }
    return k;
}

static size_t parse(const char *out, size_t n, trec_t *recs, size_t max)
{
    size_t k = parse_quiet(out, n, recs, max);
    assert_true(k != (size_t)-1);
    return k;
}

static char out[1 << 20];

static void test_round_trip(void **state)
{
    queue_t q;
    assert_int_equal(queue_init(&q, 1), 0);
    assert_int_equal(q.cap, QUEUE_MIN); /* at least the minimum */
    for (uint64_t i = 0; i < 10; i++)
        assert_int_equal(put(&q, 1, i, i * 3), 0);
    uint64_t start, end;
    size_t n = queue_take(&q, out, sizeof out, SIZE_MAX, UINT64_MAX, &start, &end);
    trec_t recs[16];
    assert_int_equal(parse(out, n, recs, 16), 10);
    for (uint64_t i = 0; i < 10; i++)
        assert_int_equal(recs[i].seq, i);
    assert_int_equal(start, 0);
    assert_int_equal(end, atomic_load(&q.head));
    assert_int_equal(queue_used(&q), 0);
    /* nothing more */
    assert_int_equal(queue_take(&q, out, sizeof out, SIZE_MAX, UINT64_MAX, &start, &end), 0);
    assert_int_equal(start, end);
    queue_free(&q);
}

/* Many laps with sizes that do not divide the capacity: PAD slots. */
static void test_wrap(void **state)
{
    queue_t q;
    assert_int_equal(queue_init(&q, QUEUE_MIN + 8), 0);
    assert_int_equal(q.cap, QUEUE_MIN + 8); /* not a power of two */
    uint64_t next = 0, expect = 0;
    trec_t recs[4096];
    for (int round = 0; round < 2000; round++) {
        for (int i = 0; i < 7; i++, next++)
            assert_int_equal(put(&q, 0, next, (next * 37) % 900), 0);
        uint64_t s, e;
        size_t n = queue_take(&q, out, sizeof out, SIZE_MAX, UINT64_MAX, &s, &e);
        size_t k = parse(out, n, recs, 4096);
        for (size_t i = 0; i < k; i++)
            assert_int_equal(recs[i].seq, expect++);
    }
    assert_int_equal(expect, next);
    assert_true(atomic_load(&q.head) > 10 * q.cap);
    queue_free(&q);
}

static void test_full(void **state)
{
    queue_t q;
    assert_int_equal(queue_init(&q, QUEUE_MIN), 0);
    size_t size = rec_size(100);
    uint64_t n = 0;
    while (put(&q, 0, n, 100) == 0)
        n++;
    assert_int_equal(n, q.cap / size);
    assert_true(queue_used(&q) + size > q.cap);
    /* taking a part makes room for exactly that much */
    uint64_t s, e;
    size_t got = queue_take(&q, out, 10 * size, SIZE_MAX, UINT64_MAX, &s, &e);
    assert_int_equal(got, 10 * size);
    for (int i = 0; i < 10; i++)
        assert_int_equal(put(&q, 0, n++, 100), 0);
    assert_int_equal(put(&q, 0, n, 100), -1);
    queue_free(&q);
}

/* A slot reserved and not committed holds back the ones after it
 * (invariant 3), and the consumer never skips it. */
static void test_slow_producer(void **state)
{
    queue_t q;
    assert_int_equal(queue_init(&q, QUEUE_MIN), 0);
    assert_int_equal(put(&q, 0, 0, 8), 0);
    size_t size = rec_size(8);
    char *slow = queue_reserve(&q, size);
    assert_non_null(slow);
    assert_int_equal(put(&q, 0, 2, 8), 0);
    uint64_t s, e;
    trec_t recs[4];
    size_t n = queue_take(&q, out, sizeof out, SIZE_MAX, UINT64_MAX, &s, &e);
    assert_int_equal(parse(out, n, recs, 4), 1);
    assert_int_equal(recs[0].seq, 0);
    assert_int_equal(queue_take(&q, out, sizeof out, SIZE_MAX, UINT64_MAX, &s, &e), 0);
    trec_t t = {0, 8, 1};
    memcpy(slow, &t, sizeof t);
    memset(slow + sizeof t, 1, 8);
    queue_commit(slow, size);
    n = queue_take(&q, out, sizeof out, SIZE_MAX, UINT64_MAX, &s, &e);
    assert_int_equal(parse(out, n, recs, 4), 2);
    assert_int_equal(recs[0].seq, 1);
    assert_int_equal(recs[1].seq, 2);
    queue_free(&q);
}

static void test_peek_and_upto(void **state)
{
    queue_t q;
    assert_int_equal(queue_init(&q, QUEUE_MIN), 0);
    for (uint64_t i = 0; i < 5; i++)
        assert_int_equal(put(&q, 0, i, 16), 0);
    uint64_t end, s, e;
    trec_t recs[8];
    size_t n = queue_peek(&q, 0, out, sizeof out, &end);
    assert_int_equal(parse(out, n, recs, 8), 5);
    assert_int_equal(queue_used(&q), end); /* peek frees nothing */
    /* take stops at upto, a slot boundary */
    uint64_t mid = 2 * rec_size(16);
    n = queue_take(&q, out, sizeof out, SIZE_MAX, mid, &s, &e);
    assert_int_equal(parse(out, n, recs, 8), 2);
    assert_int_equal(e, mid);
    /* and at max_slots records */
    n = queue_take(&q, out, sizeof out, 1, UINT64_MAX, &s, &e);
    assert_int_equal(parse(out, n, recs, 8), 1);
    assert_int_equal(recs[0].seq, 2);
    /* peek from before the tail starts at the tail */
    n = queue_peek(&q, 0, out, sizeof out, &end);
    assert_int_equal(parse(out, n, recs, 8), 2);
    assert_int_equal(recs[0].seq, 3);
    queue_free(&q);
}

static void test_evict(void **state)
{
    queue_t q;
    assert_int_equal(queue_init(&q, QUEUE_MIN), 0);
    uint64_t n = 0;
    while (put(&q, 0, n, 200) == 0)
        n++;
    /* a bigger record needs several of the oldest to go */
    size_t big = rec_size(1000);
    int d = queue_evict(&q, big);
    assert_true(d >= 1 && d <= 6);
    char *p = queue_reserve(&q, big);
    assert_non_null(p);
    trec_t t = {0, 1000, n};
    memcpy(p, &t, sizeof t);
    memset(p + sizeof t, (int)(n & 0xFF), 1000);
    queue_commit(p, big);
    uint64_t s, e;
    trec_t recs[1024];
    size_t k =
        parse(out, queue_take(&q, out, sizeof out, SIZE_MAX, UINT64_MAX, &s, &e), recs, 1024);
    assert_int_equal(k, n - (uint64_t)d + 1);
    assert_int_equal(recs[0].seq, (uint64_t)d); /* the oldest went */
    assert_int_equal(recs[k - 1].seq, n);
    /* an uncommitted oldest slot can not be evicted */
    while (queue_reserve(&q, rec_size(200)))
        ;
    assert_int_equal(queue_evict(&q, rec_size(200)), -1);
    queue_free(&q);
}

/* ---- threads ----------------------------------------------------------- */

#define PRODUCERS    4
#define PER_PRODUCER 200000

typedef struct stress {
    queue_t q;
    int evict; /* producers evict when full instead of retrying */
    _Atomic int producers_done;
    _Atomic uint64_t evicted;
    uint64_t got[PRODUCERS];
    uint64_t last[PRODUCERS];
    int errors; /* out of order, lost or damaged: set by the consumer */
} stress_t;

typedef struct producer_arg {
    stress_t *st;
    uint32_t who;
} producer_arg_t;

static void *producer(void *arg)
{
    producer_arg_t *a = arg;
    stress_t *st = a->st;
    for (uint64_t i = 1; i <= PER_PRODUCER; i++) {
        size_t len = (i * 7 + a->who * 13) % 300;
        while (put(&st->q, a->who, i, len) != 0) {
            if (st->evict) {
                int d = queue_evict(&st->q, rec_size(len));
                if (d > 0)
                    atomic_fetch_add(&st->evicted, (uint64_t)d);
            } else {
                sched_yield();
            }
        }
    }
    atomic_fetch_add(&st->producers_done, 1);
    return NULL;
}

static void *consumer(void *arg)
{
    stress_t *st = arg;
    static trec_t recs[1 << 16];
    for (;;) {
        int done = atomic_load(&st->producers_done) == PRODUCERS;
        uint64_t s, e;
        size_t n = queue_take(&st->q, out, sizeof out, SIZE_MAX, UINT64_MAX, &s, &e);
        size_t k = parse_quiet(out, n, recs, 1 << 16);
        if (k == (size_t)-1) {
            st->errors++;
            return NULL;
        }
        for (size_t i = 0; i < k; i++) {
            uint32_t w = recs[i].who;
            /* per producer, in order; without eviction also without gaps */
            if (w >= PRODUCERS ||
                (st->evict ? recs[i].seq <= st->last[w] : recs[i].seq != st->last[w] + 1)) {
                st->errors++;
                return NULL;
            }
            st->last[w] = recs[i].seq;
            st->got[w]++;
        }
        if (done && n == 0 && queue_used(&st->q) == 0)
            return NULL;
        if (n == 0)
            sched_yield();
    }
}

static void run_stress(int evict)
{
    static stress_t st;
    memset(&st, 0, sizeof st);
    st.evict = evict;
    assert_int_equal(queue_init(&st.q, QUEUE_MIN), 0);
    pthread_t p[PRODUCERS], c;
    producer_arg_t args[PRODUCERS];
    pthread_create(&c, NULL, consumer, &st);
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        args[i] = (producer_arg_t){&st, i};
        pthread_create(&p[i], NULL, producer, &args[i]);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(p[i], NULL);
    pthread_join(c, NULL);
    assert_int_equal(st.errors, 0);
    uint64_t total = 0;
    for (int i = 0; i < PRODUCERS; i++) {
        if (!evict) {
            assert_int_equal(st.got[i], PER_PRODUCER);
            assert_int_equal(st.last[i], PER_PRODUCER);
        }
        total += st.got[i];
    }
    assert_int_equal(total + atomic_load(&st.evicted), (uint64_t)PRODUCERS * PER_PRODUCER);
    queue_free(&st.q);
}

static void test_many_producers(void **state)
{
    run_stress(0);
}

static void test_many_producers_evicting(void **state)
{
    run_stress(1);
}

typedef struct waiter_arg {
    queue_t *q;
    int rc;
    _Atomic int woke;
} waiter_arg_t;

static void wake_count(void *arg)
{
    atomic_fetch_add(&((waiter_arg_t *)arg)->woke, 1);
}

static void *waiter(void *arg)
{
    waiter_arg_t *w = arg;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t deadline = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + 30 * 1000000000LL;
    w->rc = queue_wait_room(w->q, rec_size(100), deadline, wake_count, w);
    return NULL;
}

static void test_wait_room(void **state)
{
    queue_t q;
    assert_int_equal(queue_init(&q, QUEUE_MIN), 0);
    uint64_t n = 0;
    while (put(&q, 0, n, 100) == 0)
        n++;
    /* a deadline in the past: no room, at once */
    assert_int_equal(queue_wait_room(&q, rec_size(100), 0, NULL, NULL), -1);
    waiter_arg_t w = {&q, 99, 0};
    pthread_t th;
    pthread_create(&th, NULL, waiter, &w);
    while (atomic_load(&w.woke) == 0) /* it asked the consumer to hurry */
        sched_yield();
    uint64_t s, e;
    queue_take(&q, out, sizeof out, SIZE_MAX, UINT64_MAX, &s, &e);
    pthread_join(th, NULL);
    assert_int_equal(w.rc, 0);
    assert_int_equal(put(&q, 0, n, 100), 0);
    queue_free(&q);
}

static void test_reset(void **state)
{
    queue_t q;
    assert_int_equal(queue_init(&q, QUEUE_MIN), 0);
    assert_int_equal(put(&q, 0, 0, 10), 0);
    assert_non_null(queue_reserve(&q, rec_size(10))); /* never committed */
    assert_int_equal(queue_reset(&q), 0);
    assert_int_equal(queue_used(&q), 0);
    assert_int_equal(put(&q, 0, 7, 10), 0);
    uint64_t s, e;
    trec_t recs[4];
    assert_int_equal(
        parse(out, queue_take(&q, out, sizeof out, SIZE_MAX, UINT64_MAX, &s, &e), recs, 4), 1);
    assert_int_equal(recs[0].seq, 7);
    queue_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_full),           cmocka_unit_test(test_slow_producer),
        cmocka_unit_test(test_peek_and_upto),  cmocka_unit_test(test_evict),
        cmocka_unit_test(test_many_producers), cmocka_unit_test(test_many_producers_evicting),
        cmocka_unit_test(test_wait_room),      cmocka_unit_test(test_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
