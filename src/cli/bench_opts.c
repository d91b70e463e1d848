/* bench_opts.c - `logship bench` options: see bench_opts.h. */
#include "bench_opts.h"

#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../common/addr.h"
#include "url.h"

#define DEFAULT_SERVER "http://127.0.0.1:8080"

static const char *const names[] = {
    [BENCH_HTTP] = "http",
    [BENCH_JSON] = "json",
    [BENCH_NDJSON] = "ndjson",
    [BENCH_SYSLOG_UDP] = "syslog-udp",
    [BENCH_SYSLOG_TCP] = "syslog-tcp",
    [BENCH_TCP] = "tcp",
    [BENCH_TCP_ACK] = "tcp-ack",
    [BENCH_TAIL] = "tail",
};
#define NMODES (sizeof names / sizeof names[0])

const char *bench_mode_name(enum bench_mode m)
{
    return (unsigned)m < NMODES ? names[m] : "?";
}

int bench_mode_is_http(enum bench_mode m)
{
    return m == BENCH_HTTP || m == BENCH_JSON || m == BENCH_NDJSON || m == BENCH_TAIL;
}

void bench_opts_usage(FILE *f)
{
    fputs("usage: logship bench MODE [options]\n"
          "\n"
          "Loads a log server and reports throughput and latency percentiles. Any server\n"
          "that speaks the mode's protocol will do (logshipd, nginx, rsyslog...), so peers\n"
          "can be measured with the same tool.\n"
          "\n"
          "Modes:\n"
          "  http        POST /api/log, one form record (log=...) per request\n"
          "  json        POST /api/log, one JSON object per request\n"
          "  ndjson      POST /api/log, --batch NDJSON records per request\n"
          "  syslog-udp  one RFC 3164 (or --rfc5424) message per datagram\n"
          "  syslog-tcp  syslog over TCP, LF framing or --octet-count\n"
          "  tcp         raw TCP, one JSON line per record (nothing is answered)\n"
          "  tcp-ack     raw TCP in the acknowledged mode liblogship uses: latency is\n"
          "              until the batch's ack\n"
          "  tail        --subscribers WebSocket subscribers on /api/tail while NDJSON\n"
          "              is posted; latency is from a record's send time to its receipt\n"
          "\n"
          "Where:\n"
          "  --server URL       http://HOST[:PORT][/PREFIX] (default: $LOGSHIP_SERVER, else\n"
          "                     " DEFAULT_SERVER "): the HTTP modes, tail, --verify\n"
          "  --target HOST:PORT where the stream modes send (default: --server's host,\n"
          "                     port 5514 for syslog, 5170 for tcp: logshipd's defaults)\n"
          "\n"
          "Load:\n"
          "  -c, --connections N  connections (sockets for syslog-udp; for tail, the\n"
          "                     posting ones) (default 10; tail 1)\n"
          "  --threads N        event loops (default: one per core, at most one per\n"
          "                     connection)\n"
          "  --rate R           records/s in all, open loop: every request has an intended\n"
          "                     send time and latency counts from it, so a stalled server\n"
          "                     shows in the percentiles. Without it: closed loop, as fast\n"
          "                     as answers come\n"
          "  -d, --duration T   measured time: 10, 10s, 500ms, 2m (default 10s)\n"
          "  -n, --count N      stop after N records (and at -d, when given)\n"
          "  --warmup T         load first for T, not counted (default 0)\n"
          "  --size B           message bytes per record, at least 54 (default 128)\n"
          "  --corpus FILE      replay FILE's lines as the messages, cycling\n"
          "  --batch N          records per request (ndjson, tail) or per batch (tcp-ack)\n"
          "                     (default 100)\n"
          "  --inflight N       tcp-ack: unanswered batches per connection, 1..15\n"
          "                     (default 8)\n"
          "  --subscribers N    tail: WebSocket subscribers (default 1)\n"
          "  --rfc5424          syslog: RFC 5424 instead of RFC 3164\n"
          "  --octet-count      syslog-tcp: octet-counting framing instead of LF\n"
          "  --timeout T        the longest wait for an answer (default 10s)\n"
          "\n"
          "Output:\n"
          "  --json             the summary as one JSON object on stdout\n"
          "  -q, --quiet        no progress line\n"
          "  --verify           after the run, query --server and check that every\n"
          "                     acknowledged record is stored exactly once (each run tags\n"
          "                     its records with a run id); exit 1 if not\n"
          "  -h, --help         show this help\n"
          "\n"
          "On a terminal (stderr) a progress line is redrawn in place; Ctrl-C stops the run\n"
          "and prints the summary so far. Latencies come from a histogram within 1% from\n"
          "1 us to 60 s. For the stream modes, which have no answers, a record counts as\n"
          "acknowledged when the kernel took its bytes, and latency is until then. Each\n"
          "message starts with the run's tag (lsb_<run>_<id>_<time>).\n"
          "\n"
          "Exit status: 0 done; 1 --verify found records missing or doubled (or could not\n"
          "query), or nothing was acknowledged; 2 bad arguments or an unreachable server;\n"
          "130 stopped by Ctrl-C (after the summary so far).\n",
          f);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* A whole number in [lo, hi], with an optional K or M (x1024) when sized. */
static int whole(const char *s, uint64_t lo, uint64_t hi, int sized, uint64_t *out)
{
    char *end;
    if (!*s || *s == '-' || *s == '+')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s)
        return -1;
    if (sized && (*end == 'K' || *end == 'k')) {
        v *= 1024;
        end++;
    } else if (sized && (*end == 'M' || *end == 'm')) {
        v *= 1024 * 1024;
        end++;
    }
    if (*end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* A duration: seconds, or a number with ms, s, m or h. */
static int duration(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v) || v < 0)
        return -1;
    if (strcmp(end, "ms") == 0)
        v /= 1000;
    else if (strcmp(end, "m") == 0)
        v *= 60;
    else if (strcmp(end, "h") == 0)
        v *= 3600;
    else if (*end && strcmp(end, "s") != 0)
        return -1;
    *out = v;
    return 0;
}

static int find_mode(const char *s, enum bench_mode *m)
{
    for (unsigned i = 0; i < NMODES; i++) {
        if (strcmp(s, names[i]) == 0) {
            *m = (enum bench_mode)i;
            return 0;
        }
    }
    return -1;
}

enum {
    OPT_THREADS = 256,
    OPT_RATE,
    OPT_WARMUP,
    OPT_SIZE,
    OPT_CORPUS,
    OPT_BATCH,
    OPT_INFLIGHT,
    OPT_SUBSCRIBERS,
    OPT_RFC5424,
    OPT_OCTET,
    OPT_TIMEOUT,
    OPT_JSON,
    OPT_VERIFY,
    OPT_SERVER,
    OPT_TARGET,
};

/* What the options say together: the defaults that depend on the mode,
 * the options that do not apply to it, where the load goes. */
static int check(bench_opts_t *o, const char *server, const char *target, int has_conns,
                 int has_threads, int has_batch, int has_inflight, int has_subs, int has_duration,
                 unsigned cores, const char *env_server, char *err, size_t errlen)
{
    enum bench_mode m = o->mode;
    const char *name = bench_mode_name(m);
    int syslog = m == BENCH_SYSLOG_UDP || m == BENCH_SYSLOG_TCP;

    if (has_batch && m != BENCH_NDJSON && m != BENCH_TCP_ACK && m != BENCH_TAIL)
        return fail(err, errlen, "--batch is for ndjson, tcp-ack and tail, not %s", name);
    if (has_inflight && m != BENCH_TCP_ACK)
        return fail(err, errlen, "--inflight is for tcp-ack, not %s", name);
    if (has_subs && m != BENCH_TAIL)
        return fail(err, errlen, "--subscribers is for tail, not %s", name);
    if (o->rfc5424 && !syslog)
        return fail(err, errlen, "--rfc5424 is for syslog-udp and syslog-tcp, not %s", name);
    if (o->octet_count && m != BENCH_SYSLOG_TCP)
        return fail(err, errlen, "--octet-count is for syslog-tcp, not %s", name);
    if (m == BENCH_SYSLOG_UDP && o->size > BENCH_MAX_UDP_SIZE)
        return fail(err, errlen, "--size is at most %d bytes for syslog-udp (one datagram)",
                    BENCH_MAX_UDP_SIZE);
    if (o->count && !has_duration)
        o->duration_s = 0; /* -n alone: as long as it takes */
    if (m == BENCH_TAIL && !has_conns)
        o->conns = 1;

    const char *s = server && *server           ? server
                    : env_server && *env_server ? env_server
                                                : DEFAULT_SERVER;
    size_t n = strlen(s);
    while (n > 1 && s[n - 1] == '/')
        n--;
    if (n >= sizeof o->server)
        return fail(err, errlen, "--server URL is too long");
    memcpy(o->server, s, n);
    o->server[n] = '\0';
    url_t u;
    char uerr[256];
    if (url_parse(o->server, &u, uerr, sizeof uerr))
        return fail(err, errlen, "bad --server '%s': %s", o->server, uerr);
    if (u.tls)
        return fail(err, errlen,
                    "bad --server '%s': https:// is not supported by logship bench yet "
                    "(it measures plain HTTP): use http://",
                    o->server);
    if (target) {
        if (bench_mode_is_http(m))
            return fail(err, errlen, "--target is for the stream modes; %s goes to --server", name);
        if (addr_split(target, o->host, sizeof o->host, &o->port) || o->port == 0)
            return fail(err, errlen, "bad --target '%s': expected HOST:PORT", target);
    } else {
        snprintf(o->host, sizeof o->host, "%s", u.host);
        o->port = syslog ? 5514 : m == BENCH_TCP || m == BENCH_TCP_ACK ? 5170 : u.port;
    }

    unsigned loops = o->conns + (m == BENCH_TAIL ? o->subscribers : 0);
    if (!has_threads)
        o->threads = cores < 1 ? 1 : cores > BENCH_MAX_THREADS ? BENCH_MAX_THREADS : cores;
    if (o->threads > loops)
        o->threads = loops; /* a loop without a connection does nothing */
    return 0;
}

int bench_opts_parse(bench_opts_t *o, int argc, char **argv, unsigned cores, const char *env_server,
                     char *err, size_t errlen)
{
    static const struct option longopts[] = {
        {"connections", required_argument, NULL, 'c'},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"rate", required_argument, NULL, OPT_RATE},
        {"duration", required_argument, NULL, 'd'},
        {"count", required_argument, NULL, 'n'},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"size", required_argument, NULL, OPT_SIZE},
        {"corpus", required_argument, NULL, OPT_CORPUS},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"inflight", required_argument, NULL, OPT_INFLIGHT},
        {"subscribers", required_argument, NULL, OPT_SUBSCRIBERS},
        {"rfc5424", no_argument, NULL, OPT_RFC5424},
        {"octet-count", no_argument, NULL, OPT_OCTET},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"json", no_argument, NULL, OPT_JSON},
        {"verify", no_argument, NULL, OPT_VERIFY},
        {"quiet", no_argument, NULL, 'q'},
        {"server", required_argument, NULL, OPT_SERVER},
        {"target", required_argument, NULL, OPT_TARGET},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *server = NULL, *target = NULL;
    uint64_t v;
    int has_conns = 0, has_threads = 0, has_batch = 0, has_inflight = 0, has_subs = 0;
    int has_duration = 0;

    memset(o, 0, sizeof *o);
    o->conns = 10;
    o->duration_s = 10;
    o->size = 128;
    o->batch = 100;
    o->inflight = 8;
    o->subscribers = 1;
    o->timeout_s = 10;

    optind = 0; /* GNU: start over, this may not be the first parse */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":c:d:n:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if (whole(optarg, 1, BENCH_MAX_CONNECTIONS, 0, &v))
                return fail(err, errlen, "bad --connections '%s': expected 1..%d", optarg,
                            BENCH_MAX_CONNECTIONS);
            o->conns = (unsigned)v;
            has_conns = 1;
            break;
        case OPT_THREADS:
            if (whole(optarg, 1, BENCH_MAX_THREADS, 0, &v))
                return fail(err, errlen, "bad --threads '%s': expected 1..%d", optarg,
                            BENCH_MAX_THREADS);
            o->threads = (unsigned)v;
            has_threads = 1;
            break;
        case OPT_RATE: {
            char *end;
            double r = strtod(optarg, &end);
            if (end == optarg || *end || !isfinite(r) || r <= 0 || r > 1e9)
                return fail(err, errlen,
                            "bad --rate '%s': expected records/s above 0 (leave it out for "
                            "full speed)",
                            optarg);
            o->rate = r;
            break;
        }
        case 'd':
            if (duration(optarg, &o->duration_s) || o->duration_s <= 0 || o->duration_s > 1e6)
                return fail(err, errlen, "bad --duration '%s': expected e.g. 10, 10s, 500ms, 2m",
                            optarg);
            has_duration = 1;
            break;
        case 'n':
            if (whole(optarg, 1, UINT64_C(1000000000000), 0, &o->count))
                return fail(err, errlen, "bad --count '%s': expected 1..10^12 records", optarg);
            break;
        case OPT_WARMUP:
            if (duration(optarg, &o->warmup_s) || o->warmup_s > 1e6)
                return fail(err, errlen, "bad --warmup '%s': expected e.g. 2s", optarg);
            break;
        case OPT_SIZE:
            if (whole(optarg, BENCH_MIN_SIZE, BENCH_MAX_SIZE, 1, &v))
                return fail(err, errlen, "bad --size '%s': expected %d..%d bytes", optarg,
                            BENCH_MIN_SIZE, BENCH_MAX_SIZE);
            o->size = (size_t)v;
            break;
        case OPT_CORPUS:
            o->corpus = optarg;
            break;
        case OPT_BATCH:
            if (whole(optarg, 1, BENCH_MAX_BATCH, 0, &v))
                return fail(err, errlen, "bad --batch '%s': expected 1..%d records", optarg,
                            BENCH_MAX_BATCH);
            o->batch = (unsigned)v;
            has_batch = 1;
            break;
        case OPT_INFLIGHT:
            if (whole(optarg, 1, BENCH_MAX_INFLIGHT, 0, &v))
                return fail(err, errlen, "bad --inflight '%s': expected 1..%d batches", optarg,
                            BENCH_MAX_INFLIGHT);
            o->inflight = (unsigned)v;
            has_inflight = 1;
            break;
        case OPT_SUBSCRIBERS:
            if (whole(optarg, 1, BENCH_MAX_SUBSCRIBERS, 0, &v))
                return fail(err, errlen, "bad --subscribers '%s': expected 1..%d", optarg,
                            BENCH_MAX_SUBSCRIBERS);
            o->subscribers = (unsigned)v;
            has_subs = 1;
            break;
        case OPT_RFC5424:
            o->rfc5424 = 1;
            break;
        case OPT_OCTET:
            o->octet_count = 1;
            break;
        case OPT_TIMEOUT:
            if (duration(optarg, &o->timeout_s) || o->timeout_s <= 0 || o->timeout_s > 3600)
                return fail(err, errlen, "bad --timeout '%s': expected e.g. 10s", optarg);
            break;
        case OPT_JSON:
            o->json = 1;
            break;
        case OPT_VERIFY:
            o->verify = 1;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case OPT_SERVER:
            server = optarg;
            break;
        case OPT_TARGET:
            target = optarg;
            break;
        case 'h':
            return 1;
        case ':':
            return fail(err, errlen, "option '%s' needs a value", argv[optind - 1]);
        default:
            return fail(err, errlen, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return fail(err, errlen,
                    "which mode? http, json, ndjson, syslog-udp, syslog-tcp, tcp, tcp-ack or "
                    "tail");
    if (find_mode(argv[optind], &o->mode))
        return fail(err, errlen,
                    "unknown mode '%s' (expected http, json, ndjson, syslog-udp, syslog-tcp, "
                    "tcp, tcp-ack or tail)",
                    argv[optind]);
    if (optind + 1 < argc)
        return fail(err, errlen, "unexpected argument '%s'", argv[optind + 1]);
    return check(o, server, target, has_conns, has_threads, has_batch, has_inflight, has_subs,
                 has_duration, cores, env_server, err, errlen);
}
