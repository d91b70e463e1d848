/* record.h - the log record, its binary frame, batches of frames, and the
 * builder that input parsers use to assemble records.
 *
 * A record travels through logshipd as one binary frame, the same bytes in a
 * batch, in the memory window and on disk (docs/FORMAT.md):
 *
 *   off size field
 *     0    4 body_len     bytes after this 8-byte frame header
 *     4    4 checksum     XXH3-64 of the body, low 32 bits (set on append)
 *     8    8 seq          set on append
 *    16    8 ts           ns since the epoch (signed)
 *    24    1 level        0..7
 *    25    1 flags        RECORD_F_*
 *    26    2 topic_len
 *    28    2 app_len
 *    30    2 host_len
 *    32    2 pid_len
 *    34    4 fields_len   a JSON object text, or 0 bytes for none
 *    38    4 msg_len
 *    42      topic, app, host, pid, fields, msg bytes, back to back
 *
 * All integers are little-endian. Text is valid UTF-8 (the builder repairs).
 * Parsers build frames with seq and checksum 0; the store fills both.
 */
#ifndef LOGSHIP_RECORD_H
#define LOGSHIP_RECORD_H

#include <stdint.h>

#include "buf.h"

#define RECORD_FRAME_HDR 8   /* body_len + checksum */
#define RECORD_HEAD      42  /* frame header + fixed body fields */
#define RECORD_NAME_MAX  255 /* topic, app, host and pid are cut to this */
#define RECORD_MSG_MAX   (64u * 1024 * 1024)

#define RECORD_F_TRUNCATED 0x01 /* msg was cut to the configured limit */
#define RECORD_F_REPAIRED  0x02 /* invalid UTF-8 was replaced by U+FFFD */
#define RECORD_F_AMQP_KEY                                                                          \
    0x04                   /* from the RabbitMQ input: fields begin with its key (amqp/inbody.h) */
#define RECORD_F_META 0x80 /* store bookkeeping, not a record: seq 0 */

typedef struct record {
    uint64_t seq;
    int64_t ts;
    int level;
    unsigned flags;
    slice_t topic, app, host, pid;
    slice_t fields; /* JSON object text, or empty */
    slice_t msg;
} record_t;

/* Bytes the frame of r takes. */
size_t record_frame_size(const record_t *r);
/* Writes the frame of r to dst (record_frame_size(r) bytes); checksum 0. */
void record_encode(char *dst, const record_t *r);
/* Decodes the frame at p (n bytes available) into a view borrowing p.
 * Returns the frame size, 0 when more bytes are needed, -1 when the frame
 * is malformed (lengths do not add up). Does not verify the checksum. */
long record_decode(const char *p, size_t n, record_t *out);
/* Checksum of a frame's body: XXH3-64 of the body, low 32 bits. */
uint32_t record_checksum(const char *frame);
/* Sets seq and the checksum of a complete frame. */
void record_seal(char *frame, uint64_t seq);
/* 1 when the frame at p (n bytes available) is whole, well-formed and its
 * checksum matches; *size is then its size. */
int record_verify(const char *p, size_t n, size_t *size);
/* Appends the record as the API's JSON object. */
void record_to_json(buf_t *b, const record_t *r);

static inline uint32_t rd32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline uint64_t rd64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static inline void wr32(char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}
static inline void wr64(char *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* Accessors for the fixed part of a frame (the layout above): the one place
 * its offsets are spelled out. */
#define RECORD_OFF_SEQ   8
#define RECORD_OFF_TS    16
#define RECORD_OFF_LEVEL 24
#define RECORD_OFF_FLAGS 25
static inline size_t frame_size(const char *f)
{
    return (size_t)rd32(f) + RECORD_FRAME_HDR;
}
static inline uint64_t frame_seq(const char *f)
{
    return rd64(f + RECORD_OFF_SEQ);
}
static inline int64_t frame_ts(const char *f)
{
    return (int64_t)rd64(f + RECORD_OFF_TS);
}
static inline int frame_level(const char *f)
{
    return (unsigned char)f[RECORD_OFF_LEVEL] & 7;
}
static inline unsigned frame_flags(const char *f)
{
    return (unsigned char)f[RECORD_OFF_FLAGS];
}
static inline void frame_add_flags(char *f, unsigned flags)
{
    f[RECORD_OFF_FLAGS] = (char)(frame_flags(f) | flags);
}
/* The frame after f (frames lie back to back in batches and segments). */
static inline const char *frame_next(const char *f)
{
    return f + frame_size(f);
}

/* A batch: frames back to back, built by one parse, appended as one. */
typedef struct batch {
    buf_t frames;
    size_t count;
    size_t repaired;       /* records that had invalid UTF-8 replaced */
    size_t truncated;      /* records whose msg was cut */
    size_t unknown_levels; /* records whose level was not one we know (kept in fields.level_raw) */
} batch_t;

void batch_reset(batch_t *b);
void batch_free(batch_t *b);
void batch_add(batch_t *b, const record_t *r);
/* Drops frames from position mark (a frames.len) on, count becoming count. */
void batch_truncate(batch_t *b, size_t mark, size_t count);

/* Defaults applied to fields an input did not set. */
typedef struct rec_defaults {
    slice_t app;   /* "default" when empty */
    slice_t topic; /* "<app>.<level>" when empty */
    slice_t host;
    int level;   /* LEVEL_INFO when < 0 */
    int64_t now; /* ts when the input gave none */
} rec_defaults_t;

enum rec_field { RF_TOPIC, RF_APP, RF_HOST, RF_PID, RF_MSG, RF_COUNT };

/* Collects one record's parts in any order, then encodes it into a batch.
 * Reused across records: recbuild_reset() keeps the memory. */
typedef struct recbuild {
    buf_t scratch;
    size_t off[RF_COUNT], len[RF_COUNT];
    unsigned set; /* bit per enum rec_field */
    buf_t fields; /* "{...": open JSON object text, empty when none */
    int64_t ts;
    int has_ts;
    int level;         /* -1 unset */
    int level_unknown; /* a level was given that no name or number maps to */
    unsigned flags;
    size_t max_msg;
} recbuild_t;

void recbuild_init(recbuild_t *rb, size_t max_msg);
void recbuild_reset(recbuild_t *rb);
void recbuild_free(recbuild_t *rb);
/* Sets a text field, repairing UTF-8 and cutting to its limit. */
void recbuild_set(recbuild_t *rb, enum rec_field f, const char *s, size_t n);
static inline int recbuild_has(const recbuild_t *rb, enum rec_field f)
{
    return (rb->set >> f) & 1;
}
/* Starts a field "key": in the fields object; follow with one value call. */
void recbuild_field_key(recbuild_t *rb, const char *k, size_t kn);
void recbuild_field_str(recbuild_t *rb, const char *s, size_t n);
/* A JSON literal (number, true, false, null, or a whole JSON value). */
void recbuild_field_raw(recbuild_t *rb, const char *s, size_t n);
/* Completes the record with defaults and adds it to the batch. */
void recbuild_finish(recbuild_t *rb, batch_t *b, const rec_defaults_t *d);

#endif
