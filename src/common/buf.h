/* buf.h - growable byte buffer and borrowed byte slices, used everywhere.
 *
 * A buf_t owns its bytes; a slice_t borrows them. Buffers keep their capacity
 * across buf_reset() so hot paths reuse memory instead of allocating.
 * Allocation failure aborts: the server cannot make progress without memory,
 * and every caller checking for it would hide the real logic. So liblogship,
 * which must never abort its host, does not link buf.c (it sees this header
 * only through utf8.h) and has a buffer of its own that reports failure
 * (src/client/cbuf.h); ctest client_symbols checks.
 */
#ifndef LOGSHIP_BUF_H
#define LOGSHIP_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The struct of type T whose member m is at p. */
#define container_of(p, T, m) ((T *)(void *)((char *)(p)-offsetof(T, m)))

typedef struct slice {
    const char *p;
    size_t n;
} slice_t;

#define SLICE_LIT(s) ((slice_t){(s), sizeof(s) - 1})
#define SLICE_NULL   ((slice_t){NULL, 0})

static inline slice_t slice_make(const char *p, size_t n)
{
    return (slice_t){p, n};
}

static inline slice_t slice_cstr(const char *s)
{
    return (slice_t){s, s ? strlen(s) : 0};
}

/* True when s equals the NUL-terminated c exactly. */
int slice_eq(slice_t s, const char *c);
/* Case-insensitive ASCII comparison with a NUL-terminated string. */
int slice_eq_nocase(slice_t s, const char *c);
/* Strips ASCII spaces and tabs at both ends. */
slice_t slice_trim(slice_t s);

typedef struct buf {
    char *data;
    size_t len;
    size_t cap;
} buf_t;

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Grows b so extra more bytes fit (the slow path of buf_reserve). */
char *buf_grow(buf_t *b, size_t extra);
/* Ensures room for extra more bytes; returns a pointer to data + len. */
static inline char *buf_reserve(buf_t *b, size_t extra)
{
    /* an empty buffer gets memory even for extra == 0: never NULL + 0 */
    if (b->data && b->cap - b->len >= extra)
        return b->data + b->len;
    return buf_grow(b, extra);
}
void buf_append(buf_t *b, const void *p, size_t n);
static inline void buf_putc(buf_t *b, char c)
{
    *buf_reserve(b, 1) = c;
    b->len++;
}
void buf_puts(buf_t *b, const char *s);
/* printf-style append. */
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_append_u64(buf_t *b, uint64_t v);
void buf_append_i64(buf_t *b, int64_t v);
/* Empties the buffer, keeping its capacity. */
static inline void buf_reset(buf_t *b)
{
    b->len = 0;
}
/* Drops capacity above keep bytes, so one huge request does not pin memory. */
void buf_shrink(buf_t *b, size_t keep);
/* Frees the bytes; b may be reused afterwards as an empty buffer. */
void buf_free(buf_t *b);
/* Appends a NUL without counting it in len; returns data. */
const char *buf_cstr(buf_t *b);

/* Aborts with a message: used only for allocation failure. */
void oom(size_t n) __attribute__((noreturn));
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
