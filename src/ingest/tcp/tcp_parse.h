/* tcp_parse.h - the raw TCP input protocol (pure: bytes in, records out).
 *
 * Plain mode: every line is a record, a JSON object when it starts with '{'
 * (json_parse.h mapping) and text otherwise; a line that starts with '{' but
 * is not valid JSON is stored as text with fields.parse_error.
 *
 * Acknowledged mode (docs/PROTOCOL.md): the first line of the connection is
 *   {"logship":"hello","version":1,"producer":"<id>"}
 * and then every batch is a header line followed by its records:
 *   {"logship":"batch","batch":<n>,"count":<k>}
 *   <k record lines>
 * The parser reports the hello and each complete batch; the connection glue
 * answers them. Lines longer than max_line are cut to it and flagged.
 *
 * Memory: a batch's records are kept until its last line arrives, so a
 * batch is capped twice: at most TCP_MAX_BATCH records (its header says how
 * many) and at most max_batch_bytes bytes of record lines as they arrive on
 * the wire (newlines and the rest of cut lines included). Memory grows only
 * with the bytes that came, never with the count a header announces; the
 * byte cap is checked before a byte is kept, so a batch that announces
 * 100,000 lines and sends gigabytes fails after max_batch_bytes with an
 * error, and what it sent is dropped. Its records take at most about three
 * times those bytes (invalid UTF-8 becomes U+FFFD) plus a frame header and
 * the defaults (app, topic, host) each.
 */
#ifndef LOGSHIP_TCP_PARSE_H
#define LOGSHIP_TCP_PARSE_H

#include "../../common/record.h"
#include "../json/json_parse.h"

#define TCP_MAX_BATCH           100000     /* records in one acknowledged batch */
#define TCP_BATCH_BYTES_DEFAULT (8u << 20) /* record line bytes in one batch */

typedef struct tcp_events {
    /* acknowledged mode began; producer may be "" */
    void (*hello)(void *arg, const char *producer);
    /* batch n is complete: its records are in b */
    void (*batch)(void *arg, uint64_t n, batch_t *b);
    /* the stream broke the protocol: the connection should close */
    void (*error)(void *arg, const char *why);
} tcp_events_t;

enum tcp_mode { TCP_FIRST_LINE, TCP_PLAIN, TCP_ACKED };

typedef struct tcp_session {
    enum tcp_mode mode;
    buf_t line;     /* a line split across reads */
    int discarding; /* the rest of an over-long line is skipped */
    size_t max_line;
    uint64_t batch_no; /* acknowledged mode: the batch being read */
    size_t expect;     /* its record lines still to come */
    int in_batch;
    size_t batch_bytes;     /* bytes of its record lines read so far */
    size_t max_batch_bytes; /* the cap on those (TCP_BATCH_BYTES_DEFAULT) */
    batch_t acked;          /* records of that batch */
    recbuild_t rb;
    json_parser_t *jp;
    ingest_report_t rep;
    size_t parse_errors; /* lines stored as text with parse_error */
    int failed;
} tcp_session_t;

/* max_batch_bytes may be changed after init, before the first feed. */
void tcp_session_init(tcp_session_t *s, size_t max_line);
void tcp_session_free(tcp_session_t *s);

/* Feeds bytes: plain records go to out; acknowledged batches and the hello
 * go to ev. d gives defaults (host = the peer, now). Returns 0, or -1 after
 * ev->error (then the session takes no more input). */
int tcp_feed(tcp_session_t *s, const char *p, size_t n, batch_t *out, const rec_defaults_t *d,
             const tcp_events_t *ev, void *arg);
/* End of stream: a last line without a newline is a record (plain mode). */
void tcp_finish(tcp_session_t *s, batch_t *out, const rec_defaults_t *d, const tcp_events_t *ev,
                void *arg);

#endif
