/* journal_parse.h - systemd's journal export format into records (pure:
 * a body's bytes in, as they arrive, records out), the body that
 * systemd-journal-upload POSTs to /upload (application/vnd.fdo.journal).
 *
 * An entry is fields, one per line, ended by an empty line:
 *   NAME=value\n                         text
 *   NAME\n<64-bit little-endian size><bytes>\n   binary (newlines inside)
 * Names are upper-case letters, digits and '_' (not starting with a
 * digit), at most 64 bytes.
 *
 * Mapping (docs/PROTOCOL.md):
 *   msg    MESSAGE
 *   ts     __REALTIME_TIMESTAMP (microseconds), else _SOURCE_REALTIME_TIMESTAMP
 *   level  PRIORITY (syslog severity 0..7)
 *   app    SYSLOG_IDENTIFIER > _COMM
 *   host   _HOSTNAME
 *   pid    _PID
 * and every other field into fields under its name (__CURSOR too: it says
 * where an entry is in its journal).
 *
 * An entry whose cursor the seen table (when set) says is stored already
 * is skipped and counted in duplicates.
 * An entry without MESSAGE is kept with an empty msg. A line that is not
 * a field ends the stream (the format cannot be resynchronised): the
 * entries before it are kept.
 */
#ifndef LOGSHIP_JOURNAL_PARSE_H
#define LOGSHIP_JOURNAL_PARSE_H

#include <stdint.h>

#include "../../common/record.h"

#define JOURNAL_NAME_MAX 64
#define JOURNAL_SOURCES  64 /* journals whose uploads are told apart */
#define JOURNAL_SEQID    32 /* hex digits of a cursor's seqnum id */

/* The newest entry stored of each journal that uploaded (a cursor's
 * s=<seqnum id>;i=<seqnum>), so that an entry sent again is recognised:
 * systemd-journal-upload resumes at the entry of its saved cursor, which
 * was stored already. The least recently updated source is forgotten
 * first. Updated only once entries are durable (journal_seen_update). */
typedef struct journal_seen {
    struct {
        char id[JOURNAL_SEQID + 1];
        uint64_t seqnum;
        uint64_t used; /* tick of its last update */
    } src[JOURNAL_SOURCES];
    uint64_t tick;
} journal_seen_t;

/* Records that entries of journal id up to seqnum are stored. */
void journal_seen_update(journal_seen_t *t, const char *id, uint64_t seqnum);

typedef struct journal_session {
    recbuild_t rb;
    buf_t pending;    /* an unfinished line or binary field */
    size_t max_entry; /* bytes of one entry's fields at most */
    size_t entry_bytes;
    int in_entry;
    int has_msg, app_rank;
    /* a binary field being read: its name, and bytes still to come */
    char bin_name[JOURNAL_NAME_MAX + 1];
    uint64_t bin_left;
    int state;                  /* 0 lines, 1 binary size, 2 binary data, 3 its '\n' */
    uint64_t entries;           /* entries completed */
    uint64_t duplicates;        /* of which skipped: stored already (seen) */
    const journal_seen_t *seen; /* or NULL: no check */
    /* the current entry's cursor, and the newest one added since
     * journal_take_newest() */
    char cur_id[JOURNAL_SEQID + 1];
    uint64_t cur_seq;
    int cur_has;
    char new_id[JOURNAL_SEQID + 1];
    uint64_t new_seq;
    int new_has;
    char err[160];
} journal_session_t;

/* The newest cursor of the entries added since the last call: 1 with id
 * (JOURNAL_SEQID + 1 bytes) and seqnum set, or 0 when none had one. */
int journal_take_newest(journal_session_t *s, char *id, uint64_t *seqnum);

/* max_msg bounds a record's msg, max_entry one entry. */
void journal_session_init(journal_session_t *s, size_t max_msg, size_t max_entry);
void journal_session_free(journal_session_t *s);

/* Feeds body bytes; complete entries are added to b. Returns 0, or -1
 * with s->err when the bytes are not the export format. */
int journal_feed(journal_session_t *s, const char *p, size_t n, batch_t *b,
                 const rec_defaults_t *d);
/* The body ended: an entry not ended by its empty line is added too.
 * Returns 0, or -1 with s->err when it ended inside a field. */
int journal_finish(journal_session_t *s, batch_t *b, const rec_defaults_t *d);

#endif
