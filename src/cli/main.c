/* main.c - the logship command-line tool: `logship <command> [options]`.
 *
 * Dispatches to one cmd_<name>() per subcommand through the table below;
 * adding a command is one line there and one cmd_<name>() in its own file.
 * Also the helpers every command shares (cli.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/version.h"
#include "cli.h"

static const struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"bench", "load a log server: throughput and latency percentiles", cmd_bench},
    {"query", "search the stored records", cmd_query},
    {"send", "send records (a message, stdin lines, or a followed file)", cmd_send},
    {"tail", "follow new records (or a served file) live", cmd_tail},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

void cli_error(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "logship: %s\n", msg);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "logship %s: %s\nTry 'logship %s --help'.\n", cmd, msg, cmd);
    return CLI_EXIT_USAGE;
}

const char *cli_server(const char *flag, char *buf, size_t cap)
{
    const char *s = flag;
    if (!s || !*s)
        s = getenv("LOGSHIP_SERVER");
    if (!s || !*s)
        s = CLI_DEFAULT_SERVER;
    size_t n = strlen(s);
    while (n > 1 && s[n - 1] == '/')
        n--;
    if (n >= cap)
        return NULL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

const char *cli_authorization(void)
{
    static char *value;
    const char *tok = getenv("LOGSHIP_TOKEN");
    if (!tok || !*tok)
        return NULL;
    if (!value) {
        size_t n = strlen(tok);
        value = malloc(n + 8);
        if (!value)
            return NULL;
        memcpy(value, "Bearer ", 7);
        memcpy(value + 7, tok, n + 1);
    }
    return value;
}

int cli_color(int fd)
{
    const char *term = getenv("TERM");
    return isatty(fd) && !getenv("NO_COLOR") && !(term && strcmp(term, "dumb") == 0);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: logship <command> [options]\n"
               "       logship --help | --version\n\n"
               "Talks to logshipd, the logship server.\n\nCommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\n'logship <command> --help' describes a command's options.\n\n"
            "Environment:\n"
            "  LOGSHIP_SERVER  the server of every command when --server is not given:\n"
            "                  --server wins, then LOGSHIP_SERVER, then %s.\n"
            "                  http://HOST[:PORT] or https://HOST[:PORT] (TLS) for all;\n"
            "                  send also takes tcp://HOST:PORT and tls://HOST:PORT\n"
            "  LOGSHIP_CA      for TLS servers, when --ca is not given: the CAs (PEM) to\n"
            "                  trust instead of the system's trust store\n"
            "  LOGSHIP_CERT    ... when --cert is not given: a client certificate (PEM)\n"
            "  LOGSHIP_KEY     ... its private key, when --key is not given\n"
            "  LOGSHIP_TOKEN   a token for a logshipd with --auth-file, sent as\n"
            "                  Authorization: Bearer (over HTTP and WebSocket; raw TCP\n"
            "                  has none)\n"
            "  NO_COLOR        no colours, even on a terminal\n",
            CLI_DEFAULT_SERVER);
}

static const struct command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    tzset(); /* human output shows local time */
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *arg = argv[1];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
        printf("logship %s\n", LOGSHIP_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(arg, "help") == 0 && argc >= 3 && find(argv[2])) {
        static char help_flag[] = "--help";
        char *help_argv[] = {argv[2], help_flag, NULL};
        return find(argv[2])->run(2, help_argv);
    }
    const struct command *c = find(arg);
    if (!c) {
        if (arg[0] == '-')
            cli_error("unknown option '%s'", arg);
        else
            cli_error("unknown command '%s'", arg);
        fprintf(stderr, "Try 'logship --help'.\n");
        return CLI_EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
