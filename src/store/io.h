/* io.h - the store's writes and syncs: the store_io_t table (store.h) that
 * the writer (store.c) and the seq reservation (reserve.c) call through,
 * whole writes at an offset, directory syncs.
 *
 * A test build (LOGSHIP_CHECKS, see common/check.h) has one more table, for
 * tests of the whole server that can not mount a small filesystem: with
 * LOGSHIP_TEST_DISK_QUOTA=<file> in the environment, store_open() uses it
 * when store_opts_t names none. <file> holds a byte count N: the store's
 * writes through the table may put N bytes in all (counted from the start
 * of the process); the write that reaches N comes up short and the next one
 * fails with ENOSPC, as on a full disk. The file is read at every write: a
 * missing or empty file means no limit (the space was freed). */
#ifndef LOGSHIP_STORE_IO_H
#define LOGSHIP_STORE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Writes all n bytes of p at off, retrying short writes and EINTR. Returns
 * 0, or -errno (-ENOSPC when a write makes no progress). On failure some
 * bytes may have been written: the caller cuts them off. */
int io_pwrite_all(const store_io_t *io, int fd, const void *p, size_t n, uint64_t off);
/* fsyncs the directory at path (a created or renamed entry is durable).
 * Returns 0 or -errno. */
int io_sync_dir(const char *path);
/* The table for a store whose options name none: store_io_system, or the
 * quota above, with *quota set to its file (NULL otherwise). */
const store_io_t *io_default(const char **quota);

#endif
