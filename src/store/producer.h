/* producer.h - idempotent producers: which batches the store already holds.
 *
 * A producer (a client instance) numbers its batches. For each producer the
 * table remembers its highest batch number and the seqs of its last
 * PRODUCER_WINDOW batches, so a batch resent after a lost reply is answered
 * with its original seqs instead of being stored twice. At most
 * PRODUCER_MAX producers are kept; the least recently seen are forgotten.
 * Not thread-safe: each thread keeps its own table.
 *
 * On disk the table is a snapshot file (producer_save) plus meta frames:
 * with each producer batch the store writes a frame with RECORD_F_META,
 * topic "logship.producer", app = the producer id and msg = "batch first
 * last", just before the batch's records (producer_meta_encode).
 */
#ifndef LOGSHIP_PRODUCER_H
#define LOGSHIP_PRODUCER_H

#include <stddef.h>
#include <stdint.h>

#include "../common/record.h"

#define PRODUCER_ID_MAX 64
#define PRODUCER_WINDOW 16
#define PRODUCER_MAX    65536

typedef struct producer_batch {
    uint64_t batch, first, last;
    uint64_t gen; /* store group that holds it (loop-side bookkeeping) */
} producer_batch_t;

typedef struct producer {
    char id[PRODUCER_ID_MAX];
    unsigned char idlen; /* 0: free slot */
    unsigned char n;     /* batches remembered */
    unsigned char head;  /* next slot in recent[] */
    uint64_t max_batch;
    uint64_t touched;
    producer_batch_t recent[PRODUCER_WINDOW];
} producer_t;

typedef struct producer_table {
    producer_t *slots;
    size_t cap, count;
    uint64_t clock;
} producer_table_t;

enum producer_seen {
    PRODUCER_NEW,        /* not stored yet */
    PRODUCER_DUPLICATE,  /* stored: *out has its seqs */
    PRODUCER_SUPERSEDED, /* older than the remembered window: stored long ago */
};

void producer_table_init(producer_table_t *t);
void producer_table_free(producer_table_t *t);
/* Makes dst (not initialised) a copy of src, for another thread to own. */
void producer_table_copy(producer_table_t *dst, const producer_table_t *src);
/* 0 when id is a usable producer id (1..64 bytes, printable ASCII). */
int producer_id_check(const char *id, size_t n);
enum producer_seen producer_lookup(producer_table_t *t, const char *id, size_t n, uint64_t batch,
                                   producer_batch_t *out);
/* Highest batch number recorded for id (0 when unknown). */
uint64_t producer_max_batch(producer_table_t *t, const char *id, size_t n);
void producer_record(producer_table_t *t, const char *id, size_t n, const producer_batch_t *b);
/* Drops a batch that turned out not to be stored (its write failed). */
void producer_forget(producer_table_t *t, const char *id, size_t n, uint64_t batch);

/* Appends the meta frame of a producer batch to out, sealed with seq 0. */
void producer_meta_encode(buf_t *out, const char *id, size_t n, uint64_t batch, uint64_t first,
                          uint64_t last);
/* Parses a meta frame's record into *b. Returns 0, or -1 when r is not a
 * producer meta frame. */
int producer_meta_parse(const record_t *r, producer_batch_t *b);

/* Snapshot file: the table as of the start of a segment. Written atomically.
 * Returns 0 or -1; load returns the segment's first seq in *seg. */
int producer_save(const producer_table_t *t, const char *path, uint64_t seg);
int producer_load(producer_table_t *t, const char *path, uint64_t *seg);

#endif
