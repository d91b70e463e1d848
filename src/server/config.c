/* config.c - the option table, flags and config file: see config.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "../common/addr.h"
#include "../common/cidr.h"
#include "../common/level.h"
#include "../common/log.h"
#include "../common/version.h"

enum opt_type {
    OPT_ADDR,
    OPT_PATH,
    OPT_SIZE,
    OPT_SIZE0, /* a size where 0 means "no limit" */
    OPT_INT,
    OPT_INT0, /* an integer where 0 means "no limit" */
    OPT_RATE, /* N/s or N/m (a double, per second); 0 means "no limit" */
    OPT_AGE,  /* a duration in seconds, 0 means "no limit" */
    OPT_FSYNC,
    OPT_COMPRESS, /* none or zstd: an int, 0 or 1 */
    OPT_LOGLEVEL,
    OPT_ROOTS,   /* repeatable: each use adds a directory */
    OPT_NAMES,   /* repeatable: each use adds a name (config_names_t) */
    OPT_ORIGINS, /* OPT_NAMES whose values are web origins, '*' or "null" */
    OPT_FLAG,    /* on or off: "--insecure" alone is on; true/false, yes/no, 1/0 */
    OPT_CIDRS,   /* OPT_NAMES whose values are addresses or networks (cidr.h) */
};

/* --help's sections, in the order they are printed. */
enum opt_group {
    G_INPUT,
    G_STORE,
    G_READ,
    G_HTTP,
    G_TLS,
    G_SECURITY,
    G_OUTPUT,
    G_AMQP_IN,
    G_LOG,
    G_COUNT,
    G_HIDDEN
};
/* G_HIDDEN: options for tests, not in --help */

static const char *const group_titles[G_COUNT] = {
    "Inputs: logs come in over HTTP, syslog (UDP and TCP) and raw TCP",
    "Store",
    "Read side: queries, live tail and file tail",
    "HTTP limits and browsers",
    "TLS: https, wss and SSE; syslog (RFC 5425) and raw TCP over TLS",
    "Security: tokens, and who may connect",
    "Output: stored records published to RabbitMQ (AMQP 0-9-1)",
    "Input from RabbitMQ: a queue consumed with acks once records are durable",
    "Logging and configuration",
};

typedef struct option_def {
    const char *name;
    enum opt_type type;
    size_t offset;
    const char *def;
    enum opt_group group;
    const char *value; /* the value's placeholder in --help: ADDR:PORT, SIZE... */
    const char *help;
} option_def_t;

#define OFF(f) offsetof(config_t, f)

static const option_def_t options[] = {
    {"http", OPT_ADDR, OFF(http), "127.0.0.1:8080", G_INPUT, "ADDR:PORT",
     "HTTP: ingest (POST /api/log), queries, live tail, files, the web UI, /healthz and "
     "/metrics; off disables it, port 0 picks a free one"},
    {"syslog-udp", OPT_ADDR, OFF(syslog_udp), "127.0.0.1:5514", G_INPUT, "ADDR:PORT",
     "syslog over UDP (RFC 5424, RFC 3164, <PRI>text); or off"},
    {"syslog-tcp", OPT_ADDR, OFF(syslog_tcp), "127.0.0.1:5514", G_INPUT, "ADDR:PORT",
     "syslog over TCP, octet counting (RFC 6587) or LF/NUL-ended lines; or off"},
    {"tcp", OPT_ADDR, OFF(tcp), "127.0.0.1:5170", G_INPUT, "ADDR:PORT",
     "raw TCP: a JSON object or a text line per line, or acknowledged batches; or off"},
    /* the other shippers' listeners (the HTTP ones are routes on --http) */
    {"gelf-udp", OPT_ADDR, OFF(gelf_udp), "off", G_INPUT, "ADDR:PORT",
     "GELF over UDP (Graylog's 12201): plain, zlib or gzip, chunked; or off"},
    {"gelf-tcp", OPT_ADDR, OFF(gelf_tcp), "off", G_INPUT, "ADDR:PORT",
     "GELF over TCP: NUL-ended JSON messages of at most --max-line; or off"},
    {"forward", OPT_ADDR, OFF(forward), "off", G_INPUT, "ADDR:PORT",
     "Fluentd's forward protocol (fluentd, Fluent Bit, Docker's fluentd driver; 24224): "
     "messages of at most --max-batch-bytes, acknowledged once durable; or off"},
    {"max-line", OPT_SIZE, OFF(max_line), "64K", G_INPUT, "SIZE",
     "longest syslog or raw TCP message; longer ones are cut and marked truncated, "
     "and a syslog octet count up to 64 x SIZE (64M at most) still frames one"},
    {"max-batch-bytes", OPT_SIZE, OFF(max_batch_bytes), "8M", G_INPUT, "SIZE",
     "acknowledged raw TCP: most bytes of record lines in one batch (the sender gets an "
     "error above)"},
    {"idle-timeout", OPT_AGE, OFF(idle_timeout_s), "5m", G_INPUT, "DURATION",
     "close syslog and raw TCP connections silent this long; 0 never"},
    {"data", OPT_PATH, OFF(data), "./data", G_STORE, "DIR",
     "directory for stored records, locked by one logshipd"},
    {"segment-size", OPT_SIZE, OFF(segment_size), "64M", G_STORE, "SIZE",
     "size at which a segment file is sealed"},
    {"fsync", OPT_FSYNC, OFF(fsync), "interval", G_STORE, "MODE",
     "always (acknowledge after fsync), interval (fsync every --fsync-interval-ms) or "
     "never"},
    {"compress", OPT_COMPRESS, OFF(compress), "none", G_STORE, "MODE",
     "zstd: rewrite each sealed segment as zstd-compressed blocks with per-block filters, "
     "off the event loop (docs/FORMAT.md); none: keep segments as written"},
    {"compress-level", OPT_INT, OFF(compress_level), "3", G_STORE, "N",
     "the zstd level of --compress zstd, 1 (fastest) to 19"},
    {"fsync-interval-ms", OPT_INT, OFF(fsync_interval_ms), "200", G_STORE, "N",
     "how often to fsync with --fsync interval, in milliseconds"},
    {"retain-bytes", OPT_SIZE0, OFF(retain_bytes), "0", G_STORE, "SIZE",
     "delete the oldest segments above this total size; 0 keeps all"},
    {"retain-age", OPT_AGE, OFF(retain_age_s), "0", G_STORE, "DURATION",
     "delete segments older than this (30m, 12h, 7d); 0 keeps all"},
    {"memory-records", OPT_INT, OFF(memory_records), "100000", G_STORE, "N",
     "newest records also kept in memory, for live tail"},
    {"memory-bytes", OPT_SIZE, OFF(memory_bytes), "64M", G_STORE, "SIZE",
     "memory for those records, at most"},
    {"max-client-tails", OPT_INT0, OFF(max_client_tails), "0", G_READ, "N",
     "live tails (WebSocket or SSE) one client may have open: its token with --auth-file, "
     "else its address; one more is refused with 429 (0: no limit)"},
    {"max-subscribers", OPT_INT, OFF(max_subscribers), "10000", G_READ, "N",
     "most live tail subscribers (WebSocket or SSE) at once"},
    {"ws-ping", OPT_AGE, OFF(ws_ping_s), "30s", G_READ, "DURATION",
     "ping live tail WebSockets after this much silence"},
    {"ws-timeout", OPT_AGE, OFF(ws_timeout_s), "10s", G_READ, "DURATION",
     "close a WebSocket whose peer has not answered a ping this long"},
    {"tail-root", OPT_ROOTS, OFF(tail_roots), "", G_READ, "DIR",
     "a directory whose files may be tailed over /api/files (repeatable; none: off)"},
    {"max-body", OPT_SIZE, OFF(max_body), "8M", G_HTTP, "SIZE",
     "largest HTTP request body accepted (413 above)"},
    {"max-body-memory", OPT_SIZE, OFF(max_body_memory), "256M", G_HTTP, "SIZE",
     "HTTP request bodies held in memory at once, all connections together (503 above)"},
    {"max-connections", OPT_INT, OFF(max_connections), "10000", G_HTTP, "N",
     "most simultaneous client connections per listener (503 above for HTTP)"},
    {"request-timeout", OPT_AGE, OFF(request_timeout_s), "10s", G_HTTP, "DURATION",
     "the default of --header-timeout, --body-timeout and --send-timeout"},
    {"header-timeout", OPT_AGE, OFF(header_timeout_s), "0", G_HTTP, "DURATION",
     "an HTTP request head must arrive whole this soon after its first byte (408; "
     "0: --request-timeout)"},
    {"body-timeout", OPT_AGE, OFF(body_timeout_s), "0", G_HTTP, "DURATION",
     "each read of a request body must come this soon after the last (408; "
     "0: --request-timeout)"},
    {"send-timeout", OPT_AGE, OFF(send_timeout_s), "0", G_HTTP, "DURATION",
     "a client must take some of a reply this often or it is closed "
     "(0: --request-timeout)"},
    {"rate-limit", OPT_RATE, OFF(rate_limit), "0", G_HTTP, "RATE",
     "HTTP requests per second (100/s) or minute (600/m) each client may make: its "
     "address, or its token with --auth-file; over it: 429 with Retry-After (0: no limit)"},
    {"rate-burst", OPT_INT0, OFF(rate_burst), "0", G_HTTP, "N",
     "requests a client may make at once before --rate-limit holds it back (0: one "
     "second's worth)"},
    {"max-client-connections", OPT_INT0, OFF(max_client_connections), "0", G_HTTP, "N",
     "open HTTP connections one client address may hold (503 above; 0: no limit)"},
    {"keepalive-timeout", OPT_AGE, OFF(keepalive_timeout_s), "60s", G_HTTP, "DURATION",
     "close an idle keep-alive HTTP connection after this long"},
    {"allowed-origin", OPT_NAMES, OFF(allowed_origins), "", G_HTTP, "ORIGIN",
     "a web origin (https://app.example) whose pages may write or open WebSockets "
     "(repeatable; '*' any; default: same origin only)"},
    {"allowed-host", OPT_NAMES, OFF(allowed_hosts), "", G_HTTP, "NAME",
     "a Host name logshipd answers to besides IP addresses, localhost and this machine's "
     "name (repeatable; '*' any)"},
    {"cors-origin", OPT_ORIGINS, OFF(cors_origins), "", G_HTTP, "ORIGIN",
     "a web origin whose pages may use /api/log, /api/logs, /api/tail and /healthz with "
     "CORS (fetch, EventSource): preflights are answered and replies carry "
     "Access-Control-Allow-Origin; it passes the Origin check on those routes too "
     "(repeatable; '*' any; default: no CORS)"},
    /* security: tokens, and who may connect (server/access.h) */
    {"auth-file", OPT_PATH, OFF(auth_file), "", G_SECURITY, "FILE",
     "tokens, one per line: NAME TOKEN SCOPES [TOPIC-PATTERNS], SCOPES a comma list of "
     "write, read, tail, files, admin, the patterns (default '#') the topics it may write "
     "and see; every HTTP route but /, /ui/ and /healthz then needs one (Authorization: "
     "Bearer TOKEN, or Basic with the token as the password); reloaded on SIGHUP; "
     "default: none, and loopback listeners only"},
    {"insecure", OPT_FLAG, OFF(insecure), "false", G_SECURITY, "",
     "let an --http that is not loopback serve without --auth-file, and syslog, raw TCP, "
     "GELF or forward listeners that are not loopback take anyone without --allow"},
    {"allow", OPT_CIDRS, OFF(allow), "", G_SECURITY, "CIDR",
     "an address or network (192.0.2.7, 10.0.0.0/8, 2001:db8::/32) whose syslog, raw "
     "TCP, GELF (UDP and TCP) and forward clients are accepted; others are refused and "
     "counted (repeatable; default: anyone)"},
    {"syslog-allow", OPT_CIDRS, OFF(syslog_allow), "", G_SECURITY, "CIDR",
     "as --allow, for the syslog listeners (UDP and TCP) only (repeatable)"},
    {"tcp-allow", OPT_CIDRS, OFF(tcp_allow), "", G_SECURITY, "CIDR",
     "as --allow, for the raw TCP listener only (repeatable)"},
    {"gelf-allow", OPT_CIDRS, OFF(gelf_allow), "", G_SECURITY, "CIDR",
     "as --allow, for the GELF listeners (UDP and TCP) only (repeatable)"},
    {"forward-allow", OPT_CIDRS, OFF(forward_allow), "", G_SECURITY, "CIDR",
     "as --allow, for the Fluentd forward listeners only (repeatable)"},
    {"forward-auth", OPT_PATH, OFF(forward_auth), "", G_SECURITY, "FILE",
     "the forward protocol's shared-key handshake on --forward and --forward-tls: a file "
     "with a line 'shared_key KEY' and optional 'user NAME PASSWORD' lines (then every "
     "client needs one); default: none"},
    {"ticket-lifetime", OPT_AGE, OFF(ticket_lifetime_s), "60s", G_HIDDEN, "DURATION",
     "how long a ticket from POST /api/session lasts"},
    /* the RabbitMQ output (src/amqp/amqp_out.h checks the values at start) */
    {"amqp-out", OPT_PATH, OFF(amqp_out), "", G_OUTPUT, "URL",
     "publish every stored record to RabbitMQ: amqp://USER:PASS@HOST:PORT/VHOST, or "
     "amqps://... (TLS); with publisher confirms, resuming after the last confirmed "
     "record (kept in the data directory); default: off"},
    {"amqp-exchange", OPT_PATH, OFF(amqp_exchange), "logship", G_OUTPUT, "NAME",
     "the topic exchange records are published to (declared durable); routing key = "
     "the record's topic"},
    {"amqp-out-topic", OPT_NAMES, OFF(amqp_out_topics), "", G_OUTPUT, "PATTERN",
     "publish only records whose topic matches (kern.*, *.crit, web.#; repeatable; "
     "default #, all)"},
    {"amqp-batch", OPT_INT, OFF(amqp_batch), "1", G_OUTPUT, "N",
     "records per message: 1 sends each record's JSON; more sends up to N records of "
     "one topic as NDJSON (application/x-ndjson)"},
    {"amqp-inflight", OPT_INT, OFF(amqp_inflight), "1000", G_OUTPUT, "N",
     "messages published and not yet confirmed, at most: what a broker restart may "
     "make it publish twice"},
    {"amqp-ca", OPT_PATH, OFF(amqp_ca), "", G_OUTPUT, "FILE",
     "CA certificates (PEM) that an amqps:// broker's certificate must chain to "
     "(--amqp-out and --amqp-in); default: the system's bundle"},
    /* TLS: the files are read again on SIGHUP (signals.c) */
    {"tls-cert", OPT_PATH, OFF(tls_cert), "", G_TLS, "FILE",
     "PEM certificate chain (the server's first); with --tls-key the --http listener speaks "
     "only TLS (https, wss), and --syslog-tls, --tcp-tls, --gelf-tls and --forward-tls can "
     "listen; the files are read again on SIGHUP"},
    {"tls-key", OPT_PATH, OFF(tls_key), "", G_TLS, "FILE", "PEM private key of --tls-cert"},
    {"tls-client-ca", OPT_PATH, OFF(tls_client_ca), "", G_TLS, "FILE",
     "PEM CA certificates: every TLS client must then present a certificate one of them "
     "signed (default: none asked)"},
    {
        "syslog-tls",
        OPT_ADDR,
        OFF(syslog_tls),
        "off",
        G_TLS,
        "ADDR[:PORT]",
        "syslog over TLS (RFC 5425, octet counting; port 6514 when none is given); or off",
    },
    {"tcp-tls", OPT_ADDR, OFF(tcp_tls), "off", G_TLS, "ADDR:PORT",
     "raw TCP over TLS, acknowledged batches included; or off"},
    {"gelf-tls", OPT_ADDR, OFF(gelf_tls), "off", G_TLS, "ADDR:PORT",
     "GELF TCP (NUL-ended messages) over TLS; or off"},
    {"forward-tls", OPT_ADDR, OFF(forward_tls), "off", G_TLS, "ADDR:PORT",
     "Fluentd's forward protocol over TLS (Fluent Bit's tls on, fluentd's transport tls); "
     "or off"},
    /* the RabbitMQ input (src/amqp/amqp_in.h checks the values at start) */
    {"amqp-in", OPT_PATH, OFF(amqp_in), "", G_AMQP_IN, "URL",
     "consume --amqp-queue on RabbitMQ: amqp://USER:PASS@HOST:PORT/VHOST or amqps://...; "
     "each message is acked once its records are durable (--fsync); default: off"},
    {"amqp-queue", OPT_PATH, OFF(amqp_queue), "logship", G_AMQP_IN, "NAME",
     "the queue to consume (declared durable); logshipd consuming one queue share its "
     "messages"},
    {"amqp-bind", OPT_NAMES, OFF(amqp_binds), "", G_AMQP_IN, "EXCHANGE:PATTERN",
     "bind the queue to a topic exchange (declared durable) with a pattern: logship:#, "
     "logship:kern.* (repeatable; default: no bindings made)"},
    {"amqp-prefetch", OPT_INT, OFF(amqp_prefetch), "100", G_AMQP_IN, "N",
     "messages delivered and not yet acked, at most (basic.qos): what a consumer holds, "
     "and what the broker gives again to another when it goes away"},
    {"amqp-dedup", OPT_INT0, OFF(amqp_dedup), "262144", G_AMQP_IN, "N",
     "keys of the newest messages taken (records another logshipd published, message ids) "
     "remembered, rebuilt from the store at start, so a message delivered again is acked "
     "and not stored twice; 0: off"},
    {"config", OPT_PATH, OFF(config_file), "", G_LOG, "FILE",
     "read options from FILE (key = value lines); flags override it"},
    {"log-file", OPT_PATH, OFF(log_file), "", G_LOG, "FILE",
     "write logshipd's own messages to FILE, appending (reopened on SIGHUP); default "
     "stderr"},
    {"log-level", OPT_LOGLEVEL, OFF(log_level), "info", G_LOG, "LEVEL",
     "logshipd's own messages: error, warning, info or debug"},
};

#define NOPTIONS (sizeof options / sizeof options[0])

/* The port of an address given without one (0: it must have one). */
static int default_port(const option_def_t *o)
{
    return strcmp(o->name, "syslog-tls") == 0 ? 6514 : 0; /* RFC 5425 */
}

int config_parse_size(const char *s, size_t *out)
{
    char *end;
    /* digits first: strtoull would take leading blanks, '+' and a '-' that
     * wraps around (" -1" as 2^64 - 1) */
    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    while (*end == ' ')
        end++;
    unsigned long long mul = 1;
    switch (*end) {
    case 'k':
    case 'K':
        mul = 1ULL << 10;
        break;
    case 'm':
    case 'M':
        mul = 1ULL << 20;
        break;
    case 'g':
    case 'G':
        mul = 1ULL << 30;
        break;
    case 't':
    case 'T':
        mul = 1ULL << 40;
        break;
    case '\0':
        break;
    default:
        return -1;
    }
    if (*end) {
        end++;
        if (*end == 'i')
            end++;
        if (*end == 'B' || *end == 'b')
            end++;
    }
    if (*end)
        return -1;
    if (v > SIZE_MAX / mul)
        return -1;
    *out = (size_t)(v * mul);
    return 0;
}

int config_parse_duration_ms(const char *s, long *ms)
{
    char *end;
    if (s[0] < '0' || s[0] > '9')
        return -1; /* digits first, as for sizes */
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno)
        return -1;
    long long mul;
    if (*end == '\0' || strcmp(end, "s") == 0)
        mul = 1000;
    else if (strcmp(end, "ms") == 0)
        mul = 1;
    else if (strcmp(end, "m") == 0)
        mul = 60 * 1000;
    else if (strcmp(end, "h") == 0)
        mul = 3600 * 1000;
    else if (strcmp(end, "d") == 0)
        mul = 86400 * 1000;
    else
        return -1;
    if (v > LONG_MAX / mul)
        return -1;
    *ms = (long)(v * mul);
    return 0;
}

int config_resolve_addrs(config_t *c, FILE *err)
{
    struct {
        const char *flag;
        char *v;
    } a[] = {
        {"http", c->http},         {"syslog-udp", c->syslog_udp},  {"syslog-tcp", c->syslog_tcp},
        {"tcp", c->tcp},           {"syslog-tls", c->syslog_tls},  {"tcp-tls", c->tcp_tls},
        {"gelf-udp", c->gelf_udp}, {"gelf-tcp", c->gelf_tcp},      {"forward", c->forward},
        {"gelf-tls", c->gelf_tls}, {"forward-tls", c->forward_tls}};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
        char host[CONFIG_ADDR_MAX], num[INET6_ADDRSTRLEN];
        int port;
        unsigned char tmp[16];
        if (strcmp(a[i].v, "off") == 0)
            continue;
        if (addr_split(a[i].v, host, sizeof host, &port)) {
            fprintf(err, "logshipd: --%s %s: use ADDR:PORT, [V6ADDR]:PORT or off\n", a[i].flag,
                    a[i].v);
            return -1;
        }
        if (inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1)
            continue;
        struct addrinfo hints = {
            .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
        struct addrinfo *res = NULL, *r;
        int e = getaddrinfo(host, NULL, &hints, &res);
        if (e) {
            fprintf(err, "logshipd: --%s %s: cannot resolve '%s': %s\n", a[i].flag, a[i].v, host,
                    gai_strerror(e));
            return -1;
        }
        for (r = res; r && r->ai_family != AF_INET; r = r->ai_next)
            ; /* IPv4 first, as "localhost" is meant */
        if (!r)
            r = res;
        const void *addr = r->ai_family == AF_INET
                               ? (const void *)&((struct sockaddr_in *)r->ai_addr)->sin_addr
                               : (const void *)&((struct sockaddr_in6 *)r->ai_addr)->sin6_addr;
        inet_ntop(r->ai_family, addr, num, sizeof num);
        if (r->ai_family == AF_INET6)
            snprintf(a[i].v, CONFIG_ADDR_MAX, "[%s]:%d", num, port);
        else
            snprintf(a[i].v, CONFIG_ADDR_MAX, "%s:%d", num, port);
        freeaddrinfo(res);
    }
    return 0;
}

static const option_def_t *find(const char *name)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

/* "*", "null", or scheme://host[:port] as a browser sends it in Origin:
 * http or https, a host of letters, digits, '-', '.' (or [v6]), a port of
 * digits, nothing after. */
static int web_origin_ok(const char *v)
{
    if (strcmp(v, "*") == 0 || strcmp(v, "null") == 0)
        return 1;
    const char *p;
    if (strncmp(v, "http://", 7) == 0)
        p = v + 7;
    else if (strncmp(v, "https://", 8) == 0)
        p = v + 8;
    else
        return 0;
    const char *h = p;
    if (*p == '[') {
        p += strspn(p + 1, "0123456789abcdefABCDEF:.") + 1;
        if (*p++ != ']' || p - h < 4)
            return 0;
    } else {
        p += strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.");
        if (p == h)
            return 0;
    }
    if (*p == ':') {
        size_t d = strspn(p + 1, "0123456789");
        if (d < 1 || d > 5)
            return 0;
        p += 1 + d;
    }
    return *p == '\0';
}

static int apply(config_t *c, const option_def_t *o, const char *v, const char **why)
{
    char *field = (char *)c + o->offset;
    switch (o->type) {
    case OPT_ADDR: {
        char host[CONFIG_ADDR_MAX], with_port[CONFIG_ADDR_MAX];
        int port;
        size_t vn = strlen(v);
        int no_port = !strchr(v, ':') || (v[0] == '[' && v[vn - 1] == ']'); /* "[::1]" */
        if (default_port(o) && strcmp(v, "off") != 0 && no_port && vn < CONFIG_ADDR_MAX - 6) {
            snprintf(with_port, sizeof with_port, "%s:%d", v, default_port(o));
            v = with_port; /* "host" is "host:PORT" */
        }
        if (strcmp(v, "off") != 0 && addr_split(v, host, sizeof host, &port)) {
            *why = "expected ADDR:PORT (like 127.0.0.1:8080) or off";
            return -1;
        }
        snprintf(field, CONFIG_ADDR_MAX, "%s", v);
        return 0;
    }
    case OPT_PATH:
        if (strlen(v) >= CONFIG_PATH_MAX) {
            *why = "path too long";
            return -1;
        }
        snprintf(field, CONFIG_PATH_MAX, "%s", v);
        return 0;
    case OPT_SIZE: {
        size_t sz;
        if (config_parse_size(v, &sz) || sz == 0) {
            *why = "expected a size like 8M, 512K or 1G";
            return -1;
        }
        memcpy(field, &sz, sizeof sz);
        return 0;
    }
    case OPT_SIZE0: {
        size_t sz;
        if (strcmp(v, "0") != 0 && (config_parse_size(v, &sz) || sz == 0)) {
            *why = "expected a size like 10G or 0 for no limit";
            return -1;
        }
        if (strcmp(v, "0") == 0)
            sz = 0;
        memcpy(field, &sz, sizeof sz);
        return 0;
    }
    case OPT_AGE: {
        long ms;
        if (config_parse_duration_ms(v, &ms)) {
            *why = "expected a duration like 30m, 12h or 7d, or 0 for no limit";
            return -1;
        }
        if (ms % 1000) {
            /* 500ms would be 0 (off, or the default) and 1500ms 1s: refuse */
            *why = "expected whole seconds (5s, or 5000ms), or 0: this option counts seconds";
            return -1;
        }
        long secs = ms / 1000;
        memcpy(field, &secs, sizeof secs);
        return 0;
    }
    case OPT_ROOTS: {
        if (!*v)
            return 0;
        if (c->ntail_roots == CONFIG_ROOTS_MAX) {
            *why = "at most 16 tail roots";
            return -1;
        }
        struct stat st;
        if (stat(v, &st) || !S_ISDIR(st.st_mode)) {
            *why = "not a directory";
            return -1;
        }
        if (strlen(v) >= CONFIG_PATH_MAX) {
            *why = "path too long";
            return -1;
        }
        snprintf(c->tail_roots[c->ntail_roots++], CONFIG_PATH_MAX, "%s", v);
        return 0;
    }
    case OPT_FLAG: {
        int on;
        if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1"))
            on = 1;
        else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0"))
            on = 0;
        else {
            *why = "expected true or false";
            return -1;
        }
        memcpy(field, &on, sizeof on);
        return 0;
    }
    case OPT_CIDRS: {
        cidr_t cidr;
        const char *bad;
        if (*v && cidr_parse(v, strlen(v), &cidr, &bad)) {
            *why = bad;
            return -1;
        }
        goto names;
    }
    case OPT_ORIGINS:
        if (*v && !web_origin_ok(v)) {
            *why = "expected '*', null or an origin like https://app.example or "
                   "http://localhost:3000 (scheme, host, optional port; no path)";
            return -1;
        }
        /* fall through */
    case OPT_NAMES:
    names : {
        config_names_t *names = (config_names_t *)(void *)field;
        if (!*v)
            return 0;
        if (names->n == CONFIG_NAMES_MAX) {
            *why = "at most 16 names";
            return -1;
        }
        if (strlen(v) >= CONFIG_ADDR_MAX) {
            *why = "name too long";
            return -1;
        }
        snprintf(names->v[names->n], CONFIG_ADDR_MAX, "%s", v);
        names->ptr[names->n] = names->v[names->n];
        names->n++;
        return 0;
    }
    case OPT_FSYNC: {
        static const char *const names[] = {"always", "interval", "never"};
        for (int i = 0; i < 3; i++) {
            if (strcmp(v, names[i]) == 0) {
                memcpy(field, &i, sizeof i);
                return 0;
            }
        }
        *why = "expected always, interval or never";
        return -1;
    }
    case OPT_COMPRESS: {
        int on;
        if (strcmp(v, "none") == 0)
            on = 0;
        else if (strcmp(v, "zstd") == 0)
            on = 1;
        else {
            *why = "expected zstd or none";
            return -1;
        }
        memcpy(field, &on, sizeof on);
        return 0;
    }
    case OPT_INT: {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (end == v || *end || errno || n <= 0) {
            *why = "expected a positive integer";
            return -1;
        }
        memcpy(field, &n, sizeof n);
        return 0;
    }
    case OPT_INT0: {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (end == v || *end || errno || n < 0) {
            *why = "expected a count, or 0 for no limit";
            return -1;
        }
        memcpy(field, &n, sizeof n);
        return 0;
    }
    case OPT_RATE: {
        char *end;
        errno = 0;
        double r = strtod(v, &end);
        double per = 1;
        if (end != v && (strcmp(end, "/m") == 0 || strcmp(end, "/min") == 0))
            per = 60;
        else if (end != v && *end && strcmp(end, "/s") != 0)
            end = (char *)v; /* not a unit we know */
        if (end == v || errno || !(r >= 0) || r > 1e9) {
            *why = "expected a rate like 100/s or 600/m, or 0 for no limit";
            return -1;
        }
        r /= per;
        memcpy(field, &r, sizeof r);
        return 0;
    }
    case OPT_LOGLEVEL: {
        int lv = level_parse(v, strlen(v));
        if (lv < LOG_ERROR || lv > LOG_DEBUG || lv == LEVEL_NOTICE) {
            *why = "expected error, warning, info or debug";
            return -1;
        }
        memcpy(field, &lv, sizeof lv);
        return 0;
    }
    }
    *why = "internal: unknown option type";
    return -1;
}

int config_set(config_t *c, const char *key, const char *value, const char **why)
{
    const option_def_t *o = find(key);
    if (!o) {
        *why = "unknown option";
        return -1;
    }
    return apply(c, o, value, why);
}

void config_defaults(config_t *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < NOPTIONS; i++) {
        const char *why;
        if (apply(c, &options[i], options[i].def, &why) && options[i].def[0]) {
            fprintf(stderr, "logshipd: bad default for %s: %s\n", options[i].name, why);
            abort();
        }
    }
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

int config_load_file(config_t *c, const char *path, FILE *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(err, "logshipd: cannot read config %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[8192];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            fprintf(err, "logshipd: %s:%d: expected 'key = value', got '%s'\n", path, lineno, s);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        /* allow quoting a value that has leading or trailing spaces */
        size_t vn = strlen(val);
        if (vn >= 2 && val[0] == '"' && val[vn - 1] == '"') {
            val[vn - 1] = '\0';
            val++;
        }
        const char *why;
        if (strcmp(key, "config") == 0) {
            fprintf(err, "logshipd: %s:%d: 'config' cannot be set inside a config file\n", path,
                    lineno);
            rc = -1;
            break;
        }
        if (config_set(c, key, val, &why)) {
            if (!find(key))
                fprintf(err, "logshipd: %s:%d: unknown key '%s'\n", path, lineno, key);
            else
                fprintf(err, "logshipd: %s:%d: bad value '%s' for '%s': %s\n", path, lineno, val,
                        key, why);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

static int option_differs(const config_t *a, const config_t *b, const option_def_t *o)
{
    const char *fa = (const char *)a + o->offset, *fb = (const char *)b + o->offset;
    switch (o->type) {
    case OPT_ADDR:
    case OPT_PATH:
        return strcmp(fa, fb) != 0;
    case OPT_SIZE:
    case OPT_SIZE0:
        return memcmp(fa, fb, sizeof(size_t)) != 0;
    case OPT_INT:
    case OPT_INT0:
    case OPT_AGE:
        return memcmp(fa, fb, sizeof(long)) != 0;
    case OPT_RATE:
        return memcmp(fa, fb, sizeof(double)) != 0;
    case OPT_FSYNC:
    case OPT_COMPRESS:
    case OPT_LOGLEVEL:
    case OPT_FLAG:
        return memcmp(fa, fb, sizeof(int)) != 0;
    case OPT_ROOTS:
        if (a->ntail_roots != b->ntail_roots)
            return 1;
        for (int i = 0; i < a->ntail_roots; i++)
            if (strcmp(a->tail_roots[i], b->tail_roots[i]))
                return 1;
        return 0;
    case OPT_NAMES:
    case OPT_ORIGINS:
    case OPT_CIDRS: {
        const config_names_t *na = (const void *)fa, *nb = (const void *)fb;
        if (na->n != nb->n)
            return 1;
        for (int i = 0; i < na->n; i++)
            if (strcmp(na->v[i], nb->v[i]))
                return 1;
        return 0;
    }
    }
    return 1;
}

void config_diff(const config_t *a, const config_t *b, void (*fn)(void *arg, const char *name),
                 void *arg)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (option_differs(a, b, &options[i]))
            fn(arg, options[i].name);
}

/* --help is laid out for 80 columns: an option's flag and placeholder in
 * the first USAGE_COL columns (its text on the next line when they do not
 * fit), then its text wrapped at USAGE_WIDTH. */
#define USAGE_WIDTH 79
#define USAGE_COL   28

/* Writes text from column col (the cursor is there), wrapping at
 * USAGE_WIDTH onto lines indented to indent. Returns the column after. */
static size_t wrap(FILE *out, const char *text, size_t col, size_t indent)
{
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        size_t w = strcspn(p, " ");
        if (col > indent && col + 1 + w > USAGE_WIDTH) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, w, out);
        col += w;
        p += w;
    }
    return col;
}

/* "  left    text...", text from column col. */
static void usage_item(FILE *out, size_t col, const char *left, const char *text)
{
    size_t n = strlen(left);
    fprintf(out, "  %s", left);
    if (2 + n + 2 > col)
        fprintf(out, "\n%*s", (int)col, "");
    else
        fprintf(out, "%*s", (int)(col - 2 - n), "");
    wrap(out, text, col, col);
    fputc('\n', out);
}

static void usage_para(FILE *out, const char *text)
{
    wrap(out, text, 0, 0);
    fputc('\n', out);
}

void config_usage(FILE *out)
{
    fprintf(out, "usage: logshipd [--option VALUE | --option=VALUE]...\n\n");
    usage_para(out, "logshipd collects logs over HTTP, syslog (UDP and TCP) and raw TCP, "
                    "stores them durably, answers queries and streams them live (WebSocket, "
                    "SSE and a web UI). Every option is also a key in the --config file.");
    fputc('\n', out);
    usage_para(out, "SIZE is bytes with an optional K, M or G (64K, 8M, 1G); DURATION is "
                    "whole seconds, or a number with s, m, h, d or ms (30s, 5m, 12h, 7d, "
                    "5000ms).");
    for (int g = 0; g < G_COUNT; g++) {
        fprintf(out, "\n%s:\n", group_titles[g]);
        for (size_t i = 0; i < NOPTIONS; i++) {
            const option_def_t *o = &options[i];
            if (o->group != (enum opt_group)g)
                continue;
            char left[64], text[512];
            snprintf(left, sizeof left, o->value[0] ? "--%s %s" : "--%s", o->name, o->value);
            if (o->def[0] && o->type != OPT_FLAG)
                snprintf(text, sizeof text, "%s (default %s)", o->help, o->def);
            else
                snprintf(text, sizeof text, "%s", o->help);
            usage_item(out, USAGE_COL, left, text);
        }
        if (g == G_LOG) {
            usage_item(out, USAGE_COL, "--help", "show this help and exit");
            usage_item(out, USAGE_COL, "--check-config",
                       "check the flags and the --config file (addresses, --tail-root "
                       "directories) and exit: 0 when good, 2 otherwise");
            usage_item(out, USAGE_COL, "--version", "show the version and exit");
        }
    }
    fprintf(out, "\nSignals:\n");
    usage_item(out, 13, "TERM, INT",
               "stop accepting connections, answer the requests in flight, "
               "write and sync what was accepted, and exit 0 within 5 s; "
               "a second one stops at once");
    usage_item(out, 13, "HUP",
               "reload the --config file and the flags (what can change live is "
               "applied, the rest is logged as needing a restart) and reopen "
               "--log-file");
    usage_item(out, 13, "USR1",
               "log a status line (uptime, records, store size, connections, "
               "subscribers)");
    usage_item(out, 13, "USR2", "ignored");
    fprintf(out, "\nExit codes:\n");
    usage_item(out, 13, "0", "clean shutdown, --help or --version");
    usage_item(out, 13, "1", "cannot start (data directory, its lock, --log-file, a port in use)");
    usage_item(out, 13, "2", "bad option, value or address");
    fprintf(out, "\nExamples:\n");
    fprintf(out, "  logshipd --data /var/lib/logship --retain-age 7d --retain-bytes 20G\n");
    fprintf(out, "  logshipd --config /etc/logship.conf --http 0.0.0.0:8080 "
                 "--tail-root /var/log\n");
}

size_t config_option_count(void)
{
    size_t n = 0;
    for (size_t i = 0; i < NOPTIONS; i++)
        n += options[i].group != G_HIDDEN;
    return n;
}

int config_option_info(size_t i, const char **name, const char **value)
{
    for (size_t j = 0; j < NOPTIONS; j++) {
        if (options[j].group == G_HIDDEN)
            continue;
        if (i-- == 0) {
            *name = options[j].name;
            *value = options[j].value;
            return 0;
        }
    }
    return -1;
}

/* The TLS options go together: a cert needs its key, and the TLS
 * listeners and the client CA need both. 0, or -1 after printing why. */
static int tls_check(const config_t *c, FILE *err)
{
    int cert = c->tls_cert[0] != '\0', key = c->tls_key[0] != '\0';
    const char *needs = NULL;
    if (cert != key)
        needs = cert ? "--tls-cert" : "--tls-key";
    else if (!cert && strcmp(c->syslog_tls, "off") != 0)
        needs = "--syslog-tls";
    else if (!cert && strcmp(c->tcp_tls, "off") != 0)
        needs = "--tcp-tls";
    else if (!cert && strcmp(c->gelf_tls, "off") != 0)
        needs = "--gelf-tls";
    else if (!cert && strcmp(c->forward_tls, "off") != 0)
        needs = "--forward-tls";
    else if (!cert && c->tls_client_ca[0])
        needs = "--tls-client-ca";
    if (!needs)
        return 0;
    fprintf(err, "logshipd: %s needs both --tls-cert FILE and --tls-key FILE\n", needs);
    return -1;
}

int config_from_args(config_t *c, int argc, char **argv, FILE *err)
{
    /* the config file goes first, so flags override it */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            config_usage(stdout);
            return 1;
        }
        if (strcmp(a, "--version") == 0) {
            printf("logshipd %s\n", LOGSHIP_VERSION);
            return 1;
        }
        const char *file = NULL;
        if (strcmp(a, "--config") == 0 && i + 1 < argc)
            file = argv[i + 1];
        else if (strncmp(a, "--config=", 9) == 0)
            file = a + 9;
        if (file) {
            const char *why;
            if (config_set(c, "config", file, &why) || config_load_file(c, file, err))
                return -1;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            fprintf(err, "logshipd: unexpected argument '%s' (see --help)\n", a);
            return -1;
        }
        char name[64];
        const char *val;
        const char *eq = strchr(a + 2, '=');
        size_t nl = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
        if (nl >= sizeof name) {
            fprintf(err, "logshipd: unknown option '%s' (see --help)\n", a);
            return -1;
        }
        memcpy(name, a + 2, nl);
        name[nl] = '\0';
        const option_def_t *o = find(name);
        if (!o) {
            fprintf(err, "logshipd: unknown option '--%s' (see --help)\n", name);
            return -1;
        }
        if (eq) {
            val = eq + 1;
        } else if (o->type == OPT_FLAG) {
            val = "true"; /* a flag alone is on */
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            fprintf(err, "logshipd: option '--%s' needs a value\n", name);
            return -1;
        }
        if (strcmp(name, "config") == 0)
            continue;
        const char *why;
        if (config_set(c, name, val, &why)) {
            fprintf(err, "logshipd: bad value '%s' for --%s: %s\n", val, name, why);
            return -1;
        }
    }
    return tls_check(c, err);
}
