/* index.h - the sparse index of a segment: one entry per ~64 KiB block.
 *
 * Each entry gives the first seq and file offset of a block of frames and
 * the smallest and largest record time inside it (sender clocks are not in
 * order, so both bounds are kept). A reader finds a seq with a binary search
 * and skips blocks, or whole segments, that cannot hold a time range.
 *
 * Saved next to its segment when the segment is sealed
 * (segments/<first seq>.idx), written to a temporary file and renamed:
 *
 *   magic "LSINDEX1" | u32 version | u32 entries | u64 first_seq |
 *   u64 last_seq | u64 records | i64 min_ts | i64 max_ts | u64 bytes |
 *   entries (u64 seq, u64 offset, i64 min_ts, i64 max_ts) |
 *   u64 XXH3-64 of everything before it
 *
 * `bytes` is the segment size the index describes; an index whose size
 * does not match its segment is rebuilt from the segment.
 */
#ifndef LOGSHIP_INDEX_H
#define LOGSHIP_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define INDEX_BLOCK (64u * 1024)

typedef struct index_entry {
    uint64_t seq, offset;
    int64_t min_ts, max_ts;
} index_entry_t;

typedef struct seg_index {
    uint64_t first_seq; /* the segment's first seq (from its name) */
    uint64_t last_seq;  /* 0 while empty */
    uint64_t records;
    int64_t min_ts, max_ts;
    uint64_t bytes; /* offset just past the last indexed frame */
    index_entry_t *e;
    size_t n, cap;
} seg_index_t;

void index_init(seg_index_t *ix, uint64_t first_seq);
void index_free(seg_index_t *ix);
/* Notes a record of `size` bytes at offset. */
void index_add(seg_index_t *ix, uint64_t seq, uint64_t offset, size_t size, int64_t ts);
/* Notes bytes that hold no record (a meta frame) so `bytes` stays exact. */
void index_skip(seg_index_t *ix, uint64_t offset, size_t size);
/* Entry of the block holding seq (the last entry with entry.seq <= seq);
 * 0 when seq is before the first entry. ix->n must be > 0. */
size_t index_find(const seg_index_t *ix, uint64_t seq);

/* What index_restore() needs to undo the index_add() calls after it. */
typedef struct index_mark {
    size_t n;
    uint64_t last_seq, records, bytes;
    int64_t last_min, last_max;
} index_mark_t;
void index_mark(const seg_index_t *ix, index_mark_t *m);
void index_restore(seg_index_t *ix, const index_mark_t *m);

/* Writes path atomically. Returns 0 or -1 (errno set). */
int index_save(const seg_index_t *ix, const char *path);
/* Loads path into ix (initialised by the caller). Returns 0, or -1 when
 * the file is missing, damaged or does not describe `bytes` bytes. */
int index_load(seg_index_t *ix, const char *path, uint64_t bytes);

#endif
