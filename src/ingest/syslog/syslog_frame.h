/* syslog_frame.h - RFC 6587 framing of a syslog TCP stream into messages.
 * Pure (bytes in, frames out); syslog_conn.c feeds it what it reads and hands
 * each frame to syslog_parse().
 *
 * The first byte of each frame picks its framing:
 *   - a digit: octet counting, "MSG-LEN SP MSG" with no trailer. MSG-LEN is
 *     1..9 digits (leading zeros allowed; 0 gives an empty frame, skipped).
 *     Anything else before the SP (a 10th digit, a letter, LF) makes the
 *     stream unrecoverable: feed returns -1.
 *   - anything else: trailer framing. The frame ends at the first LF or NUL
 *     (Python's SysLogHandler over TCP ends frames with NUL); one CR right
 *     before an LF is removed. Empty frames ("\n\n", "\r\n", "\0") are skipped.
 * A frame longer than max_line is delivered cut to its first max_line bytes
 * with truncated = 1, and the rest of it is discarded (the stream stays in
 * sync). A cut octet-counted frame is delivered as soon as max_line bytes of
 * it have arrived; a cut trailer frame once more than max_line + 1 bytes of
 * it have (max_line + 1 bytes may still end in CR LF and fit).
 *
 * Frames that lie entirely inside one feed are delivered as pointers into
 * that feed's data, without a copy. Only a frame split across feeds is copied
 * into the framer's buffer, which holds at most max_line + 1 bytes and is
 * allocated at the first split.
 *
 * Which frames come out, with which bytes and flags, does not depend on how
 * the stream is split into feeds.
 *
 * Thread: a framer belongs to one connection and one thread.
 */
#ifndef LOGSHIP_SYSLOG_FRAME_H
#define LOGSHIP_SYSLOG_FRAME_H

#include <stddef.h>

#define SYSLOG_FRAME_DEFAULT_MAX 65536      /* max_line when 0 is given */
#define SYSLOG_FRAME_MAX         (1u << 30) /* larger max_line is taken as this */
#define SYSLOG_COUNT_DIGITS      9

enum syslog_frame_state {
    SF_START,       /* at the first byte of a frame */
    SF_COUNT,       /* reading MSG-LEN digits */
    SF_OCTETS,      /* reading MSG bytes of an octet-counted frame */
    SF_SKIP_OCTETS, /* discarding the rest of a cut octet-counted frame */
    SF_LINE,        /* reading a trailer-framed frame */
    SF_SKIP_LINE,   /* discarding the rest of a cut trailer-framed frame */
    SF_FAILED,      /* unrecoverable: feed returns -1 */
};

typedef struct syslog_framer {
    enum syslog_frame_state state;
    size_t max_line;
    size_t count;  /* MSG-LEN of the current octet-counted frame */
    size_t digits; /* MSG-LEN digits read */
    size_t left;   /* bytes of the current octet-counted frame still to come */
    char *buf;     /* the part of a frame that arrived in earlier feeds */
    size_t len;
    size_t cap; /* max_line + 1 once allocated */
} syslog_framer_t;

/* Called for each complete frame; frame points into the input or into the
 * framer's buffer and is valid only during the call. truncated is 1 when the
 * frame was longer than max_line and was cut to max_line bytes. n >= 1. */
typedef void (*syslog_frame_fn)(void *arg, const char *frame, size_t n, int truncated);

/* Prepares f; max_line is the longest frame delivered whole (0: the default
 * above). Allocates nothing. */
void syslog_framer_init(syslog_framer_t *f, size_t max_line);
/* Frees the buffer; f may be initialised again. Accepts NULL. */
void syslog_framer_free(syslog_framer_t *f);
/* Feeds bytes read from the connection, calling fn for each frame they
 * complete. Returns 0, or -1 when the stream is unrecoverable (an octet count
 * that is not a number: more than 9 digits or garbage); the caller then closes
 * the connection. Frames delivered before stay delivered, and every later
 * feed returns -1 at once. */
int syslog_framer_feed(syslog_framer_t *f, const char *data, size_t n, syslog_frame_fn fn,
                       void *arg);
/* At end of stream: delivers a pending partial frame (a last line without LF,
 * with a final CR removed, or an octet-counted frame whose data ended early,
 * flagged truncated) and resets f for a new stream. Nothing after a failure. */
void syslog_framer_finish(syslog_framer_t *f, syslog_frame_fn fn, void *arg);

#endif
