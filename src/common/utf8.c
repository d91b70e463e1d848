/* utf8.c - UTF-8 validation: see utf8.h. Pure, and without buffers:
 * liblogship links it (utf8_repair_append, on a buf_t, is utf8_repair.c). */
#include "utf8.h"

/* Length of the well-formed sequence starting at s (1..4), or 0 when the
 * bytes at s are ill-formed; *bad is then the length of the maximal subpart
 * to replace (at least 1). Table 3-7 of the Unicode standard. */
static size_t seq_len(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t need;

    if (c < 0x80)
        return 1;
    if (c < 0xC2 || c > 0xF4) {
        *bad = 1;
        return 0;
    }
    if (c < 0xE0) {
        need = 2;
    } else if (c < 0xF0) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else {
        need = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    }
    /* second byte has the special range; the rest are 80..BF */
    size_t i = 1;
    for (; i < need; i++) {
        if (i >= n)
            break;
        unsigned char b = s[i];
        unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
        if (b < l || b > h)
            break;
    }
    if (i == need)
        return need;
    *bad = i;
    return 0;
}

size_t utf8_valid_prefix(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        /* ASCII fast path, eight bytes at a time */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, u + i, 8);
            if (w & 0x8080808080808080ULL)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t bad = 0, k = seq_len(u + i, n - i, &bad);
        if (!k)
            return i;
        i += k;
    }
    return n;
}

int utf8_next(const char *s, size_t n, size_t *len)
{
    size_t bad = 1, k = seq_len((const unsigned char *)s, n, &bad);
    *len = k ? k : bad;
    return k != 0;
}

size_t utf8_truncate(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t i = max;
    /* back up over continuation bytes to the start of the cut sequence */
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    return i;
}
