/* crec.h - a record as a log call leaves it in the queue (queue.h slot
 * bodies), and how the background thread reads it back.
 *
 * Body layout (native endianness: producer and consumer are one process):
 *   crec_head_t, then msg_len bytes of message, topic_len bytes of topic,
 *   app_len bytes of app (a per-record app, logship_record_t.app), and
 *   nfields fields, each a u16 key length, a u32 value length, the key
 *   and the value (unaligned; read with memcpy).
 */
#ifndef LOGSHIP_CLIENT_CREC_H
#define LOGSHIP_CLIENT_CREC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "queue.h"

#define CREC_F_CUT 1 /* the message was cut to max_msg_bytes */

typedef struct crec_head {
    int64_t ts;   /* ns since the epoch */
    uint64_t pos; /* resumable shipping: the caller's position */
    uint32_t msg_len;
    uint32_t fields_len; /* bytes of the field encoding */
    uint16_t topic_len;
    uint16_t nfields;
    uint8_t level;
    uint8_t flags;
    uint16_t app_len; /* 0: the logger's app */
} crec_head_t;

#define CREC_APP_MAX 255

#define CREC_FIELD_HDR 6 /* u16 key length + u32 value length */

/* A record read back from a copied slot. Pointers borrow the slot. */
typedef struct crec {
    int64_t ts;
    uint64_t pos;
    int level;
    int flags;
    const char *msg;
    size_t msg_len;
    const char *topic; /* NULL when none */
    size_t topic_len;
    const char *app; /* NULL: the logger's */
    size_t app_len;
    const char *fields; /* the encoded fields (crec_field_next) */
    size_t fields_len;
    size_t nfields;
} crec_t;

/* Reads the slot at p (a copy made by queue_take()/queue_peek()); returns
 * the slot size. */
static inline size_t crec_read(const char *p, crec_t *r)
{
    uint32_t size; /* a private copy: a plain read of the size word */
    memcpy(&size, p, sizeof size);
    crec_head_t h;
    memcpy(&h, p + QUEUE_SLOT_HDR, sizeof h);
    const char *b = p + QUEUE_SLOT_HDR + sizeof h;
    r->ts = h.ts;
    r->pos = h.pos;
    r->level = h.level;
    r->flags = h.flags;
    r->msg = b;
    r->msg_len = h.msg_len;
    b += h.msg_len;
    r->topic = h.topic_len ? b : NULL;
    r->topic_len = h.topic_len;
    b += h.topic_len;
    r->app = h.app_len ? b : NULL;
    r->app_len = h.app_len;
    b += h.app_len;
    r->fields = b;
    r->fields_len = h.fields_len;
    r->nfields = h.nfields;
    return size;
}

/* Iterates fields: *p starts at r->fields; returns 0 at the end. */
static inline int crec_field_next(const char **p, const char *end, const char **k, size_t *kn,
                                  const char **v, size_t *vn)
{
    if (*p + CREC_FIELD_HDR > end)
        return 0;
    uint16_t a;
    uint32_t b;
    memcpy(&a, *p, 2);
    memcpy(&b, *p + 2, 4);
    *k = *p + CREC_FIELD_HDR;
    *kn = a;
    *v = *k + a;
    *vn = b;
    *p = *v + b;
    return 1;
}

#endif
