/* utf8.h - UTF-8 validation and repair (invalid bytes become U+FFFD).
 *
 * Every message stored by logship is valid UTF-8: input paths call
 * utf8_repair_append(), which replaces each maximal ill-formed subsequence
 * with one U+FFFD, as the Unicode standard recommends (section 3.9, "U+FFFD
 * Substitution of Maximal Subparts"). Overlong forms, surrogates and code
 * points above U+10FFFF are ill-formed.
 *
 * Files: utf8.c validates, classifies and cuts (pure, no allocation: the
 * client library links it); utf8_repair.c holds utf8_repair_append(), which
 * grows a buf_t and so aborts when memory runs out, as buf.h does: the
 * server's side only.
 */
#ifndef LOGSHIP_UTF8_H
#define LOGSHIP_UTF8_H

#include "buf.h"

/* Length of the longest valid UTF-8 prefix of s[0..n). */
size_t utf8_valid_prefix(const char *s, size_t n);

/* Classifies the sequence at s[0..n), n >= 1: returns 1 when it is one
 * well-formed character of *len bytes, 0 when it is ill-formed and *len bytes
 * (the maximal subpart, at least 1) should become one U+FFFD. */
int utf8_next(const char *s, size_t n, size_t *len);

/* Appends s[0..n) to b with ill-formed sequences replaced by U+FFFD.
 * Returns the number of replacements made (0 when s was valid).
 * In utf8_repair.c: not in liblogship. */
size_t utf8_repair_append(buf_t *b, const char *s, size_t n);

/* Length of the longest prefix of s[0..n) that is at most max bytes and
 * does not end inside a multi-byte sequence (s must be valid UTF-8). */
size_t utf8_truncate(const char *s, size_t n, size_t max);

#endif
