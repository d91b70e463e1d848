/* glob.c - wildcard patterns: see glob.h. */
#define _GNU_SOURCE /* memmem */
#include "glob.h"

#include <string.h>

#include "../common/utf8.h"
#include "jstr.h"

/* The characters of a text, read forward: plain bytes, or a JSON string
 * body decoded unit by unit (pend holds the rest of a multi-byte unit).
 * Small enough to copy: a copy is a saved position. */
typedef struct src {
    const char *p, *end;
    int json;
    uint8_t npend, ipend;
    unsigned char pend[4];
} src_t;

/* The next byte, or -1 at the end. */
static inline int src_byte(src_t *s)
{
    if (s->ipend < s->npend)
        return s->pend[s->ipend++];
    if (s->p >= s->end)
        return -1;
    if (!s->json || *s->p != '\\')
        return (unsigned char)*s->p++;
    s->npend = (uint8_t)jstr_unit(&s->p, s->end, s->pend);
    s->ipend = 1;
    return s->pend[0];
}

static inline int src_at_end(const src_t *s)
{
    return s->ipend >= s->npend && s->p >= s->end;
}

/* Skips one character: a byte and the continuation bytes after it (at
 * most three; ill-formed text is read a byte at a time). 0 at the end. */
static int src_char(src_t *s)
{
    int b = src_byte(s);
    if (b < 0)
        return 0;
    int more = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : b >= 0xC0 ? 1 : 0;
    while (more--) {
        src_t save = *s;
        int c = src_byte(s);
        if (c < 0 || (c & 0xC0) != 0x80) {
            *s = save;
            break;
        }
    }
    return 1;
}

/* The pattern token at pat[i]: '*' and '?' (unescaped) are returned as
 * -'*' and -'?', a literal as its byte; *adv is its length. */
static inline int token(const char *pat, size_t i, size_t n, size_t *adv)
{
    char c = pat[i];
    *adv = 1;
    if (c == '*' || c == '?')
        return -c;
    if (c == '\\' && i + 1 < n && (pat[i + 1] == '*' || pat[i + 1] == '?' || pat[i + 1] == '\\')) {
        *adv = 2;
        return (unsigned char)pat[i + 1];
    }
    return (unsigned char)c;
}

/* The classic wildcard match: advance pattern and text together; at a
 * mismatch go back to just after the last '*' and let that star take one
 * more character. Each star only ever resumes the latest one, which is
 * enough for '*' (it matches anything), so no recursion is needed. */
static int match_general(const char *pat, size_t pn, src_t t)
{
    size_t pi = 0, star_pi = 0;
    int have_star = 0;
    src_t star_t = t;
    for (;;) {
        if (pi < pn && pat[pi] == '*') {
            while (pi < pn && pat[pi] == '*')
                pi++;
            if (pi == pn)
                return 1; /* a trailing star takes the rest */
            have_star = 1;
            star_pi = pi;
            star_t = t;
            continue;
        }
        if (pi == pn) {
            if (src_at_end(&t))
                return 1;
        } else {
            size_t adv;
            int tok = token(pat, pi, pn, &adv);
            src_t save = t;
            if (tok == -'?') {
                if (src_char(&t)) {
                    pi += adv;
                    continue;
                }
            } else if (src_byte(&t) == tok) {
                pi += adv;
                continue;
            }
            t = save;
        }
        if (!have_star || !src_char(&star_t))
            return 0;
        t = star_t;
        pi = star_pi;
    }
}

int glob_compile(glob_t *g, const char *pat, size_t n, const char **why)
{
    memset(g, 0, sizeof *g);
    if (n > GLOB_MAX_BYTES) {
        *why = "a pattern is at most 255 bytes";
        return -1;
    }
    if (utf8_valid_prefix(pat, n) != n) {
        *why = "a pattern must be valid UTF-8";
        return -1;
    }
    size_t stars = 0, lead = 0, trail = 0;
    int special = 0; /* '?' or an escape */
    for (size_t i = 0; i < n;) {
        size_t adv;
        int tok = token(pat, i, n, &adv);
        if (tok == -'*')
            stars++;
        else if (tok == -'?' || adv == 2)
            special = 1;
        i += adv;
    }
    while (lead < n && pat[lead] == '*')
        lead++;
    while (trail < n - lead && pat[n - 1 - trail] == '*') {
        /* "\*" at the end is a literal star, not a trailing one */
        size_t k = n - 1 - trail, bs = 0;
        while (k > bs && pat[k - 1 - bs] == '\\')
            bs++;
        if (bs & 1)
            break;
        trail++;
    }
    if (lead == n) {
        g->kind = n ? GLOB_ANY : GLOB_EXACT;
        return 0;
    }
    g->off = (uint16_t)lead;
    g->len = (uint16_t)(n - lead - trail);
    if (!special && stars == lead + trail) {
        /* stars only at the ends: one comparison */
        g->kind = !lead && !trail ? GLOB_EXACT
                  : !lead         ? GLOB_PREFIX
                  : !trail        ? GLOB_SUFFIX
                                  : GLOB_SUBSTR;
        return 0;
    }
    g->kind = GLOB_GENERAL;
    g->off = 0;
    g->len = (uint16_t)n;
    return 0;
}

int glob_match(const glob_t *g, const char *pat, const char *s, size_t n)
{
    if (!s)
        s = ""; /* an absent text (no host) is the empty one */
    const char *lit = pat + g->off;
    size_t ln = g->len;
    switch (g->kind) {
    case GLOB_EXACT:
        return n == ln && (!ln || memcmp(s, lit, ln) == 0);
    case GLOB_PREFIX:
        return n >= ln && memcmp(s, lit, ln) == 0;
    case GLOB_SUFFIX:
        return n >= ln && memcmp(s + n - ln, lit, ln) == 0;
    case GLOB_SUBSTR:
        return n >= ln && memmem(s, n, lit, ln) != NULL;
    case GLOB_ANY:
        return 1;
    default: {
        src_t t = {s, s + n, 0, 0, 0, {0}};
        return match_general(lit, ln, t);
    }
    }
}

int glob_match_json(const glob_t *g, const char *pat, const char *s, size_t n)
{
    if (!s)
        s = "";
    if (!n || !memchr(s, '\\', n))
        return glob_match(g, pat, s, n); /* nothing escaped: the bytes are the text */
    if (g->kind == GLOB_ANY)
        return 1;
    src_t t = {s, s + n, 1, 0, 0, {0}};
    if (g->kind == GLOB_GENERAL || g->kind == GLOB_EXACT)
        return match_general(pat + g->off, g->len, t);
    /* the literal shapes through the general matcher, with one of the
     * stars at each end where the shape has them (a run is the same) */
    size_t lead = g->kind == GLOB_SUFFIX || g->kind == GLOB_SUBSTR;
    size_t trail = g->kind == GLOB_PREFIX || g->kind == GLOB_SUBSTR;
    return match_general(pat + g->off - lead, g->len + lead + trail, t);
}
