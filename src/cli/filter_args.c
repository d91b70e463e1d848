/* filter_args.c - the shared record filter options: see filter_args.h. */
#include "filter_args.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "format.h"
#include "http_client.h"

static int add(const char **list, size_t *n, const char *cmd, const char *opt, const char *arg)
{
    if (*n == CLI_FILTER_MAX)
        return cli_usage_error(cmd, "too many %s options", opt);
    list[(*n)++] = arg;
    return 1;
}

int cli_filter_opt(cli_filter_t *f, const char *cmd, int c, const char *arg)
{
    switch (c) {
    case CLI_O_APP:
        return add(f->apps, &f->napps, cmd, "--app", arg);
    case CLI_O_HOST:
        return add(f->hosts, &f->nhosts, cmd, "--host", arg);
    case CLI_O_FIELD: {
        const char *eq = strchr(arg, '=');
        if (!eq || eq == arg)
            return cli_usage_error(cmd, "--field takes NAME=VALUE (e.g. status=500), not '%s'",
                                   arg);
        return add(f->fields, &f->nfields, cmd, "--field", arg);
    }
    case CLI_O_ICASE:
        f->icase = 1;
        return 1;
    default:
        return 0;
    }
}

int cli_filter_check(const cli_filter_t *f, const char *cmd, const char *grep)
{
    if (f->icase && !grep)
        return cli_usage_error(cmd, "-i/--ignore-case applies to --grep, which is missing");
    return 0;
}

int cli_filter_any(const cli_filter_t *f)
{
    return f->napps || f->nhosts || f->nfields || f->icase;
}

static void sep(buf_t *qs, int *first)
{
    if (first) {
        buf_putc(qs, *first ? '?' : '&');
        *first = 0;
    } else {
        buf_putc(qs, qs->len ? '&' : '?');
    }
}

static void param(buf_t *qs, int *first, const char *key, const char *v, size_t vn)
{
    sep(qs, first);
    buf_puts(qs, key);
    buf_putc(qs, '=');
    http_url_encode(qs, v, vn);
}

void cli_filter_query(const cli_filter_t *f, const char *grep, buf_t *qs, int *first)
{
    for (size_t i = 0; i < f->napps; i++)
        param(qs, first, "app", f->apps[i], strlen(f->apps[i]));
    for (size_t i = 0; i < f->nhosts; i++)
        param(qs, first, "host", f->hosts[i], strlen(f->hosts[i]));
    for (size_t i = 0; i < f->nfields; i++) {
        const char *a = f->fields[i], *eq = strchr(a, '=');
        sep(qs, first);
        buf_puts(qs, "field.");
        http_url_encode(qs, a, (size_t)(eq - a));
        buf_putc(qs, '=');
        http_url_encode(qs, eq + 1, strlen(eq + 1));
    }
    if (grep)
        param(qs, first, f->icase ? "qi" : "q", grep, strlen(grep));
}

void cli_filter_hint(const char *hint, size_t n)
{
    buf_t b = BUF_INIT;
    format_escape(&b, hint, n > 1000 ? 1000 : n);
    fflush(stdout); /* after what stdout already holds */
    cli_error("hint: %s", buf_cstr(&b));
    buf_free(&b);
}
