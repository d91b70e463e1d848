/* regex.h - re= : PCRE2 (Debian's libpcre2-8) regular expressions over
 * messages, bounded in the work one match may take.
 *
 * A pattern is compiled once per query (UTF mode, JIT when the library
 * has it) by regex_create(); matching (regex_match) is pure and
 * thread-safe: each thread keeps one match-data block for its matches
 * (a thread-local allocated on its first match, a pool thread's for its
 * life), so nothing is allocated per record. Every match runs under
 * REGEX_MATCH_LIMIT backtracking steps and REGEX_DEPTH_LIMIT of depth: a
 * pattern that would take longer on a message (catastrophic backtracking)
 * does not match it, and regex_limited() counts such messages.
 */
#ifndef LOGSHIP_REGEX_H
#define LOGSHIP_REGEX_H

#include <stddef.h>
#include <stdint.h>

#define REGEX_MATCH_LIMIT 1000000
#define REGEX_DEPTH_LIMIT 10000

/* Compiles p[0..n). Returns it (the caller owns it: regex_destroy), or
 * NULL with a message in err[0..cap) ("bad re: missing ) at 3"). */
struct regex *regex_create(const char *p, size_t n, char *err, size_t cap);
void regex_destroy(struct regex *re);
/* 1 when re finds a match in s[0..n), 0 when not or over the limits. */
int regex_match(const struct regex *re, const char *s, size_t n);
/* Messages given up on at the limits, since start (all regexes). */
uint64_t regex_limited(void);

#endif
