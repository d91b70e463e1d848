/* cli.h - what the logship subcommands share: exit codes, messages, the
 * server address and the colour decision. Each subcommand is one
 * cmd_<name>(argc, argv) function, listed in main.c's command table; argv[0]
 * is the subcommand's name, so getopt_long() works on it unchanged.
 */
#ifndef LOGSHIP_CLI_H
#define LOGSHIP_CLI_H

#include <stddef.h>

#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1 /* the server is unreachable or failed */
#define CLI_EXIT_USAGE 2 /* bad arguments, or a request the server refused */

#define CLI_DEFAULT_SERVER "http://127.0.0.1:8080"

/* Prints "logship: <message>\n" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "logship <cmd>: <message>" and a pointer to --help on stderr;
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The server URL: flag (when not NULL), else $LOGSHIP_SERVER, else the
 * default; copied to buf (cap bytes) without trailing '/'. Returns buf, or
 * NULL when the URL does not fit. */
const char *cli_server(const char *flag, char *buf, size_t cap);
/* "Bearer $LOGSHIP_TOKEN" for an Authorization header (a logshipd with
 * --auth-file wants one), or NULL when LOGSHIP_TOKEN is unset or empty.
 * The token is taken from the environment, not a flag, so that it is not
 * in the process list. The string lives until the process ends. */
const char *cli_authorization(void);
/* 1 when colour may be written to fd: a terminal, and neither NO_COLOR
 * (set at all) nor TERM=dumb. */
int cli_color(int fd);

int cmd_bench(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_tail(int argc, char **argv);

#endif
