/* store_wait.h - for unit tests over a real store: an append run to its
 * end on the test's own loop. */
#ifndef LOGSHIP_TEST_STORE_WAIT_H
#define LOGSHIP_TEST_STORE_WAIT_H

#include <uv.h>

#include "store/store.h"

typedef struct test_wait {
    store_waiter_t w;
    int done, err;
} test_wait_t;

static void test_wait_done(store_waiter_t *w, int err, uint64_t first, uint64_t last)
{
    test_wait_t *x = container_of(w, test_wait_t, w);
    (void)first;
    (void)last;
    x->done = 1;
    x->err = err;
}

/* Appends b to s and, when the store answers STORE_PENDING, runs loop until
 * the records are durable. Returns store_append's answer; *err is the
 * waiter's error (0 when it did not wait). b stays the caller's. */
static inline int test_append_wait(uv_loop_t *loop, store_t *s, batch_t *b, int *err)
{
    test_wait_t w = {.w.done = test_wait_done};
    uint64_t first = 0, last = 0;
    int rc = store_append(s, b, NULL, 0, 0, &w.w, &first, &last);
    while (rc == STORE_PENDING && !w.done)
        uv_run(loop, UV_RUN_ONCE);
    *err = w.err;
    return rc;
}

#endif
