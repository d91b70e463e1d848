/* topic.h - topic patterns with AMQP topic-exchange rules.
 *
 * A topic is words separated by dots ("kern.crit", "web.api.error"). In a
 * pattern, "*" matches exactly one word and "#" matches zero or more words:
 * "kern.*", "*.crit", "web.#", "#". Matching is on whole words: "web*" is a
 * literal word, not a prefix. The empty topic has zero words.
 */
#ifndef LOGSHIP_TOPIC_H
#define LOGSHIP_TOPIC_H

#include <stddef.h>

/* 1 when topic[0..tn) matches pattern[0..pn), else 0. Runs in
 * O(words(pattern) * words(topic)) time, never recursing. */
int topic_match(const char *pattern, size_t pn, const char *topic, size_t tn);

/* 0 when pattern is usable: at most 255 bytes, no empty words, and "*" or
 * "#" never mixed with other characters in a word; -1 otherwise, with *why
 * set to a static reason. */
int topic_pattern_check(const char *pattern, size_t pn, const char **why);

#endif
