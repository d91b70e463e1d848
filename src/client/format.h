/* format.h - the text liblogship's background thread makes from queued
 * records: the JSON line of the wire protocol (docs/PROTOCOL.md) and the
 * human line of the echo pattern (logship.h). Pure: no I/O, no globals. */
#ifndef LOGSHIP_CLIENT_FORMAT_H
#define LOGSHIP_CLIENT_FORMAT_H

#include <time.h>

#include "cbuf.h"
#include "crec.h"

/* logshipd cuts longer lines (--max-line, 64 KiB by default); a cut JSON
 * line would be stored as text, so the client keeps lines below it. */
#define FORMAT_LINE_MAX (64 * 1024 - 1)

/* What every record of a logger shares. */
typedef struct format_ctx {
    const char *app, *host, *topic; /* topic may be NULL */
    long pid;
    cbuf_t app_json; /* ,"app":.. (built by format_ctx_init; a record's own app replaces it) */
    cbuf_t tail;     /* ,"host":..,"pid":N */
    cbuf_t fields;   /* "k":"v",... of the logger's fields, no braces */
    const char *pattern;
    /* echo: the broken-down local time of the last second formatted */
    time_t tm_sec;
    struct tm tm;
} format_ctx_t;

/* Builds the shared parts; the strings are borrowed (they outlive ctx).
 * Returns 0, or -1 when out of memory. */
int format_ctx_init(format_ctx_t *c, const char *app, const char *host, const char *topic, long pid,
                    const char *const *keys, const char *const *values, size_t n,
                    const char *pattern);
void format_ctx_free(format_ctx_t *c);

/* Appends s[0..n) as a JSON string (quoted); control bytes are escaped and
 * ill-formed UTF-8 becomes U+FFFD. */
void format_json_str(cbuf_t *b, const char *s, size_t n);

/* Appends the record's JSON line, newline included, never longer than
 * FORMAT_LINE_MAX + 1 bytes (a long message is cut and the record gets
 * "msg_truncated":true in its fields). */
void format_json_line(cbuf_t *b, const crec_t *r, const format_ctx_t *c);

/* Appends the record formatted by c->pattern, and a newline. */
void format_pattern(cbuf_t *b, const crec_t *r, format_ctx_t *c);

#endif
