/* outstate.h - what the AMQP output keeps in the data directory: the node
 * id its message ids start with, and the seq up to which the broker has
 * confirmed every record.
 *
 *   DIR/node-id             32 lowercase hex digits and a newline: random,
 *                           made once, never changed (the store has no id
 *                           of its own)
 *   DIR/amqp-out.confirmed  "confirmed SEQ\n": every record up to SEQ is
 *                           confirmed by the broker (or needed no message)
 *
 * Both are written whole to a temporary file, fdatasynced, renamed over the
 * old one and the directory synced, so a crash at any point leaves the old
 * contents or the new, never a mix. The parsers are pure (bytes in, a value
 * out, fuzzed by tests/fuzz/fuzz_amqp_state.c); load and save do the I/O.
 * Any thread, one caller at a time per directory.
 */
#ifndef LOGSHIP_AMQP_OUTSTATE_H
#define LOGSHIP_AMQP_OUTSTATE_H

#include <stddef.h>
#include <stdint.h>

#define NODE_ID_LEN 32

/* "confirmed SEQ" with an optional final newline; SEQ decimal, no sign, at
 * most 20 digits, fitting 64 bits. Returns 0, or -1 with *why. */
int outstate_parse_confirmed(const char *p, size_t n, uint64_t *seq, const char **why);
/* NODE_ID_LEN lowercase hex digits with an optional final newline, into
 * out (NODE_ID_LEN + 1 bytes with the NUL). Returns 0, or -1 with *why. */
int outstate_parse_node_id(const char *p, size_t n, char *out, const char **why);

/* Reads DIR/node-id, making it first when there is none, and
 * DIR/amqp-out.confirmed (0 when there is none yet). Returns 0, or -1 with
 * err filled (a file that does not parse, or cannot be read or made). */
int outstate_load(const char *dir, char *node_id, uint64_t *confirmed, char *err, size_t errcap);
/* Replaces DIR/amqp-out.confirmed with seq. Returns 0 or -errno. */
int outstate_save_confirmed(const char *dir, uint64_t seq);

#endif
