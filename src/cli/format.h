/* format.h - the human form of the server's JSON records and errors, for
 * `logship` output on a terminal.
 *
 * A record such as
 *   {"seq":42,"ts":"2026-11-21T10:45:56.123456789Z","level":"info",
 *    "topic":"web.info","host":"h1","app":"web","msg":"hi"}
 * becomes, by default (FORMAT_DEFAULT), the line
 *   [2026-11-21 10:45:56] [INFO] web.info h1 web: hi
 * with the time in local time. A template (--format) says otherwise:
 * literal text and placeholders {ts} {level} {topic} {app} {host} {pid}
 * {msg} {seq} {fields} {fields.NAME}; {{ and }} are braces. {ts} is the
 * local time as above, {level} the upper-case name (coloured on a
 * terminal), {fields} the fields object as JSON, {fields.NAME} one member
 * of it (a string as its text, anything else as JSON). A member the record
 * does not have (or has as null) is shown as "-".
 *
 * Text taken from a record never reaches the terminal raw, whatever the
 * template: control characters (C0, DEL, C1) and the bidirectional
 * controls (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069) are
 * written as escapes (\n, \t, \x1b, \u009b, \u202e), so a log line can not
 * move the cursor, change colours, retitle the window or reorder the text
 * around it (an RLO would show "exe.txt" for "txt.exe"); JSON values
 * ({fields}) get the same characters as \u escapes, so they stay valid
 * JSON. Pure code on yajl: no I/O, no sockets; any thread.
 */
#ifndef LOGSHIP_CLI_FORMAT_H
#define LOGSHIP_CLI_FORMAT_H

#include "../common/buf.h"

/* Appends s[0..n) to out with every character that could drive a terminal
 * escaped (see above). Invalid UTF-8 bytes become \xNN. */
void format_escape(buf_t *out, const char *s, size_t n);

/* 1 when the code point is one format_escape() writes as \uXXXX: a C1
 * control or a bidirectional control. */
int format_is_unsafe_cp(unsigned cp);

/* Appends the JSON text json[0..n) (one NDJSON line, no newline) for a
 * terminal: the same JSON value, with every C1 and bidirectional control
 * written as a \uXXXX escape and control bytes other than tab as \u00XX
 * (between tokens, a line break, form feed or vertical tab yajl took as
 * whitespace becomes a space), so --json output on a terminal is still
 * valid JSON and still safe; an invalid UTF-8 byte becomes \ufffd. */
void format_json_safe(buf_t *out, const char *json, size_t n);

#define FORMAT_DEFAULT "[{ts}] [{level}] {topic} {host} {app}: {msg}"
#define FORMAT_PLACEHOLDERS                                                                        \
    "{ts} {level} {topic} {app} {host} {pid} {msg} {seq} {fields} {fields.NAME}"
/* The --help paragraph on output and --format that query and tail share. */
#define FORMAT_HELP                                                                                \
    "Output: one line per record, the time in local time:\n"                                       \
    "  [2026-11-21 10:45:56] [INFO] web.info host1 web: message\n"                                 \
    "that is, time, level, topic, host, app and message: the template\n"                           \
    "  " FORMAT_DEFAULT "\n"                                                                       \
    "A --format TEMPLATE is text with the placeholders\n"                                          \
    "  " FORMAT_PLACEHOLDERS "\n"                                                                  \
    "({fields} is the fields as JSON, {fields.NAME} one of them; a missing value is\n"             \
    "'-'; {{ and }} are braces), e.g. --format '{seq} {level} {fields.user}: {msg}'.\n"

/* A compiled template. */
typedef struct format_tpl format_tpl_t;

/* Compiles the template text (see above). Returns it, or NULL with a
 * one-line reason in err (errlen bytes) for an unknown placeholder (the
 * reason lists the accepted ones) or an unpaired brace. */
format_tpl_t *format_tpl_compile(const char *text, char *err, size_t errlen);
/* Frees t; NULL is fine. */
void format_tpl_free(format_tpl_t *t);

/* Appends the line for the JSON record json[0..n) by template t (NULL:
 * FORMAT_DEFAULT), newline included. color: 1 to colour the level with ANSI
 * SGR sequences (only ever for a terminal). Returns 0, or -1 when the text
 * is not a JSON object; out is then unchanged. */
int format_record(buf_t *out, const format_tpl_t *t, const char *json, size_t n, int color);

/* Appends the message of a server error body {"error":"..."}, escaped.
 * Returns 0, or -1 when the body is not such an object (out unchanged). */
int format_error(buf_t *out, const char *json, size_t n);

#endif
