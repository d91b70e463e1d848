/* level.h - syslog severities 0..7 and the names and numbers that map to them.
 *
 * Canonical names: emerg alert crit error warning notice info debug.
 * Accepted aliases (any case): emergency panic, critical fatal, err,
 * warn, informational, trace, and Python's DEBUG INFO WARNING ERROR CRITICAL.
 * Numbers 0..7 are syslog severities; 10..50 are Python's levelno values
 * (10 debug, 20 info, 30 warning, 40 error, 50 critical; values between round
 * down to the nearest Python level).
 */
#ifndef LOGSHIP_LEVEL_H
#define LOGSHIP_LEVEL_H

#include <stddef.h>

enum level {
    LEVEL_EMERG = 0,
    LEVEL_ALERT = 1,
    LEVEL_CRIT = 2,
    LEVEL_ERROR = 3,
    LEVEL_WARNING = 4,
    LEVEL_NOTICE = 5,
    LEVEL_INFO = 6,
    LEVEL_DEBUG = 7,
};

/* Parses a level name, alias or decimal number. Returns 0..7, or -1. */
int level_parse(const char *s, size_t n);
/* Maps a numeric level (syslog 0..7 or Python 10..50) to 0..7, or -1. */
int level_from_number(long v);
/* Canonical lower-case name of a level 0..7 ("info"); "unknown" otherwise. */
const char *level_name(int level);
/* Upper-case name for human output ("INFO"). */
const char *level_name_upper(int level);

#endif
