/* token.h - the words of a record, as word= matches them and the store's
 * per-block token filters (store/bfilter.h) index them.
 *
 * A word is a maximal run of word bytes: ASCII letters, digits and '_',
 * and every byte >= 0x80 (so UTF-8 letters stay inside words, compared
 * exactly). Everything else separates words. ASCII letters are folded to
 * lower case: "Timeout" and "TIMEOUT" are the word "timeout". In a JSON
 * text (a record's fields) a backslash escape (\n, \", \\, \uXXXX) also
 * separates words, so the words of the stored JSON are those of its
 * decoded strings (keys count as words too).
 *
 * A word's hash (token_hash) is XXH3-64 of its folded bytes, of the first
 * TOKEN_HASH_MAX of them for a longer word. Pure, any thread; nothing
 * allocates.
 */
#ifndef LOGSHIP_TOKEN_H
#define LOGSHIP_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_HASH_MAX 128

/* 1 for a byte that is part of a word. */
static inline int token_byte(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || c == '_';
}

static inline unsigned char token_fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Walks the words of p[0..n): the next word at or after *pos, as
 * [*start, *start + *len). Returns 1, or 0 when there is none left.
 * json: p is JSON text (escapes separate words). */
int token_next(const char *p, size_t n, size_t *pos, int json, size_t *start, size_t *len);

/* The hash of the word p[0..n). */
uint64_t token_hash(const char *p, size_t n);

/* 1 when the word w (folded or not) equals the word p[0..n) ignoring
 * ASCII case. */
int token_eq(const char *w, size_t wn, const char *p, size_t n);

/* 1 when w is one of the words of p[0..n). */
int token_contains(const char *p, size_t n, int json, const char *w, size_t wn);

#endif
