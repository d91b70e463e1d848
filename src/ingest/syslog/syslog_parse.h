/* syslog_parse.h - one syslog message into one record: RFC 5424, RFC 3164 and
 * the bare "<PRI>text" of Python's SysLogHandler. A pure parser (bytes in,
 * records out, no sockets); syslog_conn.c feeds it datagrams and the frames of
 * syslog_frame.h.
 *
 * Detection, per message, after a valid <PRI>:
 *   1. "1 " followed by "-" or "DDDD-" (a nil or RFC 3339 TIMESTAMP): RFC 5424.
 *   2. "Mmm dd hh:mm:ss" (month "Jan".."Dec" as written; day "dd", " d" or
 *      "d"; optional ".fraction"), or an RFC 3339 time (rsyslog's
 *      RSYSLOG_ForwardFormat; or without a zone, "2026-01-01T00:00:00" as
 *      syslog-ng's loggen sends it, taken in local time as rsyslog does),
 *      then a space or the end: RFC 3164. After the
 *      time and one space:
 *      - a token that ends in ':' or holds '[' is the TAG (no HOSTNAME);
 *      - else a token of letters, digits, '.', '-', '_' (or an IPv6 address,
 *        two or more ':') followed by a space is the HOSTNAME, and a TAG may
 *        follow it;
 *      - else (or when the TAG does not parse) the rest is content.
 *      A TAG is 1..48 printable ASCII bytes but '[', ']', ':', then an
 *      optional "[pid]" (1..128 bytes), then ':' before a space or the end, or
 *      (with a [pid]) just a space or the end.
 *   3. Anything else: bare text, with an optional leading "tag: " /
 *      "tag[pid]: " (tag of [A-Za-z0-9_./-], 1..48 bytes; so "<11>Error: disk
 *      full" gets app "Error"). Anything else is all msg.
 *
 * Record mapping:
 *   level  = severity (PRI % 8)
 *   topic  = "<facility>.<level>" ("kern.crit", "local3.info")
 *   app    = APP-NAME / TAG without [pid]; unset (so d->app or "default")
 *            when the message has none
 *   pid    = PROCID / the [pid]
 *   host   = HOSTNAME / HOST, else d->host
 *   ts     = the message's timestamp, else d->now
 *   msg    = the content (RFC 5424: after SD, a leading UTF-8 BOM removed;
 *            RFC 3164 and bare: after "TAG: " (one space removed))
 *   fields = RFC 5424 only: "msgid" (when not nil), then each SD-PARAM as
 *            "<SD-ID>.<PARAM-NAME>":"<value>" (escapes \" \\ \] decoded; a
 *            backslash before any other byte is kept)
 *
 * Errors. SYSLOG_RAW (the whole text kept as msg, level notice, topic
 * "user.notice", fields {"parse_error":"<reason>"}) for:
 *   - no "<" at the start, or a bad PRI: not 1..3 digits, a leading zero
 *     other than "<0>", above 191, no ">" (also the empty message);
 *   - RFC 5424 (once detected as in 1. above): a TIMESTAMP that is neither nil
 *     nor a valid RFC 3339 time (including times outside 1677..2262), a
 *     header that ends early or has an empty field (two spaces), HOSTNAME
 *     over 255, APP-NAME over 48, PROCID over 128 or MSGID over 32 bytes, or
 *     malformed structured data (unterminated element or value, SD-ID or
 *     PARAM-NAME empty or over 32 bytes, no '=' or '"', no space between the
 *     SD and MSG).
 * Not errors (SYSLOG_OK):
 *   - RFC 5424 where SD is neither "-" nor "[": the rest is taken as MSG.
 *   - A BSD timestamp with a bad month name or out-of-range values ("Nov 32",
 *     "25:00:00") or an unparsable RFC 3339 time in RFC 3164 position is no
 *     timestamp: the message is bare text (msg is everything after <PRI>)
 *     with the receive time d->now.
 * An RFC 3339 time without a zone is local time (mktime, as below, with its
 * own year). RFC 3164 timestamps have no year and no zone: they are taken in the local
 * time zone (mktime, tm_isdst -1) in d->now's local year, or the year before
 * when that would be more than one day after d->now. Per thread, the
 * conversion is cached per minute, so a change of TZ shows from the next
 * uncached minute.
 *
 * d->topic and d->level are not used: syslog records always carry both.
 *
 * Thread: any; the caches are thread-local. No allocation per message beyond
 * what rb and b keep (they grow to the largest message and stay).
 */
#ifndef LOGSHIP_SYSLOG_PARSE_H
#define LOGSHIP_SYSLOG_PARSE_H

#include <stddef.h>

#include "../../common/record.h"

#define SYSLOG_PRI_MAX      191
#define SYSLOG_HOSTNAME_MAX 255
#define SYSLOG_APPNAME_MAX  48
#define SYSLOG_PROCID_MAX   128
#define SYSLOG_MSGID_MAX    32
#define SYSLOG_SDNAME_MAX   32

enum syslog_result { SYSLOG_OK = 0, SYSLOG_RAW = 1 };

/* Parses one syslog message (framing already removed; trailing NUL, LF and CR
 * bytes are stripped here too) and adds exactly one record to b.
 * d gives defaults: d->host (the sender's address, used when the message has
 * no hostname), d->now (receive time, used when the message has no usable
 * timestamp or the nil value), d->app (when it has no app name).
 * rb is scratch owned by the caller, initialised with recbuild_init(rb,
 * max_msg): a longer message text is cut on a UTF-8 boundary and the record
 * flagged RECORD_F_TRUNCATED.
 * Returns SYSLOG_OK, or SYSLOG_RAW when the message did not parse (see
 * above); the record is added either way. */
enum syslog_result syslog_parse(const char *msg, size_t n, recbuild_t *rb, batch_t *b,
                                const rec_defaults_t *d);

/* Adds the record SYSLOG_RAW stands for (above) with parse_error why, without
 * parsing: for a frame that is known not to be a syslog message (a TCP frame
 * the framer could only take as a line, syslog_frame.h). */
void syslog_raw(const char *msg, size_t n, const char *why, recbuild_t *rb, batch_t *b,
                const rec_defaults_t *d);

/* Facility name for 0..23 ("kern", "user", ..., "local7"), NULL otherwise. */
const char *syslog_facility_name(int facility);

#endif
