/* gelf_chunk.h - reassembly of chunked GELF datagrams (pure: datagrams
 * and a clock in, whole messages out).
 *
 * A chunk is 0x1e 0x0f, an 8-byte message id, its sequence number and the
 * message's chunk count (1..128), then its part of the message. Parts may
 * arrive in any order; a part already held is ignored.
 *
 * Bounded in memory and time (Graylog's rules): at most GELF_PENDING
 * messages and GELF_PENDING_BYTES of parts are held at once (a chunk that
 * would pass either is dropped, with the message it belongs to), and a
 * message not complete GELF_CHUNK_TIMEOUT_NS after its first chunk is
 * dropped. Dropped messages are counted, never delivered half.
 *
 * Invariants:
 *   C1. held == the sum of the parts' sizes in the slots in use, and
 *       held <= GELF_PENDING_BYTES.
 *   C2. A slot in use has 1 <= got < count <= GELF_MAX_CHUNKS parts.
 */
#ifndef LOGSHIP_GELF_CHUNK_H
#define LOGSHIP_GELF_CHUNK_H

#include <stdint.h>

#include "../../common/buf.h"

#define GELF_MAX_CHUNKS       128
#define GELF_PENDING          256
#define GELF_PENDING_BYTES    (32u << 20)
#define GELF_CHUNK_TIMEOUT_NS (5LL * 1000000000)

typedef struct gelf_slot {
    uint64_t id;
    int64_t first_ns; /* when its first chunk came */
    int used;
    unsigned count, got;
    uint32_t off[GELF_MAX_CHUNKS], len[GELF_MAX_CHUNKS];
    uint8_t have[GELF_MAX_CHUNKS];
    buf_t data; /* parts as they came, kept across uses */
} gelf_slot_t;

typedef struct gelf_chunks {
    gelf_slot_t slot[GELF_PENDING];
    size_t used;
    size_t held;                           /* bytes of parts held (C1) */
    uint64_t expired, overflowed, invalid; /* messages dropped, chunks refused */
} gelf_chunks_t;

/* 1 when a datagram is a GELF chunk (by its magic). */
int gelf_is_chunk(const char *p, size_t n);

enum gelf_chunk_result {
    GELF_CHUNK_WAIT,     /* held; more parts to come */
    GELF_CHUNK_COMPLETE, /* the whole message is in out */
    GELF_CHUNK_INVALID,  /* a malformed chunk (bad count or sequence): dropped */
    GELF_CHUNK_DROPPED,  /* over a bound: dropped with its message */
};

void gelf_chunks_init(gelf_chunks_t *t);
void gelf_chunks_free(gelf_chunks_t *t);
/* Adds one chunk (p starts with the magic) received at now_ns; first
 * drops the messages that timed out. On COMPLETE, out holds the message
 * (reset first). */
enum gelf_chunk_result gelf_chunks_add(gelf_chunks_t *t, const char *p, size_t n, int64_t now_ns,
                                       buf_t *out);
/* Drops the messages that timed out by now_ns; returns how many. */
size_t gelf_chunks_expire(gelf_chunks_t *t, int64_t now_ns);

#endif
