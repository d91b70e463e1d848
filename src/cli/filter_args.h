/* filter_args.h - the record filter options `logship query` and `logship
 * tail` share: --app, --host, --field NAME=VALUE (each repeatable) and
 * -i/--ignore-case for --grep, turned into the server's app=, host=,
 * field.NAME= and qi= parameters (src/route/filter.h).
 *
 * A command lists CLI_FILTER_LONGOPTS in its getopt_long() table and
 * CLI_FILTER_SHORTOPTS in its short options, offers every option it does
 * not know itself to cli_filter_opt(), and adds cli_filter_query() to its
 * request. Values are passed on as given: the server checks them (globs at
 * most 255 bytes, at most 16 of a kind) and says what is wrong.
 */
#ifndef LOGSHIP_CLI_FILTER_ARGS_H
#define LOGSHIP_CLI_FILTER_ARGS_H

#include <stddef.h>

#include "../common/buf.h"

#define CLI_FILTER_MAX 64 /* of each kind; the server allows 16 and says so */

enum { CLI_O_APP = 512, CLI_O_HOST, CLI_O_FIELD, CLI_O_ICASE = 'i' };

#define CLI_FILTER_SHORTOPTS "i"
/* the option table as written: clang-format cannot lay out this list */
// clang-format off
#define CLI_FILTER_LONGOPTS                                                                        \
    {"app", required_argument, NULL, CLI_O_APP},                                                   \
    {"host", required_argument, NULL, CLI_O_HOST},                                                 \
    {"field", required_argument, NULL, CLI_O_FIELD},                                               \
    {"ignore-case", no_argument, NULL, CLI_O_ICASE}
// clang-format on

#define CLI_FILTER_HELP                                                                            \
    "  -i, --ignore-case  --grep ignores case (ASCII letters: A-Z matches a-z)\n"                  \
    "  --app A            only records of app A, repeatable (any may match); A may be a\n"         \
    "                     glob: '*' any run of characters, '?' one, e.g. 'web-*'\n"                \
    "  --host H           only records from host H, repeatable; a glob like --app\n"               \
    "  --field NAME=VALUE only records whose field NAME is VALUE (a glob; numbers and\n"           \
    "                     true/false as written); dots step into nested fields\n"                  \
    "                     (user.id); repeatable: the same NAME again is an alternative,\n"         \
    "                     different NAMEs must all match\n"

typedef struct cli_filter {
    const char *apps[CLI_FILTER_MAX], *hosts[CLI_FILTER_MAX], *fields[CLI_FILTER_MAX];
    size_t napps, nhosts, nfields;
    int icase;
} cli_filter_t;

/* Takes option c (getopt_long's return) with its argument: 1 when it was a
 * filter option, 0 when not, CLI_EXIT_USAGE after saying what is wrong. */
int cli_filter_opt(cli_filter_t *f, const char *cmd, int c, const char *arg);
/* After the options: CLI_EXIT_USAGE (said) when -i came without --grep. */
int cli_filter_check(const cli_filter_t *f, const char *cmd, const char *grep);
/* 1 when any filter option was given. */
int cli_filter_any(const cli_filter_t *f);
/* Appends app=, host=, field.NAME= and grep as q= (or qi= with -i) to a
 * URL or query string: '?' before the first parameter when *first (then
 * cleared), '&' otherwise; first NULL: '?' when qs is empty. */
void cli_filter_query(const cli_filter_t *f, const char *grep, buf_t *qs, int *first);
/* Prints a server's hint ("logship: hint: ...") on stderr, escaped. */
void cli_filter_hint(const char *hint, size_t n);

#endif
