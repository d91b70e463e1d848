/* tail_merge.h - `logship tail` with several --server: one child process
 * per server, each a single-server tail writing its records as JSON lines
 * to a pipe, and the parent merging the pipes by time (merge.h) into the
 * output. Processes rather than threads: ws_client.h runs one connection
 * per process (lws's settings are global), and each child keeps its own
 * reconnects and resume point exactly as a lone `logship tail` does.
 *
 * A record is printed once every other server has sent one at least as
 * new, or after TAIL_MERGE_HOLD_MS: a quiet server delays the others that
 * long at most. A child that ends (its server refused the tail, or was
 * never reachable) stops holding the others up. On a stop (SIGINT,
 * SIGTERM) the children are told to stop, what they sent is printed, and
 * the exit status is the worst of theirs; a reader that goes away ends it
 * all quietly.
 */
#ifndef LOGSHIP_CLI_TAIL_MERGE_H
#define LOGSHIP_CLI_TAIL_MERGE_H

#include <signal.h>
#include <stddef.h>

#define TAIL_MERGE_HOLD_MS 500

/* Runs in child i with stdout the pipe: returns its exit status. */
typedef int (*tail_merge_child_fn)(void *arg, size_t i);
/* Prints a merged record line: 0, 1 to stop quietly (the reader went
 * away), -1 to stop with failure (said already). */
typedef int (*tail_merge_print_fn)(void *arg, const char *line, size_t n);

/* Forks n children (2..MERGE_SOURCES_MAX) and merges their output until
 * they have all ended; *stop (set by the caller's signal handler) ends
 * them. Returns the exit status. */
int tail_merge_run(size_t n, tail_merge_child_fn child, tail_merge_print_fn print, void *arg,
                   volatile sig_atomic_t *stop);

#endif
