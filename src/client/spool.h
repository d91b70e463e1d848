/* spool.h - liblogship's disk spool: batches the server could not take yet,
 * in append-only files that a later process sends on.
 *
 * Format
 * ------
 * spool_dir holds `lock` (flock: one logger at a time) and files
 * `spool-<16 hex key>.lsp`, sent in key order. Every file belongs to one
 * producer id (one numbering sequence):
 *
 *   file header, 128 bytes: "LSSPOOL1", u32 version (1), u32 id length,
 *     id[64], u64 acked (offset of the first entry not acknowledged), zeros
 *   entries: u32 magic "LSBE", u32 data length, u32 record count,
 *     u32 CRC-32 of the data, u64 batch number (0: never sent), u64 and u64
 *     queue positions (meaningful to the process that wrote them), data:
 *     the record lines exactly as they are sent
 *
 * Integers are little-endian (the host's: the spool does not move between
 * machines). Only the header's `acked` and an entry's batch number change
 * in place, each one aligned 8-byte write; everything else is appended.
 *
 * Invariants
 *  1. Entries are sent in file order, files in key order; new files get
 *     the highest key, so a spool drains first in, first out. The only
 *     exception is spool_prepend() at close: batches that were in memory,
 *     older than everything spooled, get a file with the lowest key.
 *  2. An entry's batch number is written before the batch is first sent, so
 *     a restarted process resends it under the same producer id and number
 *     and the server drops it if it was stored (exactly once).
 *  3. A torn or damaged tail (crash while appending) ends the file: entries
 *     are read up to the first bad magic, length or checksum.
 *  4. A file whose entries are all acknowledged is deleted.
 * Writes are not fsync'ed: the spool survives the application's crash or
 * restart, not the machine's power loss.
 */
#ifndef LOGSHIP_CLIENT_SPOOL_H
#define LOGSHIP_CLIENT_SPOOL_H

#include "client.h"

typedef struct spool spool_t;

/* Opens (creating) dir, locks it and scans the files left there. own is the
 * logger's producer: its new entries go to a new file under that id. limit
 * is the most bytes the files may take. Returns 0 and *out, or LOGSHIP_EBUSY
 * (locked by another logger) or LOGSHIP_ESPOOL. */
int spool_open(spool_t **out, const char *dir, size_t limit, cproducer_t *own);
/* Closes the files and unlocks; s may be NULL. */
void spool_close(spool_t *s);
/* Forgets everything without touching the files (a fork child: the
 * parent's spool is the parent's). */
void spool_abandon(spool_t *s);

/* Entries not yet loaded into memory. */
int spool_pending(const spool_t *s);
/* Bytes the spool files take. */
size_t spool_used(const spool_t *s);
/* 1 when a batch of n bytes would still fit (and writes work). */
int spool_room(const spool_t *s, size_t n);
/* Queue position of the first own entry not loaded (UINT64_MAX: none). */
uint64_t spool_own_start(const spool_t *s);

/* Appends batch b (own, unsent or sent) to the newest own file. Returns 0,
 * or -1 when it does not fit the limit or a write failed (b is untouched). */
int spool_append(spool_t *s, const cbatch_t *b);
/* Writes batches bs[0..n) to a new file that is sent before every other
 * (invariant 1). Returns 0 or -1. */
int spool_prepend(spool_t *s, cbatch_t *const *bs, size_t n);
/* Loads the next entry as a batch (sf, sp_off, sp_end set; own when it is
 * this logger's). Returns NULL when none is left (or out of memory). */
cbatch_t *spool_load(spool_t *s);
/* Records b->no in b's entry (invariant 2). */
void spool_set_no(spool_t *s, const cbatch_t *b);
/* b's entry was acknowledged: moves its file's acked offset on, deleting
 * the file when all of it is acknowledged. */
void spool_acked(spool_t *s, const cbatch_t *b);

#endif
