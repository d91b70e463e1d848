/* reader.h - scanning a list of segments: store_scan() for queries and
 * lagging subscribers, and recovery filling the memory window. */
#ifndef LOGSHIP_STORE_READER_H
#define LOGSHIP_STORE_READER_H

#include <stdatomic.h>
#include <uv.h>

#include "segment.h"
#include "store.h"

/* Calls fn for each record of l with seq <= visible that passes f, in seq
 * order or newest first, as store_scan() describes. The segments are
 * snapshotted first (a reference on each, a copy of its index), under lock
 * held for reading when lock is not NULL, and only then. Damaged records
 * are logged, skipped and counted in *damaged (may be NULL). Any thread.
 * Returns 0, or -errno on a read error. */
int reader_scan(const seglist_t *l, uv_rwlock_t *lock, uint64_t visible, _Atomic uint64_t *damaged,
                const filter_t *f, int backward, store_read_fn fn, void *arg);
/* Forward, offering each compressed block to on_block first (store.h's
 * store_scan_blocks). */
int reader_scan_blocks(const seglist_t *l, uv_rwlock_t *lock, uint64_t visible,
                       _Atomic uint64_t *damaged, const filter_t *f, store_read_fn fn, void *arg,
                       store_block_fn on_block, void *block_arg, const _Atomic int *cancel);
/* The same, stopping before the next block once *cancel is nonzero. */
int reader_scan_cancel(const seglist_t *l, uv_rwlock_t *lock, uint64_t visible,
                       _Atomic uint64_t *damaged, const filter_t *f, int backward, store_read_fn fn,
                       void *arg, const _Atomic int *cancel);

#endif
