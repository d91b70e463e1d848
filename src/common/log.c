/* log.c - server diagnostics to stderr: see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

#include "level.h"
#include "timeutil.h"

int log_threshold = LOG_INFO;

void log_msg(int level, const char *fmt, ...)
{
    if (level > log_threshold)
        return;
    char ts[RFC3339_MAX], line[2048];
    time_format_rfc3339(time_now_ns(), ts);
    ts[23] = 'Z'; /* milliseconds are enough here */
    ts[24] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* one fprintf: lines from several threads never interleave mid-line */
    fprintf(stderr, "%s logshipd %s: %s\n", ts, level_name(level), line);
}
