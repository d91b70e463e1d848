/* token.c - words of messages and fields: see token.h. */
#include "token.h"

#include <xxhash.h>

int token_next(const char *p, size_t n, size_t *pos, int json, size_t *start, size_t *len)
{
    size_t i = *pos;
    for (;;) {
        while (i < n && !token_byte((unsigned char)p[i])) {
            if (json && p[i] == '\\' && i + 1 < n) {
                i += p[i + 1] == 'u' ? 6 : 2; /* \uXXXX, or \n \" \\ ... */
                continue;
            }
            i++;
        }
        if (i >= n) {
            *pos = n;
            return 0;
        }
        size_t s = i;
        while (i < n && token_byte((unsigned char)p[i]))
            i++;
        *start = s;
        *len = i - s;
        *pos = i;
        return 1;
    }
}

uint64_t token_hash(const char *p, size_t n)
{
    unsigned char b[TOKEN_HASH_MAX];
    size_t m = n < TOKEN_HASH_MAX ? n : TOKEN_HASH_MAX;
    for (size_t i = 0; i < m; i++)
        b[i] = token_fold((unsigned char)p[i]);
    return XXH3_64bits(b, m);
}

int token_eq(const char *w, size_t wn, const char *p, size_t n)
{
    if (wn != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (token_fold((unsigned char)w[i]) != token_fold((unsigned char)p[i]))
            return 0;
    return 1;
}

int token_contains(const char *p, size_t n, int json, const char *w, size_t wn)
{
    size_t pos = 0, s, l;
    while (token_next(p, n, &pos, json, &s, &l))
        if (token_eq(w, wn, p + s, l))
            return 1;
    return 0;
}
