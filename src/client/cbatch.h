/* cbatch.h - liblogship's batches: record lines the background thread sends
 * as one acknowledged unit, and the producer whose numbers they carry.
 *
 * A batch is built from the queue (sender.c) or loaded from a spool file
 * (spool.c); both hand it to the sender's list, and whoever takes it off
 * the list frees it. Used by the background thread only.
 */
#ifndef LOGSHIP_CLIENT_CBATCH_H
#define LOGSHIP_CLIENT_CBATCH_H

#include <stdint.h>

#include "cbuf.h"

#define PRODUCER_ID_LEN 64

/* A numbering sequence: batch numbers under one producer id only grow. */
typedef struct cproducer {
    char id[PRODUCER_ID_LEN + 1];
    uint64_t next_no; /* the next number to give (>= 1) */
} cproducer_t;

struct spool_file;

/* A batch of record lines, from the queue or loaded from the spool. It is
 * numbered when first sent (no = 0 before), so numbers grow in send order;
 * a batch the server refused (nack) is numbered again when resent. */
typedef struct cbatch {
    struct cbatch *prev, *next;
    cproducer_t *prod;
    uint64_t no;
    uint32_t count;
    cbuf_t data;  /* the record lines */
    char hdr[96]; /* the header line, made when numbered */
    size_t hdr_len;
    int own;                       /* from this logger's queue: ring_* are meaningful */
    uint64_t ring_start, ring_end; /* queue positions of its records */
    uint64_t pos_last;             /* resumable shipping: position of its last record */
    struct spool_file *sf;         /* when loaded from the spool: its entry */
    uint64_t sp_off, sp_end;
    int64_t first_mono; /* building: when its first record came */
} cbatch_t;

/* An empty batch (all fields zero), owned by the caller; NULL when out of
 * memory (the library never aborts its host). */
cbatch_t *cbatch_new(void);
/* Frees b and its lines; b may be NULL. b must not be on a list. */
void cbatch_free(cbatch_t *b);

#endif
