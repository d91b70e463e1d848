/* cbuf.h - the client library's growable byte buffer. Unlike the server's
 * buf_t it never aborts: a failed allocation sets `failed`, later appends
 * are ignored, and the owner checks the flag once (the library never aborts
 * its host process). Used by the background thread only. */
#ifndef LOGSHIP_CLIENT_CBUF_H
#define LOGSHIP_CLIENT_CBUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct cbuf {
    char *data;
    size_t len, cap;
    int failed;
} cbuf_t;

#define CBUF_INIT                                                                                  \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

/* Makes room for n more bytes; returns 0, or -1 (and sets failed). */
static inline int cbuf_reserve(cbuf_t *b, size_t n)
{
    if (b->failed)
        return -1;
    if (n > SIZE_MAX - b->len) {
        b->failed = 1; /* no size_t holds it */
        return -1;
    }
    size_t need = b->len + n;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2; /* doubling past SIZE_MAX wrapped */
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

static inline void cbuf_add(cbuf_t *b, const void *p, size_t n)
{
    if (n && cbuf_reserve(b, n) == 0) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }
}

static inline void cbuf_putc(cbuf_t *b, char c)
{
    if (cbuf_reserve(b, 1) == 0)
        b->data[b->len++] = c;
}

static inline void cbuf_puts(cbuf_t *b, const char *s)
{
    cbuf_add(b, s, strlen(s));
}

static inline void cbuf_free(cbuf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

/* Appends v in decimal. */
void cbuf_u64(cbuf_t *b, unsigned long long v);
void cbuf_i64(cbuf_t *b, long long v);

#endif
