/* topic.c - AMQP-style topic matching: see topic.h.
 *
 * DESIGN
 *
 * A pattern of m words is a little automaton over topic words with states
 * 0..m: state i means "the first i pattern words have matched so far", and
 * m accepts. Reading a topic word w, a state i moves to i + 1 when pattern
 * word i is "*" or the literal w, and a state at "#" also stays where it is
 * (it swallows w); a state at "#" is at the same time the state after it
 * ("#" may match zero words). Matching keeps the set of live states, not
 * one guess to backtrack from, so every topic word is read exactly once.
 *
 * With at most 32 pattern words the set is one uint64_t and a step is a few
 * bit operations (the Shift-And idea, lifted from characters to words):
 *
 *     next  = ((d & (star | at(w))) << 1) | (d & hash)
 *     d     = next | ((next & hash) << 1)
 *
 * where at(w) is the set of positions holding the literal w, found with one
 * lookup in the pattern's table of distinct literals (keyed by a hash of the
 * word, computed once per topic word for all patterns). Runs of "#" are
 * merged when compiling, so the closure needs a single shift.
 *
 * topic_match_any splits the topic once (up to 128 words at a time, all of
 * a stored record's topic) and hashes each word, then runs each of a
 * filter's patterns over those words, carrying its states to the next
 * pass; a pattern whose set empties drops out, one whose set reaches a
 * final "#" has matched whatever follows.
 *
 * Cost: O(patterns * topic words) steps, wherever the "#"s and "*"s are.
 * The backtracking matcher this replaces retried from the last "#" and
 * rescanned words as it went: O(pattern words * topic words) per pattern,
 * which made 100 subscribers with 16 patterns such as "#.a.a....z" the
 * bottleneck of ingest.
 */
#include "topic.h"

#include <string.h>

#define SLOTS 64 /* twice the most literals a pattern can have */

/* FNV-1a: short words, no setup. */
static uint32_t word_hash(const char *w, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)w[i]) * 16777619u;
    return h;
}

static void add_literal(topic_pat_t *p, const char *text, size_t off, size_t len)
{
    uint32_t h = word_hash(text + off, len);
    uint16_t tag = (uint16_t)(h >> 16);
    uint32_t bit = (uint32_t)1 << p->words;
    size_t s = h & (SLOTS - 1);
    while (p->slot[s]) {
        topic_lit_t *l = &p->lits[p->slot[s] - 1];
        if (l->tag == tag && l->len == len && memcmp(text + l->off, text + off, len) == 0) {
            l->at |= bit; /* the same word again */
            return;
        }
        s = (s + 1) & (SLOTS - 1);
    }
    p->lits[p->nlits] = (topic_lit_t){bit, tag, (uint8_t)off, (uint8_t)len};
    p->slot[s] = ++p->nlits;
}

int topic_compile(topic_pat_t *p, const char *pattern, size_t pn, const char **why)
{
    memset(p, 0, sizeof *p);
    if (pn > TOPIC_PATTERN_MAX_BYTES) {
        *why = "topic pattern longer than 255 bytes";
        return -1;
    }
    if (pn == 0)
        return 0; /* no words: matches the empty topic */
    size_t pos = 0;
    for (;;) {
        const char *dot = memchr(pattern + pos, '.', pn - pos);
        size_t end = dot ? (size_t)(dot - pattern) : pn, len = end - pos;
        int hash = len == 1 && pattern[pos] == '#';
        if (hash && p->words && (p->hash >> (p->words - 1) & 1)) {
            /* "#.#" matches what "#" does */
        } else if (p->words == TOPIC_PATTERN_MAX_WORDS) {
            *why = "topic pattern has more than 32 words";
            return -1;
        } else {
            uint64_t bit = (uint64_t)1 << p->words;
            if (hash)
                p->hash |= bit;
            else if (len == 1 && pattern[pos] == '*')
                p->star |= bit;
            else {
                add_literal(p, pattern, pos, len);
                p->lit |= bit;
            }
            p->words++;
        }
        if (!dot)
            return 0;
        pos = end + 1;
    }
}

/* memcmp(a, b, n) == 0 for the short words of topics, without a call. */
static int same_bytes(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* The positions of p holding the literal w[0..n); n = 256 stands for any
 * longer word, which no literal (at most 255 bytes) equals. */
static uint64_t literal_at(const topic_pat_t *p, const char *text, const char *w, size_t n,
                           uint32_t h)
{
    uint16_t tag = (uint16_t)(h >> 16);
    for (size_t s = h & (SLOTS - 1), probes = 0; p->slot[s] && probes < SLOTS; probes++) {
        const topic_lit_t *l = &p->lits[p->slot[s] - 1];
        if (l->tag == tag && l->len == n && same_bytes(text + l->off, w, n))
            return l->at;
        s = (s + 1) & (SLOTS - 1);
    }
    return 0;
}

/* The position of p's last word when it is "#", else 0: a state there has
 * matched whatever follows. */
static uint64_t final_hash(const topic_pat_t *p)
{
    return p->words ? p->hash & ((uint64_t)1 << (p->words - 1)) : 0;
}

/* A topic word, and its hash. len is cut to 256: no pattern word is longer
 * than 255 bytes. */
typedef struct tword {
    const char *p;
    uint32_t len, h;
} tword_t;

#define WORDS_PER_PASS 128 /* a record's topic (255 bytes) in one */

/* Splits up to WORDS_PER_PASS words of topic[*pos..tn) into w; *pos moves
 * past them, to tn + 1 after the last word. Returns how many. */
static size_t next_words(const char *topic, size_t tn, size_t *pos, tword_t *w)
{
    size_t nw = 0;
    while (*pos <= tn && nw < WORDS_PER_PASS) {
        const char *s = topic + *pos;
        const char *dot = memchr(s, '.', tn - *pos);
        size_t len = dot ? (size_t)(dot - s) : tn - *pos;
        w[nw++] = (tword_t){s, len > 255 ? 256 : (uint32_t)len, word_hash(s, len)};
        *pos += len + 1;
    }
    return nw;
}

/* Runs p from the states d over the words w[0..nw); returns the states
 * after them, or after the word that left none or reached a final "#". */
static uint64_t run(const topic_pat_t *p, const char *text, uint64_t d, const tword_t *w, size_t nw)
{
    uint64_t fin = final_hash(p);
    for (size_t k = 0; k < nw && d && !(d & fin); k++) {
        uint64_t m = d & p->star;
        if (d & p->lit)
            m |= d & literal_at(p, text, w[k].p, w[k].len, w[k].h);
        uint64_t next = (m << 1) | (d & p->hash);
        d = next | ((next & p->hash) << 1);
    }
    return d;
}

/* Up to 64 patterns over the topic, 128 words at a time: each pattern runs
 * over a pass's words while they stay in cache; one that empties drops out,
 * one at a final "#" has matched. */
static int match_some(const topic_pat_t *pats, const slice_t *texts, size_t n, const char *topic,
                      size_t tn)
{
    uint64_t d[64], live = 0;
    tword_t w[WORDS_PER_PASS];
    for (size_t i = 0; i < n; i++) {
        d[i] = 1 | ((1 & pats[i].hash) << 1);
        if (d[i] & final_hash(&pats[i]))
            return 1; /* "#" alone: anything matches */
        live |= (uint64_t)1 << i;
    }
    size_t pos = tn ? 0 : 1; /* the empty topic has no words */
    while (pos <= tn && live) {
        size_t nw = next_words(topic, tn, &pos, w);
        for (size_t i = 0; i < n; i++) {
            if (!(live >> i & 1))
                continue;
            d[i] = run(&pats[i], texts[i].p, d[i], w, nw);
            if (!d[i])
                live &= ~((uint64_t)1 << i); /* no way left to match */
            else if (d[i] & final_hash(&pats[i]))
                return 1; /* at a final "#": the rest is swallowed */
        }
    }
    for (size_t i = 0; i < n; i++)
        if (live >> i & 1 && d[i] >> pats[i].words & 1)
            return 1;
    return 0;
}

int topic_match_any(const topic_pat_t *pats, const slice_t *texts, size_t n, const char *topic,
                    size_t tn)
{
    for (size_t i = 0; i < n; i += 64)
        if (match_some(pats + i, texts + i, n - i < 64 ? n - i : 64, topic, tn))
            return 1;
    return 0;
}

int topic_match(const char *pattern, size_t pn, const char *topic, size_t tn)
{
    topic_pat_t p;
    const char *why;
    if (topic_compile(&p, pattern, pn, &why))
        return 0;
    return topic_match_any(&p, &(slice_t){pattern, pn}, 1, topic, tn);
}

int topic_pattern_check(const char *pattern, size_t pn, const char **why)
{
    if (pn == 0) {
        *why = "empty topic pattern";
        return -1;
    }
    if (pn > TOPIC_PATTERN_MAX_BYTES) {
        *why = "topic pattern longer than 255 bytes";
        return -1;
    }
    size_t words = 0;
    for (size_t pos = 0;;) {
        const char *w = pattern + pos;
        const char *dot = memchr(w, '.', pn - pos);
        size_t l = dot ? (size_t)(dot - w) : pn - pos;
        if (l == 0) {
            *why = "topic pattern has an empty word";
            return -1;
        }
        if (l > 1 && (memchr(w, '*', l) || memchr(w, '#', l))) {
            *why = "'*' and '#' must be whole words in a topic pattern";
            return -1;
        }
        if (++words > TOPIC_PATTERN_MAX_WORDS) {
            *why = "topic pattern has more than 32 words";
            return -1;
        }
        if (!dot)
            return 0;
        pos += l + 1;
    }
}

int topic_set_add(topic_set_t *s, const char *pattern, size_t pn, const char **why)
{
    if (topic_pattern_check(pattern, pn, why))
        return -1;
    if (s->n == TOPIC_SET_MAX) {
        *why = "too many topic patterns (at most 16)";
        return -1;
    }
    if (topic_compile(&s->pats[s->n], pattern, pn, why))
        return -1; /* never once checked */
    s->texts[s->n++] = slice_make(pattern, pn);
    return 0;
}

int topic_set_match(const topic_set_t *s, const char *topic, size_t tn)
{
    return s->n && topic_match_any(s->pats, s->texts, s->n, topic, tn);
}

int topic_set_all(const topic_set_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->pats[i].words == 1 && (s->pats[i].hash & 1)) /* "#", or "#.#"... merged */
            return 1;
    return 0;
}
