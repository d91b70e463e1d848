/* tail_proto.h - the client side of logshipd's tail protocol, for
 * `logship tail`: reading the server's messages and pacing reconnects.
 *
 * Every WebSocket text message from GET /api/tail or /api/files/<file> is
 * one JSON value (src/tail/tail.h, src/tail/files.h):
 *   [{record}, ...]                              records, in seq order
 *   ["line", ...]                                lines of a followed file
 *   {"type":"status","lag":N,"source":"disk"}    the tail reads from disk
 *   {"type":"gap","from":A,"to":B}               retention removed A..B
 *   {"type":"error","error":"..."}               refused; the server closes
 *   {"type":"rotated"} / {"type":"truncated"}    the followed file changed
 *   {"type":"hint","hint":"..."}                 a filter probably lacks ".#"
 * tail_proto_parse() sorts a message into one of these. A record is handed
 * back as its own JSON text, byte for byte as the server sent it (for
 * --json), with its seq (for resuming). Pure code on yajl: no I/O; any
 * thread, one message at a time per tail_proto_msg_t.
 */
#ifndef LOGSHIP_CLI_TAIL_PROTO_H
#define LOGSHIP_CLI_TAIL_PROTO_H

#include <stdint.h>

#include "../common/buf.h"

enum tail_proto_kind {
    TAIL_PROTO_BATCH,     /* an array: records and/or lines (items) */
    TAIL_PROTO_STATUS,    /* lag, source */
    TAIL_PROTO_GAP,       /* from, to */
    TAIL_PROTO_ERROR,     /* error */
    TAIL_PROTO_ROTATED,   /* the file was replaced; following the new one */
    TAIL_PROTO_TRUNCATED, /* the file shrank; reading it from its start */
    TAIL_PROTO_HINT,      /* hint: advice about the filter (nothing matched) */
    TAIL_PROTO_OTHER,     /* an object of another type: ignore it */
};

typedef struct tail_proto_item {
    int is_line; /* 1: a string (file line), 0: an object (record) */
    size_t off;  /* record: its JSON text in the parsed message;
                  * line: its decoded bytes in msg->text */
    size_t len;
    uint64_t seq; /* record: its "seq", 0 when it has none */
} tail_proto_item_t;

typedef struct tail_proto_msg {
    enum tail_proto_kind kind;
    tail_proto_item_t *items; /* BATCH only */
    size_t nitems, cap;
    uint64_t lag, from, to;      /* 0 when absent */
    slice_t source, error, hint; /* in text; SLICE_NULL when absent */
    buf_t text;                  /* decoded strings */
} tail_proto_msg_t;

void tail_proto_init(tail_proto_msg_t *m);
void tail_proto_free(tail_proto_msg_t *m);

/* Reads the message json[0..n) into m, replacing what m held. Returns 0, or
 * -1 when it is not one of the forms above (malformed JSON, a bare scalar,
 * an array holding numbers or arrays); m is then empty (a BATCH of none).
 * Record texts point into json: valid while json is. */
int tail_proto_parse(tail_proto_msg_t *m, const char *json, size_t n);

/* The text of item i of the message json that m was parsed from. */
slice_t tail_proto_item_text(const tail_proto_msg_t *m, const char *json, size_t i);

#define TAIL_BACKOFF_MIN_MS 100
#define TAIL_BACKOFF_MAX_MS 5000

/* The wait before reconnect attempt `attempt` (0 for the first after a
 * drop): TAIL_BACKOFF_MIN_MS doubling up to TAIL_BACKOFF_MAX_MS, of which a
 * random part (rnd, any uniformly random value) is shaved off, so that many
 * clients of one restarted server do not all come back at once. The result
 * is in [d/2, d] for that step's d. */
uint32_t tail_proto_backoff_ms(unsigned attempt, uint32_t rnd);

#endif
