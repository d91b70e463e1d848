/* pbwire.h - the protobuf wire format read in place (pure): fields one by
 * one, for the inputs whose shippers send protobuf (OTLP, Loki). */
#ifndef LOGSHIP_PBWIRE_H
#define LOGSHIP_PBWIRE_H

#include <stddef.h>
#include <stdint.h>

/* One field: its number and wire type, and its value (types 0, 1, 5) or
 * bytes (type 2, borrowed from the message). */
typedef struct pb_field {
    unsigned num, type;
    uint64_t v;
    const char *p;
    size_t n;
} pb_field_t;

static inline int pb_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return -1;
        unsigned b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return -1;
}

/* Reads the field at *p (before end). Returns 0, 1 at the end, or -1 when
 * the bytes are not a field (a bad key, a length past end, a group). */
static inline int pb_next(const unsigned char **p, const unsigned char *end, pb_field_t *f)
{
    uint64_t key;
    if (*p >= end)
        return 1;
    if (pb_varint(p, end, &key) || (key >> 3) == 0 || (key >> 3) > UINT32_MAX)
        return -1;
    f->num = (unsigned)(key >> 3);
    f->type = (unsigned)(key & 7);
    switch (f->type) {
    case 0:
        return pb_varint(p, end, &f->v);
    case 1:
        if (end - *p < 8)
            return -1;
        f->v = 0;
        for (int i = 7; i >= 0; i--)
            f->v = f->v << 8 | (*p)[i];
        *p += 8;
        return 0;
    case 2: {
        uint64_t len;
        if (pb_varint(p, end, &len) || len > (uint64_t)(end - *p))
            return -1;
        f->p = (const char *)*p;
        f->n = (size_t)len;
        *p += len;
        return 0;
    }
    case 5:
        if (end - *p < 4)
            return -1;
        f->v = (uint64_t)(*p)[0] | (uint64_t)(*p)[1] << 8 | (uint64_t)(*p)[2] << 16 |
               (uint64_t)(*p)[3] << 24;
        *p += 4;
        return 0;
    default:
        return -1;
    }
}

#endif
