/* send.c - `logship send`: records to logshipd, stored before it exits:
 * over HTTP (POST /api/log, send_http.c) or to the acknowledged raw TCP
 * input through liblogship (include/logship.h), each also over TLS
 * (https://, and tls:// for the raw TCP input: tls_args.h).
 *
 *   logship send [--app A] [--level L] MESSAGE...   one record
 *   logship send [options] < lines                  one record per line
 *   logship send --file PATH [--follow]             the lines of a file (tcp://, tls://)
 *
 * The server is --server, else $LOGSHIP_SERVER, else (deprecated, from
 * when send spoke only TCP) $LOGSHIP_TCP, else http://127.0.0.1:8080. A
 * server that is not there at all is an error at once, with the reason
 * ("cannot connect to 127.0.0.1:5170: Connection refused"): over TCP,
 * logship_connect_status() reports how liblogship's first connection
 * attempt ended (the library itself never blocks a log call); over HTTP
 * the first connection is made before anything is read. Once connected,
 * a server that goes away is waited for, up to --timeout.
 *
 * --file is resumable: the logger runs in liblogship's resumable mode with a
 * producer id kept in a small state file, and every line's position is the
 * number of bytes of the file (and of the files it rotated through) up to
 * the end of that line. Batches are numbered by those positions, so after a
 * restart the server's hello says exactly up to where it stored the lines:
 * nothing is lost and nothing sent twice, whatever happened in between. The
 * state file maps positions to files: the current file (device, inode, the
 * position of its first byte) and the one before it, so the rest of a file
 * rotated while logship was down is found again by its inode. Only the raw
 * TCP protocol's hello tells a producer's position, hence tcp:// (or
 * tls://) only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../include/logship.h"
#include "../common/buf.h"
#include "../ingest/syslog/syslog_parse.h"
#include "cli.h"
#include "send_http.h"
#include "tls_args.h"

#define MAX_FIELDS 64
#define MAX_LINE   (1u << 20) /* a longer line is sent in pieces */
#define POLL_NS    200000000L
#define CONNECT_MS 5000 /* longest wait for one connection (and its hello) */

static const char help[] =
    "usage: logship send [options] [MESSAGE...]\n"
    "       logship send [options] --file PATH [--follow]\n"
    "\n"
    "Sends records to logshipd and waits until the server has stored them. The\n"
    "record is MESSAGE (the words joined by spaces); without MESSAGE, every line of\n"
    "standard input is one record (like logger(1)).\n"
    "\n"
    "Options:\n"
    "  --server URL     where logshipd is (default: $LOGSHIP_SERVER, else\n"
    "                   " CLI_DEFAULT_SERVER "):\n"
    "                     http://HOST[:PORT]  POST to its HTTP port (/api/log)\n"
    "                     https://HOST[:PORT] ... over TLS\n"
    "                     tcp://HOST:PORT     its acknowledged raw TCP input (--tcp)\n"
    "                     tls://HOST:PORT     ... over TLS\n"
    "                   $LOGSHIP_TCP (HOST:PORT or tcp://HOST:PORT) is still read after\n"
    "                   $LOGSHIP_SERVER, but is deprecated\n" CLI_TLS_HELP
    "  -a, --app A      the records' app (default: logship)\n"
    "  -l, --level L    emerg alert crit error warning notice info debug (aliases\n"
    "                   warn, err, fatal...; default info)\n"
    "  -p, --priority P logger(1)'s FACILITY.LEVEL, e.g. local3.err: the level, and the\n"
    "                   topic the syslog input gives that priority (local3.error);\n"
    "                   facilities kern user mail daemon auth syslog lpr news uucp cron\n"
    "                   authpriv ftp ntp security console solaris-cron local0..local7;\n"
    "                   a bare LEVEL is -l\n"
    "  -t, --topic T    the records' topic (default: the server's <app>.<level>);\n"
    "                   wins over the topic of -p\n"
    "  -H, --host H     the records' host (default: this host's name)\n"
    "  -F, --field K=V  a field on every record; repeatable\n"
    "  --file PATH      send the lines of PATH (tcp:// or tls:// only); a restart goes\n"
    "                   on where the server stopped: no line is lost or sent twice\n"
    "  --follow         with --file: keep sending lines as they are written, across\n"
    "                   rotation (rename and create) and truncation, until SIGINT or\n"
    "                   SIGTERM\n"
    "  --state FILE     where --file keeps its producer id and files (default:\n"
    "                   $XDG_STATE_HOME/logship/, else ~/.local/state/logship/)\n"
    "  --timeout MS     longest wait for the server to store what was sent (default\n"
    "                   10000; 0: no limit; --follow waits for it as long as it takes)\n"
    "  -h, --help       show this help\n"
    "\n"
    "A server that can not be reached when send starts is an error at once, with\n"
    "the reason; one that goes away later is waited for, up to --timeout.\n"
    "\n"
    "Exit status: 0 stored; 1 the server was unreachable or did not store\n"
    "everything in time; 2 bad arguments.\n";

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

typedef struct send_opts {
    const char *server, *app, *topic, *host, *file, *state;
    int tcp;       /* server is tcp:// or tls://, else http[s]:// */
    cli_tls_t tls; /* --ca, --cert, --key */
    SSL_CTX *ctx;  /* https://: the TLS context */
    int level, follow, timeout_ms;
    char prio_topic[64]; /* the topic of -p FACILITY.LEVEL */
    logship_field_t fields[MAX_FIELDS];
    size_t nfields;
} send_opts_t;

static logship_opts_t logger_opts(const send_opts_t *so)
{
    logship_opts_t o;
    logship_opts_init(&o);
    o.app = so->app;
    o.topic = so->topic;
    o.host = so->host;
    o.fields = so->fields;
    o.nfields = so->nfields;
    /* a command-line sender waits rather than drops */
    o.overflow = LOGSHIP_BLOCK;
    o.block_timeout_ms = 24 * 3600 * 1000;
    o.connect_timeout_ms =
        so->timeout_ms > 0 && so->timeout_ms < CONNECT_MS ? so->timeout_ms : CONNECT_MS;
    o.close_timeout_ms = 1; /* finish() waits for the acknowledgements itself */
    o.max_msg_bytes = 60 * 1024;
    /* tls:// only (cli_tls_setup() filled in the environment's) */
    o.tls_ca_file = so->tls.ca;
    o.tls_cert_file = so->tls.cert;
    o.tls_key_file = so->tls.key;
    return o;
}

/* Waits for the acknowledgements (--timeout) and closes the logger; says
 * why when not everything was stored. */
static int finish(logship_t *lg, const char *what, int timeout_ms)
{
    int rc = logship_flush(lg, timeout_ms > 0 ? timeout_ms : -1);
    char why[256] = "";
    if (rc && logship_connect_status(lg, 0, why, sizeof why) != LOGSHIP_ECONNECT)
        why[0] = '\0';
    if (logship_close(lg) && !rc)
        rc = LOGSHIP_ETIMEDOUT;
    if (rc) {
        cli_error("%s: not stored by the server in %d ms%s%s", what, timeout_ms, *why ? ": " : "",
                  why);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* Opens the TCP logger and waits for its first connection attempt to end:
 * a server that is not there is an error now, not at the timeout. */
static int open_logger(const send_opts_t *so, logship_opts_t *o, logship_t **lg)
{
    int rc = logship_open(so->server, o, lg);
    if (rc == LOGSHIP_EINVAL)
        return cli_usage_error(
            "send", "bad server '%s': expected tcp://HOST:PORT or tls://HOST:PORT", so->server);
    if (rc) {
        cli_error("%s: %s", so->server, logship_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    if (so->follow)
        return CLI_EXIT_OK; /* waits for the server, however long */
    char why[256];
    rc = logship_connect_status(*lg, so->timeout_ms > 0 ? so->timeout_ms : -1, why, sizeof why);
    if (rc == 0)
        return CLI_EXIT_OK;
    if (rc == LOGSHIP_ECONNECT)
        cli_error("%s", why);
    else
        cli_error("%s: no answer from the server in %d ms", so->server, so->timeout_ms);
    logship_close(*lg);
    *lg = NULL;
    return CLI_EXIT_FAIL;
}

/* Where the records of MESSAGE or standard input go: one of the two. */
typedef struct sink {
    logship_t *lg;     /* tcp://, tls:// */
    send_http_t *http; /* http://, https:// */
    int level;
} sink_t;

static int sink_open(sink_t *k, const send_opts_t *so)
{
    memset(k, 0, sizeof *k);
    k->level = so->level;
    if (so->tcp) {
        logship_opts_t o = logger_opts(so);
        return open_logger(so, &o, &k->lg);
    }
    send_http_opts_t ho = {
        .url = so->server,
        .tls = so->ctx,
        .app = so->app,
        .topic = so->topic,
        .host = so->host,
        .fields = so->fields,
        .nfields = so->nfields,
        .timeout_ms = so->timeout_ms,
    };
    char err[512];
    int usage;
    if (!(k->http = send_http_open(&ho, &usage, err, sizeof err))) {
        if (usage)
            return cli_usage_error("send", "bad --server '%s': %s", so->server, err);
        cli_error("%s", err);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* One record; 0, or -1 when sending failed for good (said on stderr). */
static int sink_write(sink_t *k, const char *msg, size_t n)
{
    if (k->lg) {
        logship_record_t r = {.level = k->level, .msg = msg, .msg_len = n};
        int rc = logship_write(k->lg, &r);
        return rc && rc != LOGSHIP_EFULL && rc != LOGSHIP_ETIMEDOUT ? -1 : 0;
    }
    if (send_http_add(k->http, k->level, msg, n) == 0)
        return 0;
    cli_error("%s", send_http_error(k->http));
    return -1;
}

/* How long the input may be waited for (-1: as long as it takes). */
static int sink_idle_ms(const sink_t *k)
{
    return k->http ? send_http_idle_ms(k->http) : -1;
}

/* Sends what is due; 0, or -1 (said). */
static int sink_tick(sink_t *k)
{
    if (k->http && send_http_idle_ms(k->http) == 0 && send_http_flush(k->http)) {
        cli_error("%s", send_http_error(k->http));
        return -1;
    }
    return 0;
}

/* Waits until everything is stored and closes. Returns the exit code. */
static int sink_finish(sink_t *k, const char *what, int timeout_ms, int failed)
{
    if (k->lg)
        return finish(k->lg, what, timeout_ms) == CLI_EXIT_OK && !failed ? CLI_EXIT_OK
                                                                         : CLI_EXIT_FAIL;
    int rc = failed ? -1 : send_http_flush(k->http);
    if (rc && !failed)
        cli_error("%s: %s", what, send_http_error(k->http));
    send_http_close(k->http);
    return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* Every line of standard input, each a record; a line longer than
 * MAX_LINE is sent in pieces. Returns -1 when sending failed. */
static int read_stdin(sink_t *k)
{
    char *line = xmalloc(MAX_LINE);
    size_t len = 0;
    char chunk[65536];
    int rc = 0;
    while (!g_stop && rc == 0) {
        int wait = sink_idle_ms(k);
        struct pollfd pf = {STDIN_FILENO, POLLIN, 0};
        int pr = poll(&pf, 1, wait);
        if (pr < 0 && errno != EINTR) {
            cli_error("standard input: %s", strerror(errno));
            rc = -1;
            break;
        }
        if (pr <= 0) {
            rc = sink_tick(k);
            continue;
        }
        ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            cli_error("standard input: %s", strerror(errno));
            rc = -1;
            break;
        }
        if (n == 0)
            break;
        for (const char *p = chunk, *end = chunk + n; p < end && rc == 0;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t take = nl ? (size_t)(nl - p) : (size_t)(end - p);
            if (take > MAX_LINE - len)
                take = MAX_LINE - len;
            memcpy(line + len, p, take);
            len += take;
            p += take;
            int complete = p < end && *p == '\n';
            if (complete)
                p++;
            if (complete || len == MAX_LINE) {
                size_t m = len;
                while (m && line[m - 1] == '\r')
                    m--;
                if (m)
                    rc = sink_write(k, line, m);
                len = 0;
            }
        }
        if (rc == 0)
            rc = sink_tick(k);
    }
    while (len && line[len - 1] == '\r')
        len--;
    if (rc == 0 && len)
        rc = sink_write(k, line, len);
    free(line);
    return rc;
}

/* MESSAGE... or standard input. */
static int send_lines(const send_opts_t *so, int argc, char **argv)
{
    sink_t k;
    int rc = sink_open(&k, so);
    if (rc)
        return rc;
    if (argc > 0) {
        size_t n = 0;
        for (int i = 0; i < argc; i++)
            n += strlen(argv[i]) + 1;
        char *msg = xmalloc(n);
        msg[0] = '\0';
        for (int i = 0; i < argc; i++) {
            if (i)
                strcat(msg, " ");
            strcat(msg, argv[i]);
        }
        int failed = sink_write(&k, msg, strlen(msg));
        free(msg);
        return sink_finish(&k, "message", so->timeout_ms, failed);
    }
    int failed = read_stdin(&k);
    return sink_finish(&k, "standard input", so->timeout_ms, failed);
}

/* ---- --file: resumable ------------------------------------------------ */

typedef struct fileid {
    unsigned long long dev, ino, base, size; /* size: of a finished file */
    int known;
} fileid_t;

typedef struct state {
    char producer[65];
    fileid_t cur, prev;
} state_t;

static int load_state(const char *path, state_t *st)
{
    memset(st, 0, sizeof *st);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        fileid_t *id = NULL;
        if (sscanf(line, "producer %64s", st->producer) == 1)
            continue;
        if (strncmp(line, "file ", 5) == 0)
            id = &st->cur;
        else if (strncmp(line, "prev ", 5) == 0)
            id = &st->prev;
        if (id &&
            sscanf(line + 5, "%llu %llu %llu %llu", &id->dev, &id->ino, &id->base, &id->size) >= 3)
            id->known = 1;
    }
    fclose(f);
    return 0;
}

/* Written whole or not at all: a temporary file renamed over the old. */
static int save_state(const char *path, const state_t *st)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "logship-send-state 1\nproducer %s\n", st->producer);
    if (st->cur.known)
        fprintf(f, "file %llu %llu %llu\n", st->cur.dev, st->cur.ino, st->cur.base);
    if (st->prev.known)
        fprintf(f, "prev %llu %llu %llu %llu\n", st->prev.dev, st->prev.ino, st->prev.base,
                st->prev.size);
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc && errno != EEXIST)
            return -1;
    }
    return 0;
}

/* $XDG_STATE_HOME/logship/send-<hash of the absolute path>.state */
static int default_state(const char *file, char *out, size_t cap)
{
    char abs[4096];
    if (!realpath(file, abs))
        snprintf(abs, sizeof abs, "%s", file);
    unsigned long long h = 1469598103934665603ULL;
    for (const char *p = abs; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && *xdg)
        n = snprintf(out, cap, "%s/logship/send-%016llx.state", xdg, h);
    else if (home && *home)
        n = snprintf(out, cap, "%s/.local/state/logship/send-%016llx.state", home, h);
    else
        return -1;
    if (n < 0 || (size_t)n >= cap)
        return -1;
    return mkdirs(out);
}

static void new_producer(state_t *st)
{
    unsigned char r[8];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        unsigned long long t = (unsigned long long)time(NULL) ^ (unsigned long long)getpid() << 32;
        memcpy(r, &t, sizeof r);
    }
    char host[25] = "";
    gethostname(host, sizeof host - 1);
    for (char *p = host; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-'))
            *p = '_';
    snprintf(st->producer, sizeof st->producer, "file-%s-%02x%02x%02x%02x%02x%02x%02x%02x",
             host[0] ? host : "h", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}

/* Finds the file in dir's directory whose device and inode are id's
 * (where a rotated file went); returns an open fd or -1. */
static int find_by_inode(const char *file, const fileid_t *id)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", file);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *de;
    int fd = -1;
    while (fd < 0 && (de = readdir(d))) {
        struct stat sb;
        if (fstatat(dirfd(d), de->d_name, &sb, 0) == 0 && S_ISREG(sb.st_mode) &&
            (unsigned long long)sb.st_ino == id->ino && (unsigned long long)sb.st_dev == id->dev)
            fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC);
    }
    closedir(d);
    return fd;
}

typedef struct reader {
    logship_t *lg;
    const send_opts_t *so;
    char *buf; /* a line not complete yet */
    size_t len, cap;
    unsigned long long sent; /* lines given to the logger */
} reader_t;

static int emit(reader_t *r, const char *p, size_t n, unsigned long long pos)
{
    while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
        n--;
    if (n == 0)
        return 0; /* an empty line: its position is covered by the next record */
    logship_record_t rec = {.level = r->so->level, .msg = p, .msg_len = n, .pos = pos};
    int rc = logship_write(r->lg, &rec);
    if (rc && rc != LOGSHIP_EFULL && rc != LOGSHIP_ETIMEDOUT)
        return -1;
    r->sent++;
    return 0;
}

/* Reads fd from *off to its current end, sending every complete line with
 * base + the offset of its end; with last, a final unterminated line too.
 * Returns 0, or -1 on a read error. */
static int read_lines(reader_t *r, int fd, unsigned long long base, unsigned long long *off,
                      int last)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = pread(fd, chunk, sizeof chunk, (off_t)(*off + r->len));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        const char *p = chunk, *end = chunk + n;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t take = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
            if (r->len + take > r->cap) {
                size_t cap = r->cap ? r->cap : 4096;
                while (cap < r->len + take)
                    cap *= 2;
                char *b = realloc(r->buf, cap);
                if (!b)
                    return -1;
                r->buf = b;
                r->cap = cap;
            }
            memcpy(r->buf + r->len, p, take);
            r->len += take;
            p += take;
            if (nl || r->len >= MAX_LINE) {
                *off += r->len;
                if (emit(r, r->buf, r->len, base + *off))
                    return -1;
                r->len = 0;
            }
        }
    }
    if (last && r->len) {
        *off += r->len;
        int rc = emit(r, r->buf, r->len, base + *off);
        r->len = 0;
        return rc;
    }
    return 0;
}

static void nap(void)
{
    struct timespec ts = {0, POLL_NS};
    nanosleep(&ts, NULL);
}

static int send_file(const send_opts_t *so)
{
    char state_path[4096];
    if (so->state)
        snprintf(state_path, sizeof state_path, "%s", so->state);
    else if (default_state(so->file, state_path, sizeof state_path)) {
        cli_error("no place for the state file: give --state FILE");
        return CLI_EXIT_USAGE;
    }
    state_t st;
    if (load_state(state_path, &st)) {
        cli_error("%s: %s", state_path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    if (!st.producer[0])
        new_producer(&st);

    int fd = open(so->file, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && so->follow && errno == ENOENT && !g_stop) {
        nap(); /* not there yet */
        fd = open(so->file, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        cli_error("%s: %s", so->file, g_stop ? "interrupted" : strerror(errno));
        return CLI_EXIT_FAIL;
    }
    struct stat sb;
    fstat(fd, &sb);

    logship_opts_t o = logger_opts(so);
    o.producer_id = st.producer;
    logship_t *lg;
    int rc = open_logger(so, &o, &lg);
    if (rc) {
        close(fd);
        return rc;
    }
    /* how far did the server get? */
    unsigned long long pos = 0;
    uint64_t p64 = 0;
    rc = logship_server_position(lg, &p64,
                                 so->follow           ? 1000
                                 : so->timeout_ms > 0 ? so->timeout_ms
                                                      : -1);
    if (rc && so->follow) {
        char why[256];
        if (logship_connect_status(lg, 0, why, sizeof why) != LOGSHIP_ECONNECT)
            snprintf(why, sizeof why, "no answer yet");
        fprintf(stderr, "logship send: waiting for %s (%s)\n", so->server, why);
        while (rc && !g_stop)
            rc = logship_server_position(lg, &p64, 1000);
    }
    if (rc) {
        logship_close(lg);
        close(fd);
        cli_error("%s: no answer from the server", so->server);
        return CLI_EXIT_FAIL;
    }
    pos = p64;

    reader_t r = {lg, so, NULL, 0, 0, 0};
    unsigned long long base, off;
    int prev_fd = -1;
    unsigned long long prev_off = 0;
    fileid_t now = {(unsigned long long)sb.st_dev, (unsigned long long)sb.st_ino, 0, 0, 1};
    if (st.cur.known && st.cur.dev == now.dev && st.cur.ino == now.ino) {
        base = st.cur.base;
        if (pos < base && st.prev.known && pos >= st.prev.base) {
            /* the end of the file before this one was not stored yet */
            prev_fd = find_by_inode(so->file, &st.prev);
            prev_off = pos - st.prev.base;
        }
        off = pos >= base ? pos - base : 0;
    } else if (st.cur.known) {
        /* rotated while logship was away: finish the old file first */
        prev_fd = find_by_inode(so->file, &st.cur);
        st.prev = st.cur;
        prev_off = pos >= st.cur.base ? pos - st.cur.base : 0;
        struct stat pb;
        unsigned long long psize =
            prev_fd >= 0 && fstat(prev_fd, &pb) == 0 ? (unsigned long long)pb.st_size : prev_off;
        st.prev.size = psize;
        base = st.cur.base + psize;
        if (base < pos)
            base = pos;
        off = 0;
    } else {
        base = pos; /* a new file for a new producer: from its start */
        off = 0;
    }
    if ((unsigned long long)sb.st_size < off) /* truncated while away */
        off = (unsigned long long)sb.st_size;
    now.base = base;
    st.cur = now;
    if (save_state(state_path, &st)) {
        cli_error("%s: can not write the state file", state_path);
        rc = -1;
        goto out;
    }
    if (prev_fd >= 0) {
        rc = read_lines(&r, prev_fd, st.prev.base, &prev_off, 1);
        close(prev_fd);
        if (rc)
            goto out;
    }
    for (;;) {
        if ((rc = read_lines(&r, fd, base, &off, !so->follow)))
            break;
        if (!so->follow || g_stop)
            break;
        struct stat cur, path;
        fstat(fd, &cur);
        int moved = stat(so->file, &path) == 0 && ((unsigned long long)path.st_ino != now.ino ||
                                                   (unsigned long long)path.st_dev != now.dev);
        if ((unsigned long long)cur.st_size < off + r.len) {
            /* truncated (copytruncate): positions go on growing */
            base += off + r.len;
            off = 0;
            r.len = 0;
            now.base = base;
            st.cur = now;
            save_state(state_path, &st);
            continue;
        }
        if (moved) {
            /* rotated: what the old file still got, then the new one */
            if ((rc = read_lines(&r, fd, base, &off, 1)))
                break;
            int nfd = open(so->file, O_RDONLY | O_CLOEXEC);
            if (nfd < 0)
                continue;
            close(fd);
            fd = nfd;
            fstat(fd, &path);
            st.prev = now;
            st.prev.size = off;
            base += off;
            off = 0;
            now = (fileid_t){(unsigned long long)path.st_dev, (unsigned long long)path.st_ino, base,
                             0, 1};
            st.cur = now;
            save_state(state_path, &st);
            continue;
        }
        nap();
    }
out:
    close(fd);
    free(r.buf);
    int crc = finish(lg, so->file, so->timeout_ms);
    if (rc)
        cli_error("%s: read failed: %s", so->file, strerror(errno));
    return rc ? CLI_EXIT_FAIL : crc;
}

/* -p: logger(1)'s priority. FACILITY.LEVEL sets the level and the topic
 * "<facility>.<level>" (canonical names: "local3.err" gives "local3.error"),
 * which is what the syslog input stores for that priority; a bare LEVEL
 * sets the level only. Returns 0, or the usage exit code. */
static int parse_priority(send_opts_t *so, const char *arg)
{
    const char *dot = strrchr(arg, '.');
    so->level = logship_level_parse(dot ? dot + 1 : arg);
    if (so->level < 0)
        return cli_usage_error("send", "unknown level in -p '%s'", arg);
    so->prio_topic[0] = '\0';
    if (!dot)
        return 0;
    size_t n = (size_t)(dot - arg);
    for (int f = 0; syslog_facility_name(f); f++) {
        const char *name = syslog_facility_name(f);
        if (strlen(name) == n && strncasecmp(name, arg, n) == 0) {
            snprintf(so->prio_topic, sizeof so->prio_topic, "%s.%s", name,
                     logship_level_name(so->level));
            return 0;
        }
    }
    return cli_usage_error("send",
                           "unknown facility in -p '%s': use kern user mail daemon auth syslog "
                           "lpr news uucp cron authpriv ftp ntp security console solaris-cron "
                           "local0..local7",
                           arg);
}

static int nonempty(const char *s)
{
    return s && *s;
}

/* The server: --server, $LOGSHIP_SERVER, $LOGSHIP_TCP (deprecated: the
 * variable of the days when send spoke only TCP, so HOST:PORT there is
 * tcp://), the default. Sets so->server (into buf) and so->tcp. Returns 0,
 * or the usage exit code. */
static int pick_server(send_opts_t *so, char *buf, size_t cap)
{
    const char *flag = so->server;
    int legacy = 0;
    if (!nonempty(flag) && !nonempty(getenv("LOGSHIP_SERVER")) && nonempty(getenv("LOGSHIP_TCP"))) {
        flag = getenv("LOGSHIP_TCP");
        legacy = 1;
    }
    const char *s = cli_server(flag, buf, cap);
    if (!s)
        return cli_usage_error("send", "server URL too long");
    so->server = s;
    if (strncasecmp(s, "tcp://", 6) == 0 || strncasecmp(s, "tls://", 6) == 0 ||
        (legacy && !strstr(s, "://"))) {
        so->tcp = 1;
        return 0;
    }
    if (strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0)
        return 0;
    return cli_usage_error("send",
                           "expected http://HOST[:PORT] or tcp://HOST:PORT (or https://, "
                           "tls:// over TLS), not '%s'%s",
                           s, legacy ? " (from $LOGSHIP_TCP)" : "");
}

int cmd_send(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"server", required_argument, NULL, 'S'},
        {"app", required_argument, NULL, 'a'},
        {"level", required_argument, NULL, 'l'},
        {"priority", required_argument, NULL, 'p'},
        {"topic", required_argument, NULL, 't'},
        {"host", required_argument, NULL, 'H'},
        {"field", required_argument, NULL, 'F'},
        {"file", required_argument, NULL, 'f'},
        {"follow", no_argument, NULL, 'w'},
        {"state", required_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        CLI_TLS_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    send_opts_t so = {0};
    so.app = "logship";
    so.level = LOGSHIP_INFO;
    so.timeout_ms = 10000;
    char *fieldbuf[MAX_FIELDS];
    size_t nbuf = 0;
    int c, rc = CLI_EXIT_OK;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+a:l:p:t:H:F:h", longopts, NULL)) != -1) {
        if (cli_tls_opt(&so.tls, c, optarg))
            continue;
        switch (c) {
        case 'S':
            so.server = optarg;
            break;
        case 'a':
            so.app = optarg;
            break;
        case 'p':
            if ((rc = parse_priority(&so, optarg)))
                goto out;
            break;
        case 'l':
            so.level = logship_level_parse(optarg);
            so.prio_topic[0] = '\0'; /* the last of -l and -p counts */
            if (so.level < 0) {
                rc = cli_usage_error("send", "unknown level '%s'", optarg);
                goto out;
            }
            break;
        case 't':
            so.topic = optarg;
            break;
        case 'H':
            so.host = optarg;
            break;
        case 'F': {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || so.nfields == MAX_FIELDS) {
                rc = cli_usage_error("send", "--field wants KEY=VALUE (at most %d)", MAX_FIELDS);
                goto out;
            }
            char *k = strndup(optarg, (size_t)(eq - optarg));
            if (!k) {
                rc = CLI_EXIT_FAIL;
                goto out;
            }
            fieldbuf[nbuf++] = k;
            so.fields[so.nfields++] = (logship_field_t){k, eq + 1};
            break;
        }
        case 'f':
            so.file = optarg;
            break;
        case 'w':
            so.follow = 1;
            break;
        case 's':
            so.state = optarg;
            break;
        case 'T': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 0 || v > 24L * 3600 * 1000) {
                rc = cli_usage_error("send", "bad --timeout '%s'", optarg);
                goto out;
            }
            so.timeout_ms = (int)v;
            break;
        }
        case 'h':
            fputs(help, stdout);
            goto out;
        default:
            rc = cli_usage_error("send", "unknown option");
            goto out;
        }
    }
    char server[1024];
    if ((rc = pick_server(&so, server, sizeof server)))
        goto out;
    if ((rc = cli_tls_setup(&so.tls, "send", so.server, &so.ctx)))
        goto out;
    if (so.tcp) {
        /* checked; liblogship makes its own from the same files */
        SSL_CTX_free(so.ctx);
        so.ctx = NULL;
    }
    if (!so.topic && so.prio_topic[0])
        so.topic = so.prio_topic;
    if (so.follow && !so.file) {
        rc = cli_usage_error("send", "--follow needs --file");
        goto out;
    }
    if (so.file && optind < argc) {
        rc = cli_usage_error("send", "give either --file or a MESSAGE, not both");
        goto out;
    }
    if (so.file && !so.tcp) {
        rc = cli_usage_error(
            "send",
            "--file needs a tcp://HOST:PORT server, or tls:// (it resumes through the raw "
            "TCP protocol's hello), not '%s'",
            so.server);
        goto out;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (so.file)
        rc = send_file(&so);
    else
        rc = send_lines(&so, argc - optind, argv + optind);
out:
    SSL_CTX_free(so.ctx);
    for (size_t i = 0; i < nbuf; i++)
        free(fieldbuf[i]);
    return rc;
}
