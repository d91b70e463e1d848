/* msgpack.h - a MessagePack reader (pure, no allocation): the size of the
 * next whole value in a stream, a cursor over a value's items, and a value
 * as JSON text. For the Fluentd forward protocol.
 *
 * Our own rather than Debian's libmsgpack-c: the forward input needs to
 * know where a value ends in a TCP stream before it has all of it, and to
 * read it in place with bounded depth; msgpack-c's unpacker copies into
 * zones it allocates per value. The format is small (the spec's table of
 * first bytes) and this reader is fuzzed.
 */
#ifndef LOGSHIP_MSGPACK_H
#define LOGSHIP_MSGPACK_H

#include <stddef.h>
#include <stdint.h>

#include "../../common/buf.h"

#define MP_MAX_DEPTH 32

enum mp_type { MP_NIL, MP_BOOL, MP_INT, MP_UINT, MP_FLOAT, MP_STR, MP_BIN, MP_ARR, MP_MAP, MP_EXT };

/* One item: a scalar, or a container's head (its items follow it). */
typedef struct mp_obj {
    enum mp_type type;
    int boolean;
    int64_t i;
    uint64_t u;
    double f;
    const char *p; /* MP_STR, MP_BIN, MP_EXT: the bytes */
    uint32_t n;    /* their length; MP_ARR items, MP_MAP pairs */
    int8_t ext;    /* MP_EXT: its type */
} mp_obj_t;

/* The size of the whole value at p: > 0, 0 when more bytes are needed
 * (then *need, when not NULL, is a lower bound of its size: exact when a
 * string or binary payload is what is missing), -1 when it is malformed
 * or nested deeper than MP_MAX_DEPTH. */
long mp_value_size(const char *p, size_t n, size_t *need);

/* A cursor over bytes that hold whole values (checked by mp_value_size). */
typedef struct mp_cur {
    const char *p, *end;
} mp_cur_t;

/* Reads the next item's head. Returns 0, or -1 at the end or on bad
 * bytes. */
int mp_next(mp_cur_t *c, mp_obj_t *o);
/* Skips the rest of the value whose head o was just read. 0 or -1. */
int mp_skip_rest(mp_cur_t *c, const mp_obj_t *o);
/* Appends the value whose head o was just read as JSON (map keys that are
 * not strings are written as their JSON text in a string; bin and ext as
 * base64 strings); the cursor moves past it. 0 or -1. */
int mp_write_json(mp_cur_t *c, const mp_obj_t *o, buf_t *out);

#endif
