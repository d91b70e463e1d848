/* bfilter.h - per-block filters of compressed segments: what a block of
 * records may hold, so a query opens only blocks that may match.
 *
 * Written at seal time, when a segment is compressed (zseg.h), one per
 * block; a block without one (a table rebuilt after damage) is always
 * opened. A filter says, for its block:
 *   - levels: a bitmap of the record levels present, and how many records
 *     of each (the counts of /api/stats, query/stats.h, come from these
 *     when a block needs no scan);
 *   - the distinct topics, apps and hosts with their record counts, each
 *     set up to BF_SET_MAX values of BF_SET_BYTES bytes in all (else that
 *     set is "unknown");
 *   - a bloom filter of the words (common/token.h) of every message and
 *     every fields JSON text, folded: BF_BITS_PER_WORD bits per distinct
 *     word, rounded up to a power of two, BF_HASHES hashes.
 * bfilter_may_match() is conservative: 0 only when no record of the block
 * can pass the filter; the scan then confirms each record as before. It
 * looks at the level, the topic patterns and a token's limit, app and host
 * globs, every word of word=, and the words of q= and qi= that touch
 * neither end of the text (those may be parts of longer words); field.NAME=
 * and re= are left to the scan.
 *
 * Blob (little-endian):
 *   u8 version 1 | u8 levels | u8 flags (1: the counts are known) | u8 0 |
 *   u32 records per level, 8 of them |
 *   3 x (u16 n, then n x (u16 len, bytes, u32 records))  topics, apps,
 *                                   hosts; n = 0xFFFF: unknown, no values
 *   u32 bloom bytes (0 or a power of two, at most BF_BLOOM_MAX) | bloom
 * Parsing (bfilter_parse) takes any bytes: a blob that does not add up is
 * refused, never read past its end (fuzz_bfilter).
 */
#ifndef LOGSHIP_BFILTER_H
#define LOGSHIP_BFILTER_H

#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"
#include "../route/filter.h"

#define BF_SET_MAX       32
#define BF_SET_BYTES     4096
#define BF_BITS_PER_WORD 10
#define BF_HASHES        4
#define BF_BLOOM_MAX     (64u * 1024)
#define BF_UNKNOWN       0xFFFF

/* A parsed blob: views into the bytes it was parsed from. */
typedef struct bfilter {
    uint8_t levels;
    int counted; /* level_counts and the sets' counts are known */
    uint32_t level_counts[8];
    uint16_t nvals[3]; /* topics, apps, hosts; BF_UNKNOWN: not known */
    const char *vals[3];
    const uint8_t *bloom;
    uint32_t bloom_bytes;
} bfilter_t;

/* Parses p[0..n) into *bf (borrowing p). Returns 0, or -1 when the blob is
 * not well-formed. */
int bfilter_parse(const char *p, size_t n, bfilter_t *bf);

/* Value i of set `set` (0 topics, 1 apps, 2 hosts; i < nvals[set], the set
 * known) into *value; returns its record count. */
uint32_t bfilter_value_count(const bfilter_t *bf, int set, size_t i, slice_t *value);

/* 0 when no record of the block bf describes can pass f. */
int bfilter_may_match(const bfilter_t *bf, const filter_t *f);

/* Builds blobs. Reused across blocks: nothing per record is allocated
 * once its tables have grown. */
typedef struct bfilter_builder {
    uint8_t levels;
    uint32_t level_counts[8];
    buf_t vals[3]; /* u16 len + bytes, back to back */
    uint16_t nvals[3];
    uint64_t *words; /* a hash set of word hashes; 0 is empty */
    size_t nwords, cap;
} bfilter_builder_t;

void bfilter_builder_init(bfilter_builder_t *b);
void bfilter_builder_free(bfilter_builder_t *b);
/* Notes a record. */
void bfilter_add(bfilter_builder_t *b, const record_t *r);
/* Appends the blob of the records noted since the last call, and starts
 * over. */
void bfilter_finish(bfilter_builder_t *b, buf_t *out);

#endif
