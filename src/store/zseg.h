/* zseg.h - compressed sealed segments: segments/<first seq>.zlog.
 *
 * FORMAT (docs/FORMAT.md, segment format version 2)
 *
 *   header (32): magic "LOGSHIPZ" | u32 version 2 | u32 32 | u64 first_seq |
 *                i64 created
 *   blocks:      u32 magic "LSZB" | u32 comp_len | u32 raw_len |
 *                u32 XXH3-64 (low 32 bits) of the comp_len bytes after |
 *                a zstd frame (with its content checksum) of raw_len bytes
 *                of record frames, exactly as they were in the .log
 *   table:       u32 blocks | u32 0 | u64 last_seq | u64 records |
 *                i64 min_ts | i64 max_ts | u64 end of the last block |
 *                per block: u64 first seq | u64 offset | i64 min_ts |
 *                i64 max_ts | u32 filter length | the filter (bfilter.h)
 *   footer (32): u64 table offset | u64 table length | u64 XXH3-64 of the
 *                table | magic "LSZTABLE"
 *
 * A block holds whole frames (meta frames and damaged bytes included, as
 * they were), about ZSEG_BLOCK_RAW bytes of them: the .log's index blocks
 * taken together. Each block decodes on its own.
 *
 * THE REWRITE (zseg_compact; invariants)
 *   1. The .log is read, never written; the new file is written to
 *      <first>.zlog.tmp, synced, renamed to <first>.zlog, and the
 *      directory synced: a .zlog exists only whole.
 *   2. Then the caller swaps the segment in memory (readers that hold the
 *      old one keep its open file), and only then are the .log and .idx
 *      removed.
 *   So a crash at any point leaves the .log, or the .zlog, or both (the
 *   same records twice on disk, never twice to a reader: recovery keeps
 *   the .zlog when it opens whole and removes the .log, else the reverse),
 *   plus perhaps a .zlog.tmp, which recovery removes.
 *
 * Reading: zseg_open() loads the table (or, when the footer or table is
 * damaged or cut, rebuilds it by walking the blocks: the blocks before the
 * damage are kept, their filters rebuilt); zseg_decode_block() checks and
 * decompresses one block (pure: fuzz_zblock); a block that fails is
 * counted as damaged by the reader and skipped, its neighbours read.
 */
#ifndef LOGSHIP_ZSEG_H
#define LOGSHIP_ZSEG_H

#include <stdatomic.h>
#include <stdint.h>

#include "../common/buf.h"
#include "segment.h"

#define ZSEG_MAGIC         "LOGSHIPZ"
#define ZSEG_VERSION       2
#define ZSEG_BLOCK_HDR     16
#define ZSEG_BLOCK_RAW     (256u * 1024)
#define ZSEG_BLOCK_MAX     (64u << 20) /* raw bytes of one block, at most */
#define ZSEG_FOOTER        32
#define ZSEG_LEVEL_DEFAULT 3

/* The steps of zseg_compact(), for a fault-injection hook: a hook that
 * returns nonzero for a step makes zseg_compact stop right before it, as
 * a kill -9 there would (ZSEG_STEP_WRITE: halfway through the writes). */
enum zseg_step {
    ZSEG_STEP_WRITE,
    ZSEG_STEP_SYNC,
    ZSEG_STEP_RENAME,
    ZSEG_STEP_SYNC_DIR,
    ZSEG_STEP_SWAP,
    ZSEG_STEP_UNLINK_LOG,
    ZSEG_STEP_UNLINK_IDX,
    ZSEG_STEPS
};
typedef int (*zseg_fault_fn)(void *arg, int step); /* step: an enum zseg_step */

#define ZSEG_CRASHED 1 /* zseg_compact stopped at the hook's step */

/* Called by zseg_compact once the .zlog is whole (invariant 2) with it
 * opened (zseg_open, the caller's reference): returns 0 when it took it
 * in, so the .log and .idx go; nonzero when the segment is gone meanwhile
 * (retention), so the .zlog goes instead. */
typedef int (*zseg_swap_fn)(void *arg, segment_t *fresh);

/* Rewrites sealed segment g of the store at dir compressed at zstd level
 * `level`. stop (may be NULL) abandons the rewrite when it becomes
 * nonzero (the .tmp is removed). Any thread but the loop's. Returns 0,
 * ZSEG_CRASHED, or -errno (nothing changed but a removed .tmp). */
int zseg_compact(const char *dir, const segment_t *g, int level, const _Atomic int *stop,
                 zseg_swap_fn swap, void *swap_arg, zseg_fault_fn fault, void *fault_arg);

/* Opens dir/segments/<first>.zlog: a sealed, compressed segment_t with one
 * reference, or NULL with the reason in why. repair: a damaged or cut
 * table is rebuilt from the blocks (logged, *repaired set) rather than
 * refused. */
segment_t *zseg_open(const char *dir, uint64_t first, int repair, int *repaired, char *why,
                     size_t cap);

/* Checks and decompresses the block at p[0..n) (its header first) into
 * out (reset first). Returns 0, or -1 when it is damaged. Pure. */
int zseg_decode_block(const char *p, size_t n, buf_t *out);

/* Calls fn for each meta frame of a compressed segment (recovery replays
 * producers). Returns 0 or -errno. */
int zseg_each_meta(const segment_t *g, void (*fn)(void *arg, const record_t *r), void *arg);

#endif
