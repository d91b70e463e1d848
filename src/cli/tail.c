/* tail.c - `logship tail`: follows logshipd's records live (GET /api/tail)
 * or a file it serves (GET /api/files/<root>/<path>) over a WebSocket
 * (ws_client.c), printing human lines (format.c) or the server's JSON.
 *
 * Connections come and go; the output should not notice. Records carry
 * seqs, so every reconnect resumes with after=<newest seq printed>: the
 * server sends exactly what came after it, from disk if need be, and a
 * restart of the server neither loses nor repeats a record (a gap message
 * says when retention removed some first). When nothing was printed yet,
 * the newest seq in the store before the first subscription (one GET
 * /api/logs?limit=1) stands in for it. -n applies to the first connection
 * only. Files have no seqs: after a reconnect a file is followed from its
 * end again (n=0), so lines written while disconnected are not shown.
 *
 * Reconnects wait TAIL_BACKOFF_MIN_MS doubling to TAIL_BACKOFF_MAX_MS, with
 * jitter (tail_proto.c). Only the first connection failing is an error:
 * then the server is probably not there at all.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/json_write.h"
#include "../common/timeutil.h"
#include "cli.h"
#include "filter_args.h"
#include "format.h"
#include "http_client.h"
#include "merge.h"
#include "tail_merge.h"
#include "tail_proto.h"
#include "targets.h"
#include "ws_client.h"

#define MAX_TOPICS    64                     /* the server allows 16; it says so itself */
#define DEFAULT_N     10                     /* like tail(1) */
#define MAX_N         100000                 /* the server's limit */
#define STABLE_NS     (1000LL * 1000 * 1000) /* a connection this old resets the backoff */
#define BASE_BODY_MAX (64u * 1024 * 1024)
#define BAD_SHOWN     3 /* bad messages described on stderr */

static const char help[] =
    "usage: logship tail [options]\n"
    "       logship tail --file ROOT/PATH [-n N] [options]\n"
    "\n"
    "Prints the newest records stored by logshipd, then every new one as it arrives\n"
    "(GET /api/tail over a WebSocket), until interrupted. With --file, follows a log\n"
    "file the server serves under --tail-root instead.\n"
    "\n"
    "Options:\n"
    "  --server URL       logshipd to ask: http://HOST[:PORT] (or ws://), or\n"
    "                     https://HOST[:PORT] (or wss://) over TLS (default:\n"
    "                     $LOGSHIP_SERVER, else " CLI_DEFAULT_SERVER "). Repeatable:\n"
    "                     every server is followed and their records merged by time\n"
    "                     (a record waits up to 0.5 s for the others to catch up;\n"
    "                     -n counts per server)\n" CLI_TLS_HELP
    "  --topic P          topic pattern, repeatable (a record matching any passes):\n"
    "                     words separated by dots, '*' is one word, '#' zero or more,\n"
    "                     e.g. web.#, *.crit, kern.*\n"
    "  --level L          minimum severity: emerg alert crit error warning notice info\n"
    "                     debug (aliases such as warn, err, fatal are accepted)\n"
    "  --grep S           only records whose message contains S\n" CLI_FILTER_HELP
    "  -n, --lines N      start with the newest N records or lines, 0..100000\n"
    "                     (default 10)\n"
    "  --file ROOT/PATH   follow the file PATH under the root named ROOT, as listed by\n"
    "                     GET /api/files; notes rotation and truncation on stderr\n"
    "  --json             print each record as the server sends it, one JSON object per\n"
    "                     line (with --file: each line as a JSON string)\n"
    "  --format TEMPLATE  print each record by TEMPLATE (see Output)\n"
    "  -h, --help         show this help\n"
    "\n" FORMAT_HELP "Control characters in records are shown escaped (\\n, \\x1b); so are\n"
    "those in file lines (but tabs) when stdout is a terminal. Levels are coloured on a\n"
    "terminal, unless NO_COLOR is set. Notes go to stderr: the tail is catching up from\n"
    "disk, records were removed by retention before they could be shown, the connection\n"
    "was lost, a hint from the server (a --topic without a wildcard that finds nothing,\n"
    "where TOPIC.# would).\n"
    "\n"
    "When the connection drops or the server restarts, logship reconnects (waiting\n"
    "100 ms, doubling up to 5 s) and resumes after the last record it printed: nothing\n"
    "is lost or repeated. -n applies to the first connection only; a followed file is\n"
    "picked up at its end again.\n"
    "\n"
    "Exit status: 0 when interrupted (SIGINT, SIGTERM) or when stdout's reader goes\n"
    "away; 1 server unreachable at the start, or output failing; 2 bad arguments or a\n"
    "tail the server refused (its message is printed).\n";

typedef struct opts {
    const char *servers[MERGE_SOURCES_MAX];
    size_t nservers;
    const char *topics[MAX_TOPICS];
    size_t ntopics;
    const char *level, *grep, *file;
    unsigned long n;
    int json;
    cli_filter_t filt; /* --app, --host, --field, -i */
    cli_tls_t tls;     /* --ca, --cert, --key */
    const char *format;
} opts_t;

typedef struct tailer {
    const opts_t *o;
    const char *server;
    SSL_CTX *tls;            /* https:// or wss://, else NULL */
    int color;               /* colour levels: stdout is a terminal, no NO_COLOR */
    int escape_lines;        /* file lines to a terminal: escape controls */
    int escape_json;         /* --json to a terminal: controls as \u escapes */
    const format_tpl_t *tpl; /* --format; NULL: the default line */
    buf_t tmp;
    uint64_t last; /* newest seq printed, or skipped by a gap */
    int have_last;
    uint64_t base; /* newest seq in the store before the first subscription */
    int have_base;
    int connections; /* opened so far */
    int opened;      /* the current connection opened */
    int lost;        /* "connection lost" said, "reconnected" not yet */
    int lagging;     /* "behind" said, "caught up" not yet */
    int done;        /* stop for good with exit_code */
    int exit_code;
    size_t bad;
    tail_proto_msg_t msg;
    buf_t out;
} tailer_t;

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void add_param(buf_t *url, int *first, const char *key, const char *value)
{
    buf_putc(url, *first ? '?' : '&');
    *first = 0;
    buf_puts(url, key);
    buf_putc(url, '=');
    http_url_encode(url, value, strlen(value));
}

static void add_u64(buf_t *url, int *first, const char *key, uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)v);
    add_param(url, first, key, s);
}

/* The URL of the next connection: the first gets -n, later ones resume. */
static void build_url(const tailer_t *t, buf_t *url)
{
    const opts_t *o = t->o;
    int first = 1;
    buf_reset(url);
    buf_puts(url, t->server);
    if (o->file) {
        /* each path segment encoded, the slashes kept */
        buf_puts(url, "/api/files/");
        const char *p = o->file;
        for (;;) {
            size_t k = strcspn(p, "/");
            http_url_encode(url, p, k);
            if (!p[k])
                break;
            buf_putc(url, '/');
            p += k + 1;
        }
        add_u64(url, &first, "n", t->connections ? 0 : o->n);
        return;
    }
    buf_puts(url, "/api/tail");
    for (size_t i = 0; i < o->ntopics; i++)
        add_param(url, &first, "topic", o->topics[i]);
    if (o->level)
        add_param(url, &first, "level", o->level);
    cli_filter_query(&o->filt, o->grep, url, &first);
    if (!t->connections)
        add_u64(url, &first, "n", o->n);
    else if (t->have_last)
        add_u64(url, &first, "after", t->last);
    else if (t->have_base)
        add_u64(url, &first, "after", t->base);
    else
        add_u64(url, &first, "n", 0);
}

/* ---- the newest seq before we start ------------------------------------------ */

typedef struct base_req {
    int status;
    buf_t body;
    int too_big;
} base_req_t;

static int base_status(void *arg, int status)
{
    base_req_t *b = arg;
    b->status = status;
    return status != 200;
}

static int base_body(void *arg, const char *p, size_t n)
{
    base_req_t *b = arg;
    if (n > BASE_BODY_MAX - b->body.len) {
        b->too_big = 1;
        return 1;
    }
    buf_append(&b->body, p, n);
    return 0;
}

/* Asks for the newest stored record (any topic). Sets t->base and
 * t->have_base when the answer is clear; any failure just leaves it unset
 * (the WebSocket that follows reports an unreachable server). */
static void find_base(tailer_t *t)
{
    base_req_t b = {0, BUF_INIT, 0};
    buf_t url = BUF_INIT, arr = BUF_INIT;
    buf_puts(&url, t->server);
    buf_puts(&url, "/api/logs?limit=1");
    http_request_t req = {
        .url = buf_cstr(&url),
        .accept = "application/x-ndjson",
        .authorization = cli_authorization(),
        .on_status = base_status,
        .on_body = base_body,
        .arg = &b,
        .tls = t->tls,
    };
    char err[256];
    int status;
    if (http_get(&req, &status, err, sizeof err) == HTTP_OK && status == 200 && !b.too_big) {
        /* one NDJSON line, or none: as an array it is a batch of 0 or 1 */
        buf_putc(&arr, '[');
        buf_append(&arr, b.body.data ? b.body.data : "", b.body.len);
        buf_putc(&arr, ']');
        if (tail_proto_parse(&t->msg, arr.data, arr.len) == 0 && t->msg.nitems <= 1 &&
            (t->msg.nitems == 0 || (!t->msg.items[0].is_line && t->msg.items[0].seq))) {
            t->base = t->msg.nitems ? t->msg.items[0].seq : 0;
            t->have_base = 1;
        }
    }
    buf_free(&b.body);
    buf_free(&url);
    buf_free(&arr);
}

/* ---- output --------------------------------------------------------------------- */

/* Writes out to stdout now: a live tail must not sit in a buffer. On
 * failure stops the tail: quietly when the reader went away (`| head`),
 * with exit 1 otherwise. */
static int emit(tailer_t *t, const buf_t *out)
{
    if (!out->len)
        return 0;
    errno = 0;
    if (fwrite(out->data, 1, out->len, stdout) == out->len && fflush(stdout) == 0)
        return 0;
    int e = errno ? errno : EIO;
    t->done = 1;
    if (e == EPIPE) {
        t->exit_code = CLI_EXIT_OK;
    } else {
        cli_error("cannot write the output: %s", strerror(e));
        t->exit_code = CLI_EXIT_FAIL;
    }
    return -1;
}

/* A note on stderr, after what stdout already holds. */
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void note(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fflush(stdout);
    cli_error("%s", msg);
}

/* A file line for a terminal: escaped like records, but tabs kept. */
static void put_line(buf_t *out, const char *s, size_t n, int escape)
{
    if (!escape) {
        buf_append(out, s, n);
        return;
    }
    for (;;) {
        const char *tab = memchr(s, '\t', n);
        size_t k = tab ? (size_t)(tab - s) : n;
        format_escape(out, s, k);
        if (!tab)
            return;
        buf_putc(out, '\t');
        s += k + 1;
        n -= k + 1;
    }
}

static int print_batch(tailer_t *t, const char *json)
{
    const tail_proto_msg_t *m = &t->msg;
    buf_reset(&t->out);
    for (size_t i = 0; i < m->nitems; i++) {
        const tail_proto_item_t *it = &m->items[i];
        slice_t s = tail_proto_item_text(m, json, i);
        if (it->is_line) {
            if (t->o->json && t->escape_json) {
                buf_reset(&t->tmp);
                json_str(&t->tmp, s.p, s.n);
                format_json_safe(&t->out, t->tmp.data, t->tmp.len);
            } else if (t->o->json)
                json_str(&t->out, s.p, s.n);
            else
                put_line(&t->out, s.p, s.n, t->escape_lines);
            buf_putc(&t->out, '\n');
            continue;
        }
        /* invariant 1 of tail.h says this never happens; a repeat here
         * would break our promise, so check it */
        if (it->seq && t->have_last && it->seq <= t->last)
            continue;
        if (t->o->json) {
            if (t->escape_json)
                format_json_safe(&t->out, s.p, s.n);
            else
                buf_append(&t->out, s.p, s.n);
            buf_putc(&t->out, '\n');
        } else {
            format_record(&t->out, t->tpl, s.p, s.n, t->color);
        }
        if (it->seq) {
            t->last = it->seq;
            t->have_last = 1;
        }
    }
    return emit(t, &t->out);
}

static void escaped(buf_t *b, slice_t s, size_t max)
{
    buf_reset(b);
    if (s.p)
        format_escape(b, s.p, s.n < max ? s.n : max);
    buf_cstr(b);
}

static void on_open(void *arg)
{
    tailer_t *t = arg;
    t->opened = 1;
    t->connections++;
    if (t->lost)
        note("reconnected to %s", t->server);
    t->lost = 0;
}

static int on_message(void *arg, const char *p, size_t n)
{
    tailer_t *t = arg;
    tail_proto_msg_t *m = &t->msg;
    buf_t text = BUF_INIT;
    int rc = 0;

    if (tail_proto_parse(m, p, n)) {
        if (++t->bad <= BAD_SHOWN) {
            escaped(&text, slice_make(p, n), 200);
            note("the server sent a message that is not a tail message: %s", text.data);
        }
        buf_free(&text);
        return 0;
    }
    switch (m->kind) {
    case TAIL_PROTO_BATCH:
        rc = print_batch(t, p);
        break;
    case TAIL_PROTO_STATUS:
        if (m->source.p && slice_eq(m->source, "disk") && m->lag && !t->lagging) {
            note("%llu record%s behind, catching up from disk", (unsigned long long)m->lag,
                 m->lag == 1 ? "" : "s");
            t->lagging = 1;
        } else if (m->source.p && slice_eq(m->source, "live") && t->lagging) {
            note("caught up");
            t->lagging = 0;
        }
        break;
    case TAIL_PROTO_GAP:
        if (m->from == m->to)
            note("warning: record %llu was removed by retention before it could be read",
                 (unsigned long long)m->from);
        else
            note("warning: records %llu..%llu were removed by retention before they could "
                 "be read",
                 (unsigned long long)m->from, (unsigned long long)m->to);
        if (!t->have_last || m->to > t->last) {
            t->last = m->to;
            t->have_last = 1;
        }
        break;
    case TAIL_PROTO_ERROR:
        escaped(&text, m->error, 1000);
        note("%s", m->error.p ? text.data : "the server refused the tail");
        t->done = 1;
        t->exit_code = CLI_EXIT_USAGE;
        rc = 1;
        break;
    case TAIL_PROTO_ROTATED:
        escaped(&text, slice_cstr(t->o->file), 500);
        note("%s was rotated; following the new file", text.data);
        break;
    case TAIL_PROTO_TRUNCATED:
        escaped(&text, slice_cstr(t->o->file), 500);
        note("%s was truncated; reading it from its start", text.data);
        break;
    case TAIL_PROTO_HINT:
        if (m->hint.p)
            cli_filter_hint(m->hint.p, m->hint.n);
        break;
    case TAIL_PROTO_OTHER:
        break; /* newer servers may say more */
    }
    buf_free(&text);
    return rc;
}

/* ---- arguments ------------------------------------------------------------------ */

static int parse_n(const char *s, unsigned long *n)
{
    unsigned long v = 0;
    if (!*s || strlen(s) > 7)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (unsigned long)(*s - '0');
    }
    if (v > MAX_N)
        return -1;
    *n = v;
    return 0;
}

static int parse_args(int argc, char **argv, opts_t *o)
{
    enum { O_SERVER = 256, O_TOPIC, O_LEVEL, O_GREP, O_FILE, O_JSON };
    enum { O_FORMAT = 600 }; /* apart from the others and from CLI_O_* (512 on) */
    static const struct option longopts[] = {
        {"server", required_argument, NULL, O_SERVER},
        {"topic", required_argument, NULL, O_TOPIC},
        {"level", required_argument, NULL, O_LEVEL},
        {"grep", required_argument, NULL, O_GREP},
        {"lines", required_argument, NULL, 'n'},
        {"file", required_argument, NULL, O_FILE},
        {"json", no_argument, NULL, O_JSON},
        {"help", no_argument, NULL, 'h'},
        {"format", required_argument, NULL, O_FORMAT},
        CLI_FILTER_LONGOPTS,
        CLI_TLS_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->n = DEFAULT_N;
    opterr = 0; /* our own messages, in the usual form */
    optind = 1;
    int c, f;
    while ((c = getopt_long(argc, argv, ":n:h" CLI_FILTER_SHORTOPTS, longopts, NULL)) != -1) {
        if ((f = cli_filter_opt(&o->filt, "tail", c, optarg)) == 1)
            continue;
        if (f)
            return f;
        if (cli_tls_opt(&o->tls, c, optarg))
            continue;
        switch (c) {
        case O_SERVER:
            if (o->nservers == MERGE_SOURCES_MAX)
                return cli_usage_error("tail", "at most %d --server", MERGE_SOURCES_MAX);
            o->servers[o->nservers++] = optarg;
            break;
        case O_TOPIC:
            if (o->ntopics == MAX_TOPICS)
                return cli_usage_error("tail", "too many --topic patterns");
            o->topics[o->ntopics++] = optarg;
            break;
        case O_LEVEL:
            o->level = optarg;
            break;
        case O_GREP:
            o->grep = optarg;
            break;
        case 'n':
            if (parse_n(optarg, &o->n))
                return cli_usage_error("tail", "bad -n '%s': expected 0..%d", optarg, MAX_N);
            break;
        case O_FILE:
            o->file = optarg;
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
            return cli_usage_error("tail", "option '%s' needs a value", argv[optind - 1]);
        default:
            if (optopt && optopt < 256)
                return cli_usage_error("tail", "unknown option '-%c'", optopt);
            return cli_usage_error("tail", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("tail", "unexpected argument '%s'", argv[optind]);
    if (o->file && (o->ntopics || o->level || o->grep || cli_filter_any(&o->filt)))
        return cli_usage_error("tail", "--topic, --level, --grep, --app, --host and --field are "
                                       "for records, not with --file");
    if (cli_filter_check(&o->filt, "tail", o->grep))
        return CLI_EXIT_USAGE;
    if (o->format && o->json)
        return cli_usage_error("tail", "give --format or --json, not both");
    if (o->format && o->file)
        return cli_usage_error("tail", "--format is for records, not with --file");
    if (o->file && o->nservers > 1)
        return cli_usage_error("tail", "--file follows a file of one server: give one --server");
    if (o->file) {
        const char *slash = strchr(o->file, '/');
        if (o->file[0] == '/' || !slash || !slash[1])
            return cli_usage_error("tail",
                                   "--file takes ROOT/PATH: a root's name (GET /api/files "
                                   "lists them) and a path inside it, not '%s'",
                                   o->file);
    }
    return 0;
}

/* ---- the run -------------------------------------------------------------------- */

/* Sleeps ms, or less when a stop is requested. */
static void nap(uint32_t ms)
{
    while (ms && !stop_flag) {
        uint32_t step = ms < 50 ? ms : 50;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() must wake up */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN; /* a reader gone is EPIPE, handled in emit() */
    sigaction(SIGPIPE, &sa, NULL);
}

/* Tails one server until interrupted or done; returns the exit code.
 * tls and tpl are borrowed. */
static int tail_run(const opts_t *o, const char *server, SSL_CTX *tls, const format_tpl_t *tpl)
{
    int rc;
    tailer_t t;
    memset(&t, 0, sizeof t);
    t.o = o;
    t.server = server;
    t.tls = tls;
    t.color = !o->json && cli_color(STDOUT_FILENO);
    t.escape_lines = !o->json && isatty(STDOUT_FILENO);
    t.escape_json = o->json && isatty(STDOUT_FILENO);
    t.tpl = tpl;
    tail_proto_init(&t.msg);

    srandom((unsigned)time_now_ns() ^ (unsigned)getpid());
    /* before our handlers: http_get() does not watch for a stop, and a
     * ^C while it waits for an unanswering host should act at once */
    if (!o->file)
        find_base(&t);
    stop_flag = 0;
    catch_signals();

    buf_t url = BUF_INIT;
    unsigned attempt = 0;
    for (;;) {
        build_url(&t, &url);
        ws_request_t req = {
            .url = buf_cstr(&url),
            .authorization = cli_authorization(),
            .on_open = on_open,
            .on_message = on_message,
            .arg = &t,
            .stop = &stop_flag,
            .tls = tls,
        };
        char err[512];
        int status;
        t.opened = 0;
        int64_t began = time_now_ns();
        int r = ws_client_run(&req, &status, err, sizeof err);
        if (t.done) {
            rc = t.exit_code;
            break;
        }
        if (stop_flag || r == WS_STOPPED) {
            rc = CLI_EXIT_OK;
            break;
        }
        if (r == WS_EURL) {
            rc = cli_usage_error("tail", "bad --server '%s': %s", server, err);
            break;
        }
        if (r == WS_ETOOBIG) {
            /* it would come again after a reconnect */
            cli_error("%s", err);
            rc = CLI_EXIT_FAIL;
            break;
        }
        if (!t.connections) {
            if (r == WS_ECONNECT)
                cli_error("cannot reach logshipd at %s: %s", server, err);
            else
                cli_error("cannot open the tail at %s: %s", server, err);
            rc = CLI_EXIT_FAIL;
            break;
        }
        if (t.opened && time_now_ns() - began >= STABLE_NS)
            attempt = 0;
        if (!t.lost) {
            note("connection to %s lost (%s); reconnecting", server, err);
            t.lost = 1;
        }
        t.lagging = 0; /* the next connection says again */
        nap(tail_proto_backoff_ms(attempt, (uint32_t)random()));
        if (attempt < 16)
            attempt++;
        if (stop_flag) {
            rc = CLI_EXIT_OK;
            break;
        }
    }
    buf_free(&url);
    buf_free(&t.out);
    buf_free(&t.tmp);
    tail_proto_free(&t.msg);
    return rc;
}

/* ---- several servers (tail_merge.h) --------------------------------------------- */

typedef struct several {
    opts_t *o;
    char (*servers)[1024];
    SSL_CTX *tls;
    const format_tpl_t *tpl;
    int color, escape_json;
    buf_t out;
} several_t;

/* In server i's child: its records as JSON lines on stdout (the pipe). */
static int several_child(void *arg, size_t i)
{
    several_t *sv = arg;
    opts_t one = *sv->o;
    one.json = 1;
    one.format = NULL;
    return tail_run(&one, sv->servers[i], sv->tls, NULL);
}

static int several_print(void *arg, const char *line, size_t n)
{
    several_t *sv = arg;
    cli_targets_print(&sv->out, sv->tpl, line, n, sv->o->json, sv->escape_json, sv->color);
    if (!sv->out.len)
        return 0;
    errno = 0;
    if (fwrite(sv->out.data, 1, sv->out.len, stdout) == sv->out.len && fflush(stdout) == 0)
        return 0;
    int e = errno ? errno : EIO;
    if (e == EPIPE)
        return 1; /* the reader went away: stop, quietly */
    cli_error("cannot write the output: %s", strerror(e));
    return -1;
}

int cmd_tail(int argc, char **argv)
{
    opts_t o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;

    static cli_targets_t tg;
    if ((rc = cli_targets_setup(&tg, "tail", o.servers, o.nservers, &o.tls, o.format)))
        return rc;
    if (tg.n == 1) {
        rc = tail_run(&o, tg.servers[0], tg.tls, tg.tpl);
    } else {
        several_t sv = {
            .o = &o,
            .servers = tg.servers,
            .tls = tg.tls,
            .tpl = tg.tpl,
            .color = !o.json && cli_color(STDOUT_FILENO),
            .escape_json = o.json && isatty(STDOUT_FILENO),
        };
        stop_flag = 0;
        catch_signals();
        rc = tail_merge_run(tg.n, several_child, several_print, &sv, &stop_flag);
        buf_free(&sv.out);
    }
    cli_targets_free(&tg);
    return rc;
}
