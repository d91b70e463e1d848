/* reserve.h - the seq reservation: how the store keeps invariant 1 of
 * store.h (a seq is never handed out twice) across a machine crash.
 *
 * Records reach the disk through the page cache. After a process crash the
 * kernel still has every written record; after a machine crash the ones not
 * yet synced may be gone, while a reader or a client may have seen their
 * seqs. So the writer reserves seqs ahead, on disk, before it writes records
 * that use them: <data>/seq.reserve holds
 *
 *   "<upto> <boot id>\n"
 *
 * meaning "seqs up to <upto> may have been handed out", and the kernel's id
 * of the boot that wrote it (/proc/sys/kernel/random/boot_id). It is replaced
 * atomically: a temporary file, fdatasync, rename, directory fsync.
 *
 *   1. Before a group with seqs up to L is written, upto >= L is on disk
 *      (reserve_cover: upto = L + RESERVE_STEP when it was not, so the file
 *      is written once per RESERVE_STEP seqs).
 *   2. At open, a reservation from another boot moves next_seq past upto;
 *      one from this boot, or none, does not (the page cache kept every
 *      written record, so next_seq follows the newest record).
 *   3. A clean stop writes upto = the last seq handed out, so a clean
 *      restart continues at the next seq without a gap.
 */
#ifndef LOGSHIP_STORE_RESERVE_H
#define LOGSHIP_STORE_RESERVE_H

#include <stdint.h>

#include "store.h"

#define RESERVE_STEP 1000000 /* seqs reserved at a time */

typedef struct reserve {
    const char *dir;      /* the data directory (borrowed) */
    const store_io_t *io; /* what the file is written and synced with */
    uint64_t upto;        /* seqs up to here are covered on disk */
} reserve_t;

/* Makes sure seqs up to seq are covered on disk (rule 1). Returns 0 or
 * -errno; r->upto is unchanged on failure. Writer thread. */
int reserve_cover(reserve_t *r, uint64_t seq);
/* Writes upto = last exactly (rule 3, a clean stop). Returns 0 or -errno. */
int reserve_release(reserve_t *r, uint64_t last);
/* The reservation a previous boot left in dir: its upto, or 0 when there is
 * none or it was written in this boot (rule 2). */
uint64_t reserve_read(const char *dir);

#endif
