/* io.h - the store's writes and syncs: whole writes at an offset and
 * directory syncs, shared by the writer (store.c) and the seq reservation
 * (reserve.c). */
#ifndef LOGSHIP_STORE_IO_H
#define LOGSHIP_STORE_IO_H

#include <stddef.h>
#include <stdint.h>

/* Writes all n bytes of p at off, retrying short writes and EINTR. Returns
 * 0, or -errno (-ENOSPC when a write makes no progress). On failure some
 * bytes may have been written: the caller cuts them off. */
int io_pwrite_all(int fd, const void *p, size_t n, uint64_t off);
/* fsyncs the directory at path (a created or renamed entry is durable).
 * Returns 0 or -errno. */
int io_sync_dir(const char *path);

#endif
