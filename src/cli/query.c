/* query.c - `logship query`: GET /api/logs on logshipd as NDJSON, printed as
 * human lines (format.c: the default line, or a --format template) or
 * passed through unchanged (--json).
 *
 * With --server given more than once, each server is asked in turn with
 * the same query, and their answers are merged by time (merge.h) before
 * anything is printed: the --limit newest of them all (or the oldest, from
 * --since), newest first with --order desc. A server that fails is named
 * and the exit status says so; the others' records are still printed.
 *
 * The server validates every filter value (level names, times, limits) and
 * answers 400 with {"error": "..."}; this command does not repeat those
 * checks, it passes the message on. The body is handled piece by piece as
 * it arrives, so a large answer streams to stdout in constant memory.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/timeutil.h"
#include "cli.h"
#include "filter_args.h"
#include "format.h"
#include "http_client.h"
#include "merge.h"
#include "targets.h"

#define ERROR_BODY_MAX (64 * 1024)
#define MAX_TOPICS     64 /* the server allows 16; it says so itself */

static const char help[] =
    "usage: logship query [options]\n"
    "\n"
    "Searches the records stored by logshipd (GET /api/logs). Without --after or\n"
    "--since it prints the newest matching records, oldest first.\n"
    "\n"
    "Options:\n"
    "  --server URL       logshipd to ask: http://HOST[:PORT], or https://HOST[:PORT]\n"
    "                     over TLS (default: $LOGSHIP_SERVER, else\n"
    "                     " CLI_DEFAULT_SERVER "). Repeatable: each server is asked\n"
    "                     and their answers merged by time (ties in the order the\n"
    "                     servers are given), --limit applying to the merged answer\n" CLI_TLS_HELP
    "  --topic P          topic pattern, repeatable (a record matching any passes):\n"
    "                     words separated by dots, '*' is one word, '#' zero or more,\n"
    "                     e.g. web.#, *.crit, kern.*\n"
    "  --level L          minimum severity: emerg alert crit error warning notice info\n"
    "                     debug (aliases such as warn, err, fatal are accepted)\n"
    "  --grep S           only records whose message contains S\n" CLI_FILTER_HELP
    "  --since T          only records at or after T: RFC 3339 (2026-11-21T10:00:00Z),\n"
    "                     epoch seconds/ms/us/ns, or an age: 30s, 15m, 2h, 7d, 1w\n"
    "  --until T          only records at or before T (same forms)\n"
    "  --after SEQ        only records after seq SEQ (to resume a previous query; one\n"
    "                     server's seqs: not with several --server)\n"
    "  -n, --limit N      at most N records (default 1000, at most 1000000)\n"
    "  --order asc|desc   oldest first (default) or newest first\n"
    "  --json             print the records as the server sends them, one JSON object\n"
    "                     per line\n"
    "  --format TEMPLATE  print each record by TEMPLATE (see Output)\n"
    "  -h, --help         show this help\n"
    "\n" FORMAT_HELP
    "Control characters in records are shown escaped (\\n, \\x1b). Levels are coloured\n"
    "when stdout is a terminal, unless NO_COLOR is set.\n"
    "\n"
    "A hint from the server (a --topic without a wildcard that finds nothing, where\n"
    "TOPIC.# would) is printed on stderr.\n"
    "\n"
    "Exit status: 0 success; 1 server unreachable or failing; 2 bad arguments or a\n"
    "query the server refused (its message is printed).\n";

typedef struct opts {
    const char *servers[MERGE_SOURCES_MAX];
    size_t nservers;
    const char *topics[MAX_TOPICS];
    size_t ntopics;
    const char *level, *grep, *since, *until, *after, *limit, *order;
    int json;
    cli_filter_t filt; /* --app, --host, --field, -i */
    cli_tls_t tls;     /* --ca, --cert, --key */
    const char *format;
} opts_t;

typedef struct stream {
    int json;        /* pass the body through */
    int json_escape; /* ... with controls as \u escapes: it goes to a terminal */
    int color;
    const format_tpl_t *tpl; /* NULL: the default line */
    int status;
    buf_t line;     /* a line split across pieces */
    buf_t out;      /* formatted text of one piece */
    buf_t errbody;  /* the body of a non-200 answer */
    size_t bad;     /* lines that were not records */
    int open_line;  /* the body so far ends inside a line */
    merge_t *merge; /* several servers: lines are collected here */
    size_t src;
    int epipe;  /* stdout's reader went away */
    int werrno; /* another stdout write error */
} stream_t;

/* "15m" -> RFC 3339 of now - 15 minutes, in t (RFC3339_MAX bytes).
 * Returns 0, or -1 when s is not such an age (it is passed on as it is). */
static int age_to_time(const char *s, char *t)
{
    size_t n = strlen(s);
    int64_t v = 0, unit;
    if (n < 2 || n > 12)
        return -1;
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    switch (s[n - 1]) {
    case 's':
        unit = 1;
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    case 'w':
        unit = 7 * 86400;
        break;
    default:
        return -1;
    }
    if (v > 100LL * 366 * 86400 / unit)
        return -1; /* more than a century: let the server call it bad */
    time_format_rfc3339(time_now_ns() - v * unit * NS_PER_SEC, t);
    return 0;
}

static void add_param(buf_t *qs, const char *key, const char *value)
{
    if (!value)
        return;
    buf_putc(qs, qs->len ? '&' : '?');
    buf_puts(qs, key);
    buf_putc(qs, '=');
    http_url_encode(qs, value, strlen(value));
}

static void add_time(buf_t *qs, const char *key, const char *value)
{
    char t[RFC3339_MAX];
    add_param(qs, key, value && age_to_time(value, t) == 0 ? t : value);
}

static int emit(stream_t *s, const char *p, size_t n)
{
    if (!n)
        return 0;
    errno = 0;
    if (fwrite(p, 1, n, stdout) == n && fflush(stdout) == 0)
        return 0;
    if (errno == EPIPE)
        s->epipe = 1;
    else
        s->werrno = errno ? errno : EIO;
    return -1;
}

static void one_line(stream_t *s, const char *p, size_t n)
{
    if (n && p[n - 1] == '\r')
        n--;
    if (!n)
        return;
    if (s->merge) {
        /* printed once every server has answered; a line without a time
         * cannot be placed */
        if (merge_add(s->merge, s->src, p, n) == 0)
            return;
    } else if (s->json) {
        format_json_safe(&s->out, p, n);
        buf_putc(&s->out, '\n');
        return;
    } else if (format_record(&s->out, s->tpl, p, n, s->color) == 0) {
        return;
    }
    s->bad++;
    if (s->bad <= 3) {
        buf_t msg = BUF_INIT;
        format_escape(&msg, p, n > 200 ? 200 : n);
        cli_error("the server sent a line that is not a JSON record: %s", buf_cstr(&msg));
        buf_free(&msg);
    }
}

static int on_status(void *arg, int status)
{
    stream_t *s = arg;
    s->status = status;
    return 0;
}

static int on_body(void *arg, const char *p, size_t n)
{
    stream_t *s = arg;
    if (!n)
        return 0;
    if (s->status != 200) {
        size_t room = ERROR_BODY_MAX - s->errbody.len;
        buf_append(&s->errbody, p, n < room ? n : room);
        return 0;
    }
    s->open_line = p[n - 1] != '\n';
    if (s->json && !s->json_escape && !s->merge)
        return emit(s, p, n);
    buf_reset(&s->out);
    const char *end = p + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            buf_append(&s->line, p, (size_t)(end - p));
            break;
        }
        if (s->line.len) {
            buf_append(&s->line, p, (size_t)(nl - p));
            one_line(s, s->line.data, s->line.len);
            buf_reset(&s->line);
        } else {
            one_line(s, p, (size_t)(nl - p));
        }
        p = nl + 1;
    }
    return emit(s, s->out.data, s->out.len);
}

static int parse_args(int argc, char **argv, opts_t *o)
{
    enum { O_SERVER = 256, O_TOPIC, O_LEVEL, O_GREP, O_SINCE, O_UNTIL, O_AFTER, O_ORDER, O_JSON };
    enum { O_FORMAT = 600 }; /* apart from the others and from CLI_O_* (512 on) */
    static const struct option longopts[] = {
        {"server", required_argument, NULL, O_SERVER},
        {"topic", required_argument, NULL, O_TOPIC},
        {"level", required_argument, NULL, O_LEVEL},
        {"grep", required_argument, NULL, O_GREP},
        {"since", required_argument, NULL, O_SINCE},
        {"until", required_argument, NULL, O_UNTIL},
        {"after", required_argument, NULL, O_AFTER},
        {"limit", required_argument, NULL, 'n'},
        {"order", required_argument, NULL, O_ORDER},
        {"json", no_argument, NULL, O_JSON},
        {"format", required_argument, NULL, O_FORMAT},
        {"help", no_argument, NULL, 'h'},
        CLI_FILTER_LONGOPTS,
        CLI_TLS_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    opterr = 0; /* our own messages, in the usual form */
    optind = 1;
    int c, f;
    while ((c = getopt_long(argc, argv, ":n:h" CLI_FILTER_SHORTOPTS, longopts, NULL)) != -1) {
        if ((f = cli_filter_opt(&o->filt, "query", c, optarg)) == 1)
            continue;
        if (f)
            return f;
        if (cli_tls_opt(&o->tls, c, optarg))
            continue;
        switch (c) {
        case O_SERVER:
            if (o->nservers == MERGE_SOURCES_MAX)
                return cli_usage_error("query", "at most %d --server", MERGE_SOURCES_MAX);
            o->servers[o->nservers++] = optarg;
            break;
        case O_TOPIC:
            if (o->ntopics == MAX_TOPICS)
                return cli_usage_error("query", "too many --topic patterns");
            o->topics[o->ntopics++] = optarg;
            break;
        case O_LEVEL:
            o->level = optarg;
            break;
        case O_GREP:
            o->grep = optarg;
            break;
        case O_SINCE:
            o->since = optarg;
            break;
        case O_UNTIL:
            o->until = optarg;
            break;
        case O_AFTER:
            o->after = optarg;
            break;
        case 'n':
            o->limit = optarg;
            break;
        case O_ORDER:
            o->order = optarg;
            break;
        case O_JSON:
            o->json = 1;
            break;
        case O_FORMAT:
            o->format = optarg;
            break;
        case 'h':
            fputs(help, stdout);
            return -1;
        case ':':
            return cli_usage_error("query", "option '%s' needs a value", argv[optind - 1]);
        default:
            if (optopt && optopt < 256)
                return cli_usage_error("query", "unknown option '-%c'", optopt);
            return cli_usage_error("query", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("query", "unexpected argument '%s'", argv[optind]);
    if (o->format && o->json)
        return cli_usage_error("query", "give --format or --json, not both");
    if (o->after && o->nservers > 1)
        return cli_usage_error("query", "--after is a seq of one server: with several --server, "
                                        "use --since");
    return cli_filter_check(&o->filt, "query", o->grep);
}

/* Says why a non-200 answer came and returns the exit code. */
static int refused(const stream_t *s, const char *server)
{
    buf_t msg = BUF_INIT;
    int have = format_error(&msg, s->errbody.data ? s->errbody.data : "", s->errbody.len) == 0;
    if (!have && s->errbody.len) {
        size_t n = s->errbody.len;
        while (n && (s->errbody.data[n - 1] == '\n' || s->errbody.data[n - 1] == '\r'))
            n--;
        format_escape(&msg, s->errbody.data, n > 300 ? 300 : n);
        have = n > 0;
    }
    int code;
    if (s->status == 400) {
        cli_error("%s", have ? buf_cstr(&msg) : "the server refused the query (HTTP 400)");
        code = CLI_EXIT_USAGE;
    } else {
        cli_error("%s answered HTTP %d%s%s%s", server, s->status, have ? ": " : "",
                  have ? buf_cstr(&msg) : "",
                  s->status == 401 ? (cli_authorization() ? " (LOGSHIP_TOKEN is not accepted)"
                                                          : " (set LOGSHIP_TOKEN)")
                                   : "");
        code = CLI_EXIT_FAIL;
    }
    buf_free(&msg);
    return code;
}

/* Asks one server (url is its /api/logs with the query string) and says
 * what went wrong, if anything. Returns the exit code. */
static int ask(stream_t *s, const char *server, const char *url, SSL_CTX *tls, char *hint,
               size_t hintcap)
{
    http_request_t req = {
        .url = url,
        .accept = "application/x-ndjson",
        .authorization = cli_authorization(),
        .on_status = on_status,
        .on_body = on_body,
        .arg = s,
        .tls = tls,
    };
    char err[512];
    hint[0] = '\0';
    req.header = "logship-hint:"; /* an empty answer may say why */
    req.header_value = hint;
    req.header_cap = hintcap;
    int status;
    int r = http_get(&req, &status, err, sizeof err);

    /* logshipd ends every record with a newline, and a long answer ends
     * when it closes the connection: a body that stops inside a line was
     * cut short, not finished */
    int cut = r == HTTP_OK && s->status == 200 && s->open_line;

    int rc = CLI_EXIT_OK;
    if (r == HTTP_EURL) {
        rc = cli_usage_error("query", "bad --server '%s': %s", server, err);
    } else if (r == HTTP_ECONNECT) {
        cli_error("cannot reach logshipd at %s: %s", server, err);
        rc = CLI_EXIT_FAIL;
    } else if (r == HTTP_EPROTO) {
        cli_error("bad answer from %s: %s", server, err);
        rc = CLI_EXIT_FAIL;
    } else if (r == HTTP_ABORTED || s->epipe || s->werrno) {
        /* a reader that went away (`| head`) is no error; a full disk is */
        if (s->werrno) {
            cli_error("cannot write the output: %s", strerror(s->werrno));
            rc = CLI_EXIT_FAIL;
        }
    } else if (s->status != 200) {
        rc = refused(s, server);
    } else if (r == HTTP_EBROKEN || cut) {
        cli_error("the answer from %s was cut short: %s", server,
                  cut ? "it ends in the middle of a record" : err);
        rc = CLI_EXIT_FAIL;
    } else if (s->bad) {
        cli_error("%zu line%s of the answer %s", s->bad, s->bad == 1 ? "" : "s",
                  s->bad == 1 ? "was not a JSON record" : "were not JSON records");
        rc = CLI_EXIT_FAIL;
    }
    if (r == HTTP_OK && s->status == 200 && hint[0] && !s->merge)
        cli_filter_hint(hint, strlen(hint));
    return rc;
}

static void stream_free(stream_t *s)
{
    buf_free(&s->line);
    buf_free(&s->out);
    buf_free(&s->errbody);
}

/* Several servers: each asked in turn, the answers merged by time. */
static int ask_all(const opts_t *o, char servers[][1024], const buf_t *qs, SSL_CTX *tls,
                   const stream_t *proto)
{
    merge_t m;
    merge_init(&m, o->nservers);
    buf_t url = BUF_INIT;
    char hint[1024], first_hint[1024] = "";
    int rc = CLI_EXIT_OK;
    for (size_t i = 0; i < o->nservers; i++) {
        stream_t s = *proto;
        s.merge = &m;
        s.src = i;
        buf_reset(&url);
        buf_puts(&url, servers[i]);
        buf_puts(&url, "/api/logs");
        if (qs->len)
            buf_append(&url, qs->data, qs->len);
        int r = ask(&s, servers[i], buf_cstr(&url), tls, hint, sizeof hint);
        if (!r && s.status == 200 && hint[0] && !first_hint[0])
            snprintf(first_hint, sizeof first_hint, "%s", hint);
        stream_free(&s);
        /* a refused query (2) says more than an unreachable server (1) */
        if (r > rc)
            rc = r;
    }
    merge_sort(&m);
    unsigned long limit = o->limit ? strtoul(o->limit, NULL, 10) : 1000;
    int desc = o->order && strcmp(o->order, "desc") == 0;
    size_t first, count;
    merge_window(&m, limit, (o->since || o->after) && !desc, &first, &count);
    if (!count && first_hint[0])
        cli_filter_hint(first_hint, strlen(first_hint));
    stream_t s = *proto;
    for (size_t k = 0; k < count && !s.epipe && !s.werrno; k++) {
        size_t n, i = desc ? first + count - 1 - k : first + k;
        const char *p = merge_line(&m, i, &n);
        cli_targets_print(&s.out, s.tpl, p, n, s.json, s.json_escape, s.color);
        emit(&s, s.out.data, s.out.len);
    }
    if (s.werrno) {
        cli_error("cannot write the output: %s", strerror(s.werrno));
        rc = CLI_EXIT_FAIL;
    }
    stream_free(&s);
    buf_free(&url);
    merge_free(&m);
    return rc;
}

int cmd_query(int argc, char **argv)
{
    opts_t o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;

    static cli_targets_t tg;
    if ((rc = cli_targets_setup(&tg, "query", o.servers, o.nservers, &o.tls, o.format)))
        return rc;

    buf_t qs = BUF_INIT, url = BUF_INIT;
    for (size_t i = 0; i < o.ntopics; i++)
        add_param(&qs, "topic", o.topics[i]);
    add_param(&qs, "level", o.level);
    cli_filter_query(&o.filt, o.grep, &qs, NULL);
    add_time(&qs, "since", o.since);
    add_time(&qs, "until", o.until);
    add_param(&qs, "after", o.after);
    add_param(&qs, "limit", o.limit);
    add_param(&qs, "order", o.order);

    stream_t s;
    memset(&s, 0, sizeof s);
    s.json = o.json;
    s.json_escape = o.json && isatty(STDOUT_FILENO);
    s.color = !o.json && cli_color(STDOUT_FILENO);
    s.tpl = tg.tpl;
    if (o.nservers > 1) {
        rc = ask_all(&o, tg.servers, &qs, tg.tls, &s);
    } else {
        char hint[1024];
        buf_puts(&url, tg.servers[0]);
        buf_puts(&url, "/api/logs");
        if (qs.len)
            buf_append(&url, qs.data, qs.len);
        rc = ask(&s, tg.servers[0], buf_cstr(&url), tg.tls, hint, sizeof hint);
        stream_free(&s);
    }
    buf_free(&qs);
    buf_free(&url);
    cli_targets_free(&tg);
    return rc;
}
