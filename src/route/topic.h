/* topic.h - topic patterns with AMQP topic-exchange rules.
 *
 * A topic is words separated by dots ("kern.crit", "web.api.error"). In a
 * pattern, "*" matches exactly one word and "#" matches zero or more words:
 * "kern.*", "*.crit", "web.#", "#". Matching is on whole words: "web*" is a
 * literal word, not a prefix. The empty topic has zero words.
 *
 * A pattern is compiled once (topic_compile) into a topic_pat_t: a few bit
 * masks and a small hash table of its literal words. Matching a topic then
 * reads the topic once, word by word, whatever the pattern: see topic.c.
 *
 * Limits, for a subscriber's or a query's pattern (topic_pattern_check): at
 * most TOPIC_PATTERN_MAX_BYTES bytes and TOPIC_PATTERN_MAX_WORDS words.
 *
 * A topic set (topic_set_t) is a few compiled patterns kept together, the
 * topics a token may write and see (src/auth/): a topic is in the set when
 * it matches one of them. Like a compiled pattern it borrows its texts.
 */
#ifndef LOGSHIP_TOPIC_H
#define LOGSHIP_TOPIC_H

#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"

#define TOPIC_PATTERN_MAX_BYTES 255
#define TOPIC_PATTERN_MAX_WORDS 32

/* A distinct literal word of a pattern. */
typedef struct topic_lit {
    uint32_t at;      /* the positions holding it: bit i is word i */
    uint16_t tag;     /* its hash's high bits */
    uint8_t off, len; /* its bytes in the pattern's text */
} topic_lit_t;

/* A compiled pattern. It holds no pointer, only offsets into the pattern's
 * text: a copy stays valid next to a copy of the text. Runs of "#" are
 * merged ("#.#" is "#"), so words counts what is left. */
typedef struct topic_pat {
    uint64_t hash, star, lit; /* positions of "#", "*" and literal words */
    uint8_t words, nlits;
    uint8_t slot[64]; /* literal word hash -> 1 + index in lits; 0: free */
    topic_lit_t lits[TOPIC_PATTERN_MAX_WORDS];
} topic_pat_t;

/* Compiles pattern[0..pn) into *p. Returns 0, or -1 with *why set to a
 * static reason when it is longer than TOPIC_PATTERN_MAX_BYTES or has more
 * than TOPIC_PATTERN_MAX_WORDS words once runs of "#" are merged. Any
 * pattern topic_pattern_check accepts compiles. */
int topic_compile(topic_pat_t *p, const char *pattern, size_t pn, const char **why);

/* 1 when topic[0..tn) matches one of the n compiled patterns pats[i], whose
 * texts are texts[i]; else 0. O(n * words(topic)) steps of a few bit
 * operations and at most one hash lookup each; never recursing, never
 * backtracking. */
int topic_match_any(const topic_pat_t *pats, const slice_t *texts, size_t n, const char *topic,
                    size_t tn);

#define TOPIC_SET_MAX 16

/* Patterns, any of which a topic may match. texts[i] is borrowed (pats[i]
 * refers to it by offset: copying the set and pointing texts at copies of
 * the same bytes keeps it valid). */
typedef struct topic_set {
    slice_t texts[TOPIC_SET_MAX];
    topic_pat_t pats[TOPIC_SET_MAX];
    size_t n;
} topic_set_t;

/* Adds pattern[0..pn) (borrowed) to s. Returns 0, or -1 with *why set to a
 * static reason: a pattern topic_pattern_check refuses, or the set already
 * holds TOPIC_SET_MAX. */
int topic_set_add(topic_set_t *s, const char *pattern, size_t pn, const char **why);
/* 1 when topic[0..tn) matches one of s's patterns; 0 for an empty set. */
int topic_set_match(const topic_set_t *s, const char *topic, size_t tn);
/* 1 when s holds "#": every topic is in it. */
int topic_set_all(const topic_set_t *s);

/* 1 when topic[0..tn) matches pattern[0..pn), else 0: compiles and matches.
 * A pattern topic_compile refuses matches nothing. */
int topic_match(const char *pattern, size_t pn, const char *topic, size_t tn);

/* 0 when pattern is usable: at most TOPIC_PATTERN_MAX_BYTES bytes and
 * TOPIC_PATTERN_MAX_WORDS words, no empty words, and "*" or "#" never mixed
 * with other characters in a word; -1 otherwise, with *why set to a static
 * reason. */
int topic_pattern_check(const char *pattern, size_t pn, const char **why);

#endif
