/* test_ring.c - the memory window of recent frames (src/store/ring.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/record.h"
#include "store/ring.h"

#define MSG_MAX 2048

/* The message of frame seq: msg_len bytes that depend on seq. */
static void fill_msg(char *msg, size_t len, uint64_t seq)
{
    for (size_t i = 0; i < len; i++)
        msg[i] = (char)(seq * 131 + i * 7);
}

/* Builds the frame of seq with a msg of msg_len bytes into out; returns its size. */
static size_t make_frame(char *out, uint64_t seq, size_t msg_len)
{
    char msg[MSG_MAX];
    record_t r;
    assert_true(msg_len <= MSG_MAX);
    fill_msg(msg, msg_len, seq);
    memset(&r, 0, sizeof r);
    r.ts = (int64_t)seq * 3;
    r.level = (int)(seq % 8);
    r.topic = SLICE_LIT("ring.test");
    r.app = SLICE_LIT("ring");
    r.msg = slice_make(msg, msg_len);
    record_encode(out, &r);
    wr64(out + 8, seq); /* the store sets seq on append */
    return record_frame_size(&r);
}

#define FRAME_SIZE(msg_len) (RECORD_HEAD + 9 + 4 + (msg_len))

/* Asserts the ring holds frame seq with a msg of msg_len bytes; returns its
 * size. full: compare every message byte. */
static size_t check_frame(const ring_t *r, uint64_t seq, size_t msg_len, int full)
{
    const char *p = ring_get(r, seq);
    assert_non_null(p);
    assert_true(p >= r->mem && p + RECORD_HEAD <= r->mem + r->size);
    record_t d;
    long n = record_decode(p, (size_t)(r->mem + r->size - p), &d);
    assert_int_equal(n, FRAME_SIZE(msg_len));
    assert_true(p + n <= r->mem + r->size);
    assert_int_equal(d.seq, seq);
    assert_int_equal(d.ts, (int64_t)seq * 3);
    assert_int_equal(d.level, (int)(seq % 8));
    assert_int_equal(d.msg.n, msg_len);
    if (msg_len) {
        char want[MSG_MAX];
        if (full) {
            fill_msg(want, msg_len, seq);
            assert_memory_equal(d.msg.p, want, msg_len);
        } else {
            fill_msg(want, 1, seq);
            assert_int_equal(d.msg.p[0], want[0]);
            assert_int_equal((unsigned char)d.msg.p[msg_len - 1],
                             (unsigned char)(seq * 131 + (msg_len - 1) * 7));
        }
    }
    return (size_t)n;
}

static void push(ring_t *r, uint64_t seq, size_t msg_len)
{
    char frame[RECORD_HEAD + 64 + MSG_MAX];
    size_t n = make_frame(frame, seq, msg_len);
    ring_push(r, frame, n);
}

static void test_empty(void **state)
{
    (void)state;
    ring_t r;
    assert_int_equal(ring_init(&r, 8, 4096), 0);
    assert_int_equal(ring_count(&r), 0);
    assert_int_equal(ring_first_seq(&r), 0);
    assert_int_equal(ring_last_seq(&r), 0);
    assert_int_equal(ring_lower_bound(&r, 0), 0);
    assert_int_equal(ring_lower_bound(&r, 5), 0);
    assert_null(ring_get(&r, 0));
    assert_null(ring_get(&r, 1));
    ring_free(&r);
    ring_free(&r); /* twice is fine */
}

static void test_push_get(void **state)
{
    (void)state;
    ring_t r;
    assert_int_equal(ring_init(&r, 8, 4096), 0);
    push(&r, 1, 10);
    push(&r, 2, 0);
    push(&r, 3, 100);
    assert_int_equal(ring_count(&r), 3);
    assert_int_equal(ring_first_seq(&r), 1);
    assert_int_equal(ring_last_seq(&r), 3);
    assert_int_equal(r.bytes, FRAME_SIZE(10) + FRAME_SIZE(0) + FRAME_SIZE(100));
    check_frame(&r, 1, 10, 1);
    check_frame(&r, 2, 0, 1);
    check_frame(&r, 3, 100, 1);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(ring_seq_at(&r, i), i + 1);
        assert_ptr_equal(ring_at(&r, i), ring_get(&r, i + 1));
    }
    assert_null(ring_get(&r, 0));
    assert_null(ring_get(&r, 4));
    assert_null(ring_get(&r, UINT64_MAX));
    /* frames are contiguous and in seq order, the first at offset 0 */
    assert_ptr_equal(ring_at(&r, 0), r.mem);
    assert_ptr_equal(ring_get(&r, 2), ring_get(&r, 1) + FRAME_SIZE(10));
    assert_ptr_equal(ring_get(&r, 3), ring_get(&r, 2) + FRAME_SIZE(0));
    ring_free(&r);
}

static void test_seq_gaps(void **state)
{
    (void)state;
    ring_t r;
    assert_int_equal(ring_init(&r, 8, 4096), 0);
    static const uint64_t seqs[] = {10, 11, 15, 20, 1000};
    for (size_t i = 0; i < 5; i++)
        push(&r, seqs[i], i * 3);
    for (size_t i = 0; i < 5; i++) {
        check_frame(&r, seqs[i], i * 3, 1);
        assert_int_equal(ring_seq_at(&r, i), seqs[i]);
        assert_int_equal(ring_lower_bound(&r, seqs[i]), i);
        assert_int_equal(ring_lower_bound(&r, seqs[i] + 1), i + 1);
    }
    assert_null(ring_get(&r, 9));
    assert_null(ring_get(&r, 12));
    assert_null(ring_get(&r, 999));
    assert_null(ring_get(&r, 1001));
    assert_int_equal(ring_lower_bound(&r, 0), 0);
    assert_int_equal(ring_lower_bound(&r, 12), 2);
    assert_int_equal(ring_lower_bound(&r, 16), 3);
    assert_int_equal(ring_lower_bound(&r, 21), 4);
    assert_int_equal(ring_lower_bound(&r, UINT64_MAX), 5);
    assert_int_equal(ring_first_seq(&r), 10);
    assert_int_equal(ring_last_seq(&r), 1000);
    ring_free(&r);
}

static void test_evict_by_count(void **state)
{
    (void)state;
    ring_t r;
    assert_int_equal(ring_init(&r, 4, 1 << 16), 0);
    for (uint64_t s = 1; s <= 10; s++) {
        push(&r, s, s);
        assert_int_equal(ring_count(&r), s < 4 ? s : 4);
        assert_int_equal(ring_last_seq(&r), s);
    }
    assert_int_equal(ring_first_seq(&r), 7);
    for (uint64_t s = 1; s <= 6; s++)
        assert_null(ring_get(&r, s));
    size_t bytes = 0;
    for (uint64_t s = 7; s <= 10; s++)
        bytes += check_frame(&r, s, s, 1);
    assert_int_equal(r.bytes, bytes);
    ring_free(&r);

    /* a window of one record */
    assert_int_equal(ring_init(&r, 1, 1024), 0);
    for (uint64_t s = 5; s < 50; s++) {
        push(&r, s, s % 17);
        assert_int_equal(ring_count(&r), 1);
        assert_null(ring_get(&r, s - 1));
        check_frame(&r, s, s % 17, 1);
    }
    ring_free(&r);
}

static void test_evict_by_bytes(void **state)
{
    (void)state;
    ring_t r;
    /* room for three frames of 100 bytes, not four */
    size_t msg = 100 - FRAME_SIZE(0);
    assert_int_equal(FRAME_SIZE(msg), 100);
    assert_int_equal(ring_init(&r, 100, 350), 0);
    for (uint64_t s = 1; s <= 3; s++)
        push(&r, s, msg);
    assert_int_equal(ring_count(&r), 3);
    assert_int_equal(r.bytes, 300);
    push(&r, 4, msg);
    assert_int_equal(ring_count(&r), 3);
    assert_int_equal(ring_first_seq(&r), 2);
    assert_null(ring_get(&r, 1));
    for (uint64_t s = 2; s <= 4; s++)
        check_frame(&r, s, msg, 1);
    /* the fourth frame did not fit after the third: it went to offset 0 */
    assert_ptr_equal(ring_get(&r, 4), r.mem);
    assert_true(r.wrapped);

    /* a big frame evicts as many old ones as it needs, and no more:
     * frame 4 at [0, 100) stays, 2 and 3 go, 5 takes [100, 350) */
    size_t big = 250 - FRAME_SIZE(0);
    push(&r, 5, big);
    assert_int_equal(ring_first_seq(&r), 4);
    assert_int_equal(ring_count(&r), 2);
    assert_false(r.wrapped);
    check_frame(&r, 4, msg, 1);
    check_frame(&r, 5, big, 1);
    assert_ptr_equal(ring_get(&r, 5), r.mem + 100);
    assert_int_equal(r.bytes, 350);
    push(&r, 6, msg);
    assert_int_equal(ring_first_seq(&r), 5);
    assert_int_equal(ring_count(&r), 2);
    check_frame(&r, 5, big, 1);
    check_frame(&r, 6, msg, 1);
    assert_ptr_equal(ring_get(&r, 6), r.mem);
    assert_int_equal(r.bytes, 350);
    ring_free(&r);
}

static void test_frame_larger_than_ring(void **state)
{
    (void)state;
    ring_t r;
    assert_int_equal(ring_init(&r, 16, 512), 0);
    push(&r, 1, 10);
    push(&r, 2, 10);
    /* too big: not kept, and the ring is emptied */
    push(&r, 3, 600);
    assert_int_equal(ring_count(&r), 0);
    assert_int_equal(r.bytes, 0);
    assert_null(ring_get(&r, 1));
    assert_null(ring_get(&r, 3));
    push(&r, 4, 10);
    assert_int_equal(ring_count(&r), 1);
    check_frame(&r, 4, 10, 1);

    /* a frame of exactly the ring's size fits, alone */
    size_t exact = 512 - FRAME_SIZE(0);
    push(&r, 5, exact);
    assert_int_equal(ring_count(&r), 1);
    assert_int_equal(ring_first_seq(&r), 5);
    check_frame(&r, 5, exact, 1);
    assert_ptr_equal(ring_get(&r, 5), r.mem);
    push(&r, 6, 1);
    assert_int_equal(ring_count(&r), 1);
    check_frame(&r, 6, 1, 1);
    ring_free(&r);
}

/* The buffer grows only while the count limit has room: a window full of
 * records keeps the bytes its max_records need (here 20,000 frames of about
 * 1 KiB: 20 MB, so one doubling of RING_START_BYTES), however many frames
 * pass through it, and never faults in the rest of max_bytes. When the
 * frames get larger and the bytes bind instead, it grows again. */
static void test_grows_by_need(void **state)
{
    (void)state;
    ring_t r;
    const size_t max = 20000, msg = 1000, big = 2000;
    assert_int_equal(ring_init(&r, max, 256u << 20), 0);
    assert_int_equal(r.limit, RING_START_BYTES);
    uint64_t seq = 1;
    for (; seq <= 10 * max; seq++)
        push(&r, seq, msg);
    assert_int_equal(ring_count(&r), max);
    assert_int_equal(r.limit, 2 * RING_START_BYTES);
    assert_true(max * FRAME_SIZE(msg) <= r.limit);
    for (uint64_t s = seq - max; s < seq; s++)
        check_frame(&r, s, msg, 0);
    /* twice the bytes per record: the count still binds, after growing */
    for (uint64_t end = seq + 5 * max; seq < end; seq++)
        push(&r, seq, big);
    assert_int_equal(ring_count(&r), max);
    assert_int_equal(r.limit, 4 * RING_START_BYTES);
    for (uint64_t s = seq - max; s < seq; s++)
        check_frame(&r, s, big, 0);
    ring_free(&r);
}

static void test_clear(void **state)
{
    (void)state;
    ring_t r;
    assert_int_equal(ring_init(&r, 8, 1024), 0);
    for (uint64_t s = 1; s <= 5; s++)
        push(&r, s, 50);
    ring_clear(&r);
    assert_int_equal(ring_count(&r), 0);
    assert_int_equal(ring_first_seq(&r), 0);
    assert_int_equal(ring_last_seq(&r), 0);
    assert_int_equal(r.bytes, 0);
    for (uint64_t s = 1; s <= 5; s++)
        assert_null(ring_get(&r, s));
    push(&r, 1000, 7);
    push(&r, 1001, 8);
    assert_int_equal(ring_count(&r), 2);
    check_frame(&r, 1000, 7, 1);
    check_frame(&r, 1001, 8, 1);
    assert_ptr_equal(ring_get(&r, 1000), r.mem);
    ring_free(&r);
}

static uint64_t rng = 0x853C49E6748FEA9BULL;

static uint64_t next_rand(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1DULL;
}

static void test_wrap_stress(void **state)
{
    (void)state;
    enum { MAX_REC = 64, SIZE = 8192, PUSHES = 300000, BIG_MSG = 700 };
    const size_t max_frame = FRAME_SIZE(BIG_MSG);
    size_t lens[1024]; /* msg length of seq, by seq % 1024 */
    size_t by_count = 0, by_bytes = 0, wraps = 0;
    ring_t r;

    assert_int_equal(ring_init(&r, MAX_REC, SIZE), 0);
    int was_wrapped = 0;
    uint64_t seq = 0;
    for (int i = 0; i < PUSHES; i++) {
        /* phases of small frames (the count limit binds) and large ones
         * (the byte limit binds); seqs go up by 1 to 3 (gaps) */
        int small = (i / 5000) % 2;
        size_t len = (size_t)(next_rand() % (small ? 60 : BIG_MSG + 1));
        uint64_t prev = seq;
        seq += 1 + next_rand() % 3;
        lens[seq % 1024] = len;
        size_t count_before = ring_count(&r);
        push(&r, seq, len);

        /* invariant 1 */
        size_t count = ring_count(&r);
        assert_true(count >= 1 && count <= MAX_REC);
        assert_true(r.bytes <= SIZE);
        assert_int_equal(ring_last_seq(&r), seq);
        /* invariants 2 and 3: every frame held is intact, in seq order,
         * and found by its seq; the gaps are not */
        size_t bytes = 0, full = i % 97 == 0;
        for (size_t k = 0; k < count; k++) {
            uint64_t s = ring_seq_at(&r, k);
            if (k)
                assert_true(s > ring_seq_at(&r, k - 1));
            bytes += check_frame(&r, s, lens[s % 1024], full || s == seq);
            if (full) {
                assert_ptr_equal(ring_get(&r, s), ring_at(&r, k));
                assert_int_equal(ring_lower_bound(&r, s), k);
            }
        }
        assert_int_equal(bytes, r.bytes);
        if (seq - prev > 1)
            assert_null(ring_get(&r, seq - 1));
        assert_null(ring_get(&r, ring_first_seq(&r) - 1));
        assert_null(ring_get(&r, seq + 1));

        /* evicting for room stops once the frame fits: what is lost to the
         * gap before the wrap point and to the last eviction is less than
         * two frames */
        size_t evicted = count_before + 1 - count;
        int count_evict = count_before == MAX_REC;
        if (evicted > (size_t)count_evict) {
            assert_true(r.bytes + 2 * max_frame > SIZE);
            by_bytes++;
        } else if (count_evict) {
            by_count++;
        }
        if (r.wrapped && !was_wrapped)
            wraps++;
        was_wrapped = r.wrapped;
    }
    /* the run went through every path many times */
    assert_true(by_count > 10000);
    assert_true(by_bytes > 10000);
    assert_true(wraps > 1000);
    ring_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),          cmocka_unit_test(test_push_get),
        cmocka_unit_test(test_seq_gaps),       cmocka_unit_test(test_evict_by_count),
        cmocka_unit_test(test_evict_by_bytes), cmocka_unit_test(test_frame_larger_than_ring),
        cmocka_unit_test(test_clear),          cmocka_unit_test(test_grows_by_need),
        cmocka_unit_test(test_wrap_stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
