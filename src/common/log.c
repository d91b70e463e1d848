/* log.c - server diagnostics to stderr: see log.h. */
#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static char *log_path;

/* The file takes stderr's descriptor: dup2 is atomic, so a thread logging
 * meanwhile writes to the old file or the new one, never to neither. */
static int log_attach(void)
{
    int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (fd != STDERR_FILENO) {
        if (dup2(fd, STDERR_FILENO) < 0) {
            close(fd);
            return -1;
        }
        close(fd);
    }
    return 0;
}

int log_open(const char *path)
{
    if (!path || !*path)
        return 0;
    free(log_path);
    log_path = strdup(path);
    if (!log_path)
        return -1;
    return log_attach();
}

int log_reopen(void)
{
    return log_path ? log_attach() : 0;
}

void log_close(void)
{
    free(log_path);
    log_path = NULL;
}
