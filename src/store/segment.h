/* segment.h - segment files: the on-disk unit of the append-only log.
 *
 * A segment is a 32-byte header followed by record frames (record.h), back
 * to back, seqs strictly increasing. It is named after its first seq:
 * segments/00000000000000000001.log. See docs/FORMAT.md.
 *
 *   off size field
 *     0    8 magic      "LOGSHIP\x01"
 *     8    4 version    1
 *    12    4 hdr_len    32
 *    16    8 first_seq  seq of the first record (the file name says the same)
 *    24    8 created    ns since the epoch
 *
 * Frames with RECORD_F_META in flags are store bookkeeping (producer batch
 * markers), carry seq 0 and are skipped by readers.
 *
 * In memory a segment is a segment_t: its open file, its index and its
 * size, shared by the writer and readers through references. Recovery
 * builds the list of them (recover.h), the store then owns it.
 */
#ifndef LOGSHIP_SEGMENT_H
#define LOGSHIP_SEGMENT_H

#include <stdatomic.h>
#include <stdint.h>

#include "../common/record.h"
#include "bfilter.h"
#include "index.h"

#define SEGMENT_MAGIC   "LOGSHIP\x01"
#define SEGMENT_VERSION 1
#define SEGMENT_HDR     32

/* Offsets of the header's fields (the layout above). */
#define SEGMENT_OFF_VERSION 8
#define SEGMENT_OFF_HDR_LEN 12
#define SEGMENT_OFF_FIRST   16
#define SEGMENT_OFF_CREATED 24

/* A segment file. Sealed segments are immutable; the active one grows. The
 * owner of the list changes `ix` and `sealed` under its lock (held for
 * writing) and readers copy them under it; `size`, the bytes written and
 * indexed, is read without it. Each list and each reader holds a reference. */
typedef struct segment {
    uint64_t first_seq;
    int fd; /* read-write for the active segment, read-only otherwise */
    seg_index_t ix;
    _Atomic uint64_t size;
    int sealed;
    _Atomic int refs;
    int64_t mtime_ns; /* last write, for --retain-age */
    /* a compressed segment (<first>.zlog, zseg.h): ix's entries are its
     * blocks (offset: the block's header), size the end of the last
     * block; bf[i] the filter of block i, pointing into zmeta */
    int compressed;
    char *zmeta;
    bfilter_t *bf;
} segment_t;

/* A new segment_t for fd (which it now owns) holding size bytes, with an
 * empty index and one reference, for the caller. */
segment_t *segment_new(uint64_t first_seq, int fd, uint64_t size, int64_t mtime_ns);
void segment_ref(segment_t *g);
/* Drops a reference; the last one closes the file and frees g. */
void segment_unref(segment_t *g);

/* Segments, oldest first; the list holds a reference on each. */
typedef struct seglist {
    segment_t **v;
    size_t n, cap;
} seglist_t;

/* Appends g, taking over the caller's reference. */
void seglist_push(seglist_t *l, segment_t *g);
/* Drops the list's references and its memory; l is empty afterwards. */
void seglist_free(seglist_t *l);

/* dir/segments/<20-digit first seq><ext>; returns the length. */
int segment_path(char *out, size_t cap, const char *dir, uint64_t first_seq, const char *ext);

void segment_header_encode(char *out, uint64_t first_seq, int64_t created);
/* Returns 0 and sets *first_seq, or -1 when hdr is not a segment header. */
int segment_header_decode(const char *hdr, size_t n, uint64_t *first_seq);

/* Why a scan stopped. */
enum scan_stop {
    SCAN_END,     /* reached the end of the data */
    SCAN_TORN,    /* a frame runs past the end: a write that did not finish */
    SCAN_CORRUPT, /* bad length or checksum */
    SCAN_SEQ,     /* a seq that does not increase */
};

typedef struct seg_scan {
    uint64_t end;      /* offset just past the last good frame */
    uint64_t last_seq; /* seq of the last good record (or the prev passed in) */
    uint64_t records;  /* good records seen */
    enum scan_stop stop;
} seg_scan_t;

/* Verifies frames of fd from offset `from` (after prev_seq) to end of file,
 * feeding each good record to idx (may be NULL) and each meta frame to
 * on_meta (may be NULL). Stops at the first bad frame. Returns 0, or -1 on
 * a read error (errno set). */
int segment_scan(int fd, uint64_t from, uint64_t prev_seq, seg_index_t *idx,
                 void (*on_meta)(void *arg, const record_t *r), void *arg, seg_scan_t *out);

/* Looks for the next good frame after a corrupt one: the first offset in
 * [from, limit) where a frame verifies and its seq is above prev_seq.
 * Returns that offset, or limit when none. Used by readers to skip a
 * damaged record inside a sealed segment. */
uint64_t segment_resync(int fd, uint64_t from, uint64_t limit, uint64_t prev_seq);

#endif
