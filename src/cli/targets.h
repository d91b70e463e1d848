/* targets.h - what `logship query` and `logship tail` set up alike before
 * they ask: the servers (each --server, else $LOGSHIP_SERVER, else the
 * default), one TLS context for the https:// or wss:// ones, and the
 * compiled --format template; and how either prints a record it got.
 */
#ifndef LOGSHIP_CLI_TARGETS_H
#define LOGSHIP_CLI_TARGETS_H

#include <stddef.h>

#include "../common/buf.h"
#include "format.h"
#include "merge.h"
#include "tls_args.h"

typedef struct cli_targets {
    char servers[MERGE_SOURCES_MAX][1024]; /* base URLs, at least one */
    size_t n;
    SSL_CTX *tls;      /* NULL when no server is a TLS one */
    format_tpl_t *tpl; /* NULL without --format */
} cli_targets_t;

/* Fills t from the ngiven --server flags (0: the variable or default), the
 * TLS options and --format (NULL: none). Returns 0, or CLI_EXIT_USAGE after
 * saying what is wrong as command cmd; t then holds nothing to free. */
int cli_targets_setup(cli_targets_t *t, const char *cmd, const char *const *given, size_t ngiven,
                      cli_tls_t *tls, const char *format);

/* Frees the context and the template. */
void cli_targets_free(cli_targets_t *t);

/* How the commands print one record (its JSON line p, n) into out, which
 * is reset first: --json prints the line itself (json_safe: with what
 * would drive a terminal escaped) and a newline; otherwise the template or
 * the default text form, colored when color. */
void cli_targets_print(buf_t *out, const format_tpl_t *tpl, const char *p, size_t n, int json,
                       int json_safe, int color);

#endif
