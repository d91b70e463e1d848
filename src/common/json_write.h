/* json_write.h - appending JSON text to a buffer: strings, numbers, records.
 *
 * json_str() takes any byte string and always produces a valid JSON string:
 * quotes, backslashes and control bytes are escaped and ill-formed UTF-8 is
 * replaced with U+FFFD, so what logship emits always parses.
 */
#ifndef LOGSHIP_JSON_WRITE_H
#define LOGSHIP_JSON_WRITE_H

#include "buf.h"

/* Appends s[0..n) as a quoted JSON string. */
void json_str(buf_t *b, const char *s, size_t n);
/* Appends s[0..n) escaped, without the surrounding quotes. */
void json_str_body(buf_t *b, const char *s, size_t n);
static inline void json_slice(buf_t *b, slice_t s)
{
    json_str(b, s.p, s.n);
}
/* Appends "key": (with the colon). */
void json_key(buf_t *b, const char *key);

#endif
