/* log.h - logshipd's own diagnostics, written to stderr.
 *
 * One line per event: "2026-11-21T10:45:56.123Z logshipd info: message".
 * These are the server's messages about itself, not the records it stores.
 */
#ifndef LOGSHIP_LOG_H
#define LOGSHIP_LOG_H

enum log_level { LOG_ERROR = 3, LOG_WARN = 4, LOG_INFO = 6, LOG_DEBUG = 7 };

extern int log_threshold;

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sends stderr (these messages, and any library's) to path, appending;
 * NULL or "" keeps stderr as it is. 0, or -1 with errno. */
int log_open(const char *path);
/* Opens the file again under its name (after logrotate moved it away).
 * 0, or -1 with errno (the old file stays in use). */
int log_reopen(void);
void log_close(void);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
