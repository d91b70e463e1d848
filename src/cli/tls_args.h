/* tls_args.h - the TLS options every logship command shares: --ca FILE,
 * --cert FILE, --key FILE, each defaulting to its environment variable
 * ($LOGSHIP_CA, $LOGSHIP_CERT, $LOGSHIP_KEY, next to $LOGSHIP_SERVER), for
 * servers given as https://, wss:// or (send) tls://.
 *
 * A command lists CLI_TLS_LONGOPTS in its getopt_long() table, offers
 * every option to cli_tls_opt(), and once it knows its server calls
 * cli_tls_setup(): that loads the files now, so a missing or bad one is a
 * usage error before anything is sent, and checks that the flags were not
 * given for a plain http:// or tcp:// server (the variables are then
 * ignored: they may be set for another server).
 */
#ifndef LOGSHIP_CLI_TLS_ARGS_H
#define LOGSHIP_CLI_TLS_ARGS_H

#include "../common/tls_client.h"

enum { CLI_O_CA = 700, CLI_O_CERT, CLI_O_KEY };

/* the option table as written: clang-format cannot lay out this list */
// clang-format off
#define CLI_TLS_LONGOPTS                                                                           \
    {"ca", required_argument, NULL, CLI_O_CA},                                                     \
    {"cert", required_argument, NULL, CLI_O_CERT},                                                 \
    {"key", required_argument, NULL, CLI_O_KEY}
// clang-format on

#define CLI_TLS_HELP                                                                               \
    "  --ca FILE          for an https:// (wss://, tls://) server: trust the CAs in\n"             \
    "                     FILE (PEM) instead of the system's trust store (default:\n"              \
    "                     $LOGSHIP_CA). The server's certificate must also be for the\n"           \
    "                     host in the URL (a name, or an IP address); always checked\n"            \
    "  --cert FILE        present the client certificate in FILE (PEM; default:\n"                 \
    "                     $LOGSHIP_CERT)\n"                                                        \
    "  --key FILE         the private key of --cert (PEM; default: $LOGSHIP_KEY, else\n"           \
    "                     in the --cert file)\n"

typedef struct cli_tls {
    const char *ca, *cert, *key; /* flags (after cli_tls_setup: or the variables) */
    int flags;                   /* any flag given */
} cli_tls_t;

/* Takes option c (getopt_long's return) with its argument: 1 when it was
 * a TLS option, 0 when not. */
int cli_tls_opt(cli_tls_t *t, int c, const char *arg);

/* 1 when the URL's scheme is https://, wss:// or tls:// (any case). */
int cli_tls_url(const char *url);

/* After the options, for server: fills in the variables, and for a TLS
 * server makes the context into *ctx (the caller frees it with
 * SSL_CTX_free()); *ctx is NULL for a plain server. Returns 0, or
 * CLI_EXIT_USAGE after saying what is wrong ("logship query: --ca
 * 'x.pem': No such file or directory"). */
int cli_tls_setup(cli_tls_t *t, const char *cmd, const char *server, SSL_CTX **ctx);

/* The settings as tls_client.h takes them (valid while t is). */
tls_client_opts_t cli_tls_client_opts(const cli_tls_t *t);

#endif
