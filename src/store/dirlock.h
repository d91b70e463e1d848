/* dirlock.h - one writer per data directory.
 *
 * logshipd holds an exclusive flock(2) on DIR/lock for as long as it runs,
 * with its pid written in the file, so that a second logshipd on the same
 * directory refuses to start (two writers would each acknowledge records
 * the other's recovery then truncates away). Readers that open the store
 * offline take the lock shared. The lock goes with the process: a crash or
 * kill -9 leaves no stale lock behind, only a stale pid in the file.
 */
#ifndef LOGSHIP_STORE_DIRLOCK_H
#define LOGSHIP_STORE_DIRLOCK_H

#include <stddef.h>

/* Locks dir (exclusive, or shared for readers) without waiting. Returns the
 * lock's descriptor, to keep open; or -1 with err set, naming the pid that
 * holds the lock when it is held. */
int dirlock_take(const char *dir, int shared, char *err, size_t errcap);
/* Releases it (closing the descriptor). */
void dirlock_release(int fd);

#endif
