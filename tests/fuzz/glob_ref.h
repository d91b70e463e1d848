/* glob_ref.h - the plain reference for glob matching (src/route/glob.c),
 * shared by the unit test and the fuzz driver: M(i, j) says pattern bytes
 * i.. match text bytes j.., filled from the end, O(pattern * text) memory.
 * A character is what glob.c steps over: a byte and the continuation bytes
 * after it (at most three), so on valid UTF-8 one code point. */
#ifndef LOGSHIP_GLOB_REF_H
#define LOGSHIP_GLOB_REF_H

#include <stdlib.h>
#include <string.h>

static size_t ref_char_len(const unsigned char *t, size_t n, size_t j)
{
    unsigned char b = t[j];
    size_t more = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : b >= 0xC0 ? 1 : 0, k = 1;
    while (more-- && j + k < n && (t[j + k] & 0xC0) == 0x80)
        k++;
    return k;
}

static int glob_ref_match(const char *pat, size_t pn, const char *text, size_t tn)
{
    const unsigned char *t = (const unsigned char *)text;
    unsigned char *m = calloc((pn + 1) * (tn + 1), 1);
    if (!m)
        abort();
#define M(i, j) m[(i) * (tn + 1) + (j)]
    for (size_t i = pn + 1; i-- > 0;) {
        for (size_t j = tn + 1; j-- > 0;) {
            int v;
            if (i == pn) {
                v = j == tn;
            } else if (pat[i] == '*') {
                v = M(i + 1, j) || (j < tn && M(i, j + ref_char_len(t, tn, j)));
            } else if (pat[i] == '?') {
                v = j < tn && M(i + 1, j + ref_char_len(t, tn, j));
            } else {
                size_t adv = 1;
                unsigned char c = (unsigned char)pat[i];
                if (c == '\\' && i + 1 < pn &&
                    (pat[i + 1] == '*' || pat[i + 1] == '?' || pat[i + 1] == '\\')) {
                    c = (unsigned char)pat[i + 1];
                    adv = 2;
                }
                v = j < tn && t[j] == c && M(i + adv, j + 1);
            }
            M(i, j) = (unsigned char)v;
        }
    }
    int r = M(0, 0);
#undef M
    free(m);
    return r;
}

#endif
