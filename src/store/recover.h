/* recover.h - reading a data directory back at open: what recovery found
 * and repaired, for store_open() to take over. See recover.c for the
 * design. */
#ifndef LOGSHIP_STORE_RECOVER_H
#define LOGSHIP_STORE_RECOVER_H

#include <stddef.h>
#include <stdint.h>

#include "producer.h"
#include "ring.h"
#include "segment.h"
#include "store.h"

typedef struct recover_result {
    /* the segments found, oldest first, with their indexes; sealed ones
     * open read-only, the last one unsealed and open read-write (it takes
     * the next appends), or none at all */
    seglist_t segs;
    producer_table_t producers; /* as of the newest meta frame */
    uint64_t last_seq;          /* the newest record (0: none) */
    uint64_t next_seq;          /* the seq the next record gets */
    uint64_t reserved;          /* seqs up to here are covered by seq.reserve */
    ring_t window;              /* the memory window, filled with the newest records */
    uint64_t damaged;           /* damaged records skipped while filling it */
} recover_result_t;

/* Recovers the store at dir (dir and dir/segments exist): cuts a torn tail,
 * rebuilds missing or stale indexes, removes an unfinished segment, and
 * fills *r, whose parts the caller then owns (recover_result_free() frees
 * what it did not take: a part taken is zeroed). o gives the memory
 * window's size. Logs what it repaired. Returns 0, or -1 with err filled and
 * *r empty. Never touches a store_t: the store is not running yet. */
int recover_dir(const char *dir, const store_opts_t *o, recover_result_t *r, char *err,
                size_t errcap);
void recover_result_free(recover_result_t *r);

#endif
