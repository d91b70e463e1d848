/* topic.c - AMQP-style topic matching: see topic.h.
 *
 * The matcher is the classic wildcard algorithm lifted from characters to
 * words: "*" plays the part of '?', "#" of '*'. On a mismatch it retries from
 * the most recent "#", letting it swallow one more topic word; earlier "#"s
 * never need revisiting, which bounds the work without recursion.
 */
#include "topic.h"

#include <string.h>

typedef struct cursor {
    const char *s;
    size_t n;
    size_t pos; /* start of the next word; > n when no words are left */
} cursor_t;

static void cursor_init(cursor_t *c, const char *s, size_t n)
{
    c->s = s;
    c->n = n;
    c->pos = n == 0 ? 1 : 0;
}

static int at_end(const cursor_t *c)
{
    return c->pos > c->n;
}

/* Length of the word at c->pos. */
static size_t word_len(const cursor_t *c)
{
    const char *dot = memchr(c->s + c->pos, '.', c->n - c->pos);
    return dot ? (size_t)(dot - (c->s + c->pos)) : c->n - c->pos;
}

static void advance(cursor_t *c)
{
    c->pos += word_len(c) + 1;
}

int topic_match(const char *pattern, size_t pn, const char *topic, size_t tn)
{
    cursor_t p, t, star_p, star_t;
    int have_star = 0;

    cursor_init(&p, pattern, pn);
    cursor_init(&t, topic, tn);
    star_p = p;
    star_t = t;
    for (;;) {
        if (at_end(&p) && at_end(&t))
            return 1;
        if (!at_end(&p)) {
            size_t pl = word_len(&p);
            const char *pw = p.s + p.pos;
            if (pl == 1 && pw[0] == '#') {
                /* try "#" as zero words first; remember where to resume */
                advance(&p);
                star_p = p;
                star_t = t;
                have_star = 1;
                continue;
            }
            if (!at_end(&t)) {
                size_t tl = word_len(&t);
                if ((pl == 1 && pw[0] == '*') ||
                    (pl == tl && memcmp(pw, t.s + t.pos, tl) == 0)) {
                    advance(&p);
                    advance(&t);
                    continue;
                }
            }
        }
        if (!have_star || at_end(&star_t))
            return 0;
        advance(&star_t);
        t = star_t;
        p = star_p;
    }
}

int topic_pattern_check(const char *pattern, size_t pn, const char **why)
{
    cursor_t c;

    if (pn == 0) {
        *why = "empty topic pattern";
        return -1;
    }
    if (pn > 255) {
        *why = "topic pattern longer than 255 bytes";
        return -1;
    }
    cursor_init(&c, pattern, pn);
    while (!at_end(&c)) {
        size_t l = word_len(&c);
        const char *w = c.s + c.pos;
        if (l == 0) {
            *why = "topic pattern has an empty word";
            return -1;
        }
        if (l > 1 && (memchr(w, '*', l) || memchr(w, '#', l))) {
            *why = "'*' and '#' must be whole words in a topic pattern";
            return -1;
        }
        advance(&c);
    }
    return 0;
}
