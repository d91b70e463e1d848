/* syslog_frame.h - RFC 6587 framing of a syslog TCP stream into messages.
 * Pure (bytes in, frames out); syslog_conn.c feeds it what it reads and hands
 * each frame to syslog_parse().
 *
 * The start of each frame picks its framing:
 *   - octet counting, "MSG-LEN SP MSG" with no trailer, only when the frame
 *     starts with 1..9 digits (leading zeros allowed), one SP and then '<'
 *     (the <PRI> every syslog message starts with), and MSG-LEN is 1 up to
 *     the count ceiling (syslog_frame_ceiling(): 64 x max_line, at most
 *     64 MiB, never below max_line). The '<' is the first byte of MSG.
 *     A MSG longer than max_line is delivered cut to max_line with
 *     truncated = 1 as soon as its first max_line bytes are in, and the rest
 *     of its MSG-LEN bytes are skipped, so an octet-counted stream without
 *     any LF stays in sync. The ceiling bounds what a stray "DIGITS SP <"
 *     at the start of an LF-framed line can swallow.
 *   - anything else: trailer framing. The frame ends at the first LF or NUL
 *     (Python's SysLogHandler over TCP ends frames with NUL); one CR right
 *     before an LF is removed. Empty frames ("\n\n", "\r\n", "\0") are skipped.
 *     A trailer frame that starts with a digit is one that looked like octet
 *     counting and is not ("2026-12-02 plain", "5 apples", "42", "0 <13>x",
 *     "99999999 <13>x" over the ceiling): it is delivered whole, digits
 *     included, with `unframed` set to the reason, so it can be kept and
 *     counted.
 * No input makes the stream unrecoverable: the framer never fails, and a
 * frame it cannot frame one way it frames the other.
 *
 * A frame longer than max_line is delivered cut to its first max_line bytes
 * with truncated = 1, and the rest of it is discarded (the stream stays in
 * sync): an octet-counted one by its count, a trailer frame up to its LF or
 * NUL. A cut trailer frame is delivered once more than max_line + 1 bytes of
 * it have arrived (max_line + 1 bytes may still end in CR LF and fit).
 *
 * Frames that lie entirely inside one feed are delivered as pointers into
 * that feed's data, without a copy. Only a frame split across feeds is copied
 * into the framer's buffer, which holds at most max_line + 1 bytes and is
 * allocated at the first split; the digits and SP of a frame's start that
 * have not decided its framing yet are held in `head` (SYSLOG_HEAD_MAX bytes).
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
#define SYSLOG_HEAD_MAX          (SYSLOG_COUNT_DIGITS + 1) /* digits and the SP */
#define SYSLOG_COUNT_FACTOR      64                        /* the ceiling is 64 x max_line... */
#define SYSLOG_COUNT_CEILING_MAX (64u << 20)               /* ...but at most 64 MiB */

/* Why a digit-led frame was not octet counting (the `unframed` argument). */
extern const char SYSLOG_UNFRAMED_NO_SP[];    /* digits, then not a SP */
extern const char SYSLOG_UNFRAMED_DIGITS[];   /* more than 9 digits */
extern const char SYSLOG_UNFRAMED_NO_PRI[];   /* "LEN SP" not followed by '<' */
extern const char SYSLOG_UNFRAMED_ZERO[];     /* MSG-LEN 0 */
extern const char SYSLOG_UNFRAMED_TOO_LONG[]; /* MSG-LEN over the count ceiling */

enum syslog_frame_state {
    SF_START,       /* at the first byte of a frame */
    SF_COUNT,       /* reading the digits that may be a MSG-LEN */
    SF_COUNT_SP,    /* digits and a SP read: the next byte decides */
    SF_OCTETS,      /* reading MSG bytes of an octet-counted frame */
    SF_SKIP_OCTETS, /* discarding the rest of a cut octet-counted frame */
    SF_LINE,        /* reading a trailer-framed frame */
    SF_SKIP_LINE,   /* discarding the rest of a cut trailer-framed frame */
};

typedef struct syslog_framer {
    enum syslog_frame_state state;
    size_t max_line;
    size_t ceiling;             /* the largest MSG-LEN taken as octet counting */
    size_t count;               /* the digits read in SF_COUNT, as a number */
    size_t digits;              /* digits read */
    size_t left;                /* bytes of the current octet-counted frame still to come
                                 * (delivered or skipped) */
    const char *unframed;       /* the current SF_LINE frame's reason, or NULL */
    char head[SYSLOG_HEAD_MAX]; /* undecided start bytes from earlier feeds */
    size_t hlen;
    char *buf; /* the part of a frame that arrived in earlier feeds */
    size_t len;
    size_t cap; /* max_line + 1 once allocated */
} syslog_framer_t;

/* Called for each complete frame; frame points into the input or into the
 * framer's buffer and is valid only during the call. truncated is 1 when the
 * frame was longer than max_line and was cut to max_line bytes. unframed is
 * NULL, or (a frame that starts with a digit and is not octet-counted) one
 * of the SYSLOG_UNFRAMED_* reasons. n >= 1. */
typedef void (*syslog_frame_fn)(void *arg, const char *frame, size_t n, int truncated,
                                const char *unframed);

/* The largest MSG-LEN taken as octet counting with this max_line:
 * min(64 x max_line, 64 MiB), and never less than max_line. */
size_t syslog_frame_ceiling(size_t max_line);
/* Prepares f; max_line is the longest frame delivered whole (0: the default
 * above). Allocates nothing. */
void syslog_framer_init(syslog_framer_t *f, size_t max_line);
/* Frees the buffer; f may be initialised again. Accepts NULL. */
void syslog_framer_free(syslog_framer_t *f);
/* Feeds bytes read from the connection, calling fn for each frame they
 * complete. Never fails. */
void syslog_framer_feed(syslog_framer_t *f, const char *data, size_t n, syslog_frame_fn fn,
                        void *arg);
/* At end of stream: delivers a pending partial frame (a last line without LF,
 * with a final CR removed; digits with no decision yet, as an unframed line;
 * or an octet-counted frame whose data ended early, flagged truncated) and
 * resets f for a new stream. */
void syslog_framer_finish(syslog_framer_t *f, syslog_frame_fn fn, void *arg);

#endif
