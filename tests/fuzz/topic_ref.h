/* topic_ref.h - the plain reference for topic matching (src/route/topic.c),
 * shared by the unit test and the fuzz driver: M(i, j) says pattern words
 * i.. match topic words j.., filled from the end, O(words * words) memory.
 * Words are what topic.c sees: none for the empty string, else one more
 * than the dots. */
#ifndef LOGSHIP_TOPIC_REF_H
#define LOGSHIP_TOPIC_REF_H

#include <stdlib.h>
#include <string.h>

typedef struct ref_words {
    const char **w;
    size_t *n;
    size_t count;
} ref_words_t;

static void ref_split(const char *s, size_t len, ref_words_t *out)
{
    size_t start = 0, dots = 0;
    for (size_t i = 0; i < len; i++)
        dots += s[i] == '.';
    out->w = malloc((dots + 1) * sizeof *out->w);
    out->n = malloc((dots + 1) * sizeof *out->n);
    out->count = 0;
    if (!out->w || !out->n)
        abort();
    if (!len)
        return;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            out->w[out->count] = s + start;
            out->n[out->count++] = i - start;
            start = i + 1;
        }
    }
}

static int topic_ref_match(const char *pattern, size_t pn, const char *topic, size_t tn)
{
    ref_words_t p, t;
    ref_split(pattern, pn, &p);
    ref_split(topic, tn, &t);
    size_t cols = t.count + 1;
    unsigned char *m = malloc((p.count + 1) * cols);
    if (!m)
        abort();
#define M(i, j) m[(i)*cols + (j)]
    for (size_t i = p.count + 1; i-- > 0;) {
        for (size_t j = t.count + 1; j-- > 0;) {
            if (i == p.count) {
                M(i, j) = j == t.count;
                continue;
            }
            int hash = p.n[i] == 1 && p.w[i][0] == '#';
            int star = p.n[i] == 1 && p.w[i][0] == '*';
            if (hash)
                M(i, j) = M(i + 1, j) || (j < t.count && M(i, j + 1));
            else
                M(i, j) = j < t.count &&
                          (star || (p.n[i] == t.n[j] && memcmp(p.w[i], t.w[j], p.n[i]) == 0)) &&
                          M(i + 1, j + 1);
        }
    }
    int r = M(0, 0);
#undef M
    free(m);
    free(p.w);
    free(p.n);
    free(t.w);
    free(t.n);
    return r;
}

#endif
