/* glob.h - shell-style wildcard patterns for app=, host= and field values.
 *
 * "*" matches any run of characters (none, or many, dots included), "?"
 * exactly one character (one UTF-8 sequence, not one byte); "\*", "\?" and
 * "\\" are a literal *, ? and \. A backslash before anything else is just a
 * backslash (so "C:\temp" means itself). Everything else matches itself,
 * byte for byte: matching is case-sensitive. A pattern without "*" or "?"
 * is an exact comparison.
 *
 * A pattern is compiled once (glob_compile) into a glob_t that says which
 * shape it has; the common shapes are one comparison each, the rest goes
 * through one general matcher:
 *   "web-1"   exact      memcmp
 *   "web-*"   prefix     memcmp of the start
 *   "*.lan"   suffix     memcmp of the end
 *   "*err*"   substring  memmem
 *   "*"       anything
 *   others    the general matcher: the classic iterative wildcard match
 *             (one resume point at the last "*"), O(text * pattern) steps
 *             at worst, no recursion, no allocation.
 * Like a compiled topic pattern, a glob_t holds offsets into the pattern's
 * text and no pointer: a copy stays valid next to a copy of the text.
 *
 * glob_match() reads the text as plain bytes; glob_match_json() reads it as
 * the body of a JSON string (jstr.h), comparing the decoded characters, so
 * a field value can be matched where it lies in the record's fields text.
 */
#ifndef LOGSHIP_GLOB_H
#define LOGSHIP_GLOB_H

#include <stddef.h>
#include <stdint.h>

#define GLOB_MAX_BYTES 255

enum glob_kind { GLOB_EXACT, GLOB_PREFIX, GLOB_SUFFIX, GLOB_SUBSTR, GLOB_ANY, GLOB_GENERAL };

typedef struct glob {
    uint8_t kind;      /* enum glob_kind */
    uint16_t off, len; /* the literal of EXACT, PREFIX, SUFFIX, SUBSTR; all of it for GENERAL */
} glob_t;

/* Compiles pattern[0..n) into *g. Returns 0, or -1 with *why set to a
 * static reason: longer than GLOB_MAX_BYTES, or not valid UTF-8. */
int glob_compile(glob_t *g, const char *pattern, size_t n, const char **why);

/* 1 when s[0..n) matches g, compiled from pattern (its text). */
int glob_match(const glob_t *g, const char *pattern, const char *s, size_t n);

/* 1 when the JSON string body s[0..n) (escaped, without its quotes)
 * decodes to a text that matches g. */
int glob_match_json(const glob_t *g, const char *pattern, const char *s, size_t n);

#endif
