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

#include "../common/level.h"
#include "../common/log.h"
#include "version.h"

enum opt_type {
    OPT_ADDR,
    OPT_PATH,
    OPT_SIZE,
    OPT_SIZE0, /* a size where 0 means "no limit" */
    OPT_INT,
    OPT_AGE,   /* a duration in seconds, 0 means "no limit" */
    OPT_FSYNC,
    OPT_LOGLEVEL,
    OPT_ROOTS, /* repeatable: each use adds a directory */
    OPT_NAMES, /* repeatable: each use adds a name (config_names_t) */
};

typedef struct option_def {
    const char *name;
    enum opt_type type;
    size_t offset;
    const char *def;
    const char *help;
} option_def_t;

#define OFF(f) offsetof(config_t, f)

static const option_def_t options[] = {
    {"http", OPT_ADDR, OFF(http), "127.0.0.1:8080",
     "HTTP listener (ingest, query, tail, UI), ADDR:PORT or off; port 0 picks a free one"},
    {"syslog-udp", OPT_ADDR, OFF(syslog_udp), "127.0.0.1:5514",
     "syslog over UDP (RFC 5424, RFC 3164, <PRI>text), ADDR:PORT or off"},
    {"syslog-tcp", OPT_ADDR, OFF(syslog_tcp), "127.0.0.1:5514",
     "syslog over TCP, octet counting or LF/NUL framing, ADDR:PORT or off"},
    {"tcp", OPT_ADDR, OFF(tcp), "127.0.0.1:5170",
     "raw TCP: one JSON object or text line per line, or acknowledged batches; or off"},
    {"max-line", OPT_SIZE, OFF(max_line), "64K",
     "longest syslog or TCP message; longer ones are cut and marked truncated"},
    {"max-batch-bytes", OPT_SIZE, OFF(max_batch_bytes), "8M",
     "acknowledged raw TCP: most bytes of record lines in one batch (the sender gets an "
     "error above)"},
    {"idle-timeout", OPT_AGE, OFF(idle_timeout_s), "5m",
     "close syslog and TCP connections silent this long (30s, 5m, 1h); 0 never"},
    {"data", OPT_PATH, OFF(data), "./data", "directory for stored records"},
    {"config", OPT_PATH, OFF(config_file), "", "read options from FILE (key = value lines)"},
    {"max-body", OPT_SIZE, OFF(max_body), "8M", "largest HTTP request body accepted (413 above)"},
    {"max-body-memory", OPT_SIZE, OFF(max_body_memory), "256M",
     "HTTP request bodies held in memory at once, all connections together (503 above)"},
    {"max-connections", OPT_INT, OFF(max_connections), "10000",
     "most simultaneous client connections"},
    {"memory-records", OPT_INT, OFF(memory_records), "100000",
     "newest records also kept in memory, for live tail"},
    {"memory-bytes", OPT_SIZE, OFF(memory_bytes), "256M", "memory for those records, at most"},
    {"segment-size", OPT_SIZE, OFF(segment_size), "64M", "size at which a segment file is sealed"},
    {"fsync", OPT_FSYNC, OFF(fsync), "interval",
     "always (ack after fsync), interval (fsync every --fsync-interval-ms) or never"},
    {"fsync-interval-ms", OPT_INT, OFF(fsync_interval_ms), "200",
     "how often to fsync with --fsync interval"},
    {"retain-bytes", OPT_SIZE0, OFF(retain_bytes), "0",
     "delete the oldest segments above this total size; 0 keeps all"},
    {"retain-age", OPT_AGE, OFF(retain_age_s), "0",
     "delete segments older than this (30m, 12h, 7d); 0 keeps all"},
    {"ws-ping", OPT_AGE, OFF(ws_ping_s), "30s",
     "ping live tail WebSockets after this much silence"},
    {"ws-timeout", OPT_AGE, OFF(ws_timeout_s), "10s",
     "close a WebSocket whose peer has not answered a ping this long"},
    {"max-subscribers", OPT_INT, OFF(max_subscribers), "10000",
     "most live tail subscribers at once"},
    {"tail-root", OPT_ROOTS, OFF(tail_roots), "",
     "a directory whose files may be tailed over /api/files (repeatable; none: off)"},
    {"request-timeout", OPT_AGE, OFF(request_timeout_s), "10s",
     "an HTTP request head, each body read, and reading a reply must make progress this fast"},
    {"keepalive-timeout", OPT_AGE, OFF(keepalive_timeout_s), "60s",
     "close an idle keep-alive HTTP connection after this long"},
    {"allowed-origin", OPT_NAMES, OFF(allowed_origins), "",
     "a web origin (https://app.example) whose pages may write or open WebSockets "
     "(repeatable; '*' any; default: same origin only)"},
    {"allowed-host", OPT_NAMES, OFF(allowed_hosts), "",
     "a Host name logshipd answers to besides IP addresses, localhost and this machine's "
     "name (repeatable; '*' any)"},
    {"log-file", OPT_PATH, OFF(log_file), "",
     "write logshipd's own messages to FILE, appending (reopened on SIGHUP); default stderr"},
    {"log-level", OPT_LOGLEVEL, OFF(log_level), "info",
     "logshipd's own diagnostics: error, warning, info or debug"},
};

#define NOPTIONS (sizeof options / sizeof options[0])

int config_parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno || s[0] == '-')
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
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno || v < 0)
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

int config_split_addr(const char *addr, char *host, size_t hostcap, int *port)
{
    const char *colon;
    const char *h = addr;
    size_t hn;
    if (addr[0] == '[') {
        const char *rb = strchr(addr, ']');
        if (!rb || rb[1] != ':')
            return -1;
        h = addr + 1;
        hn = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon)
            return -1;
        hn = (size_t)(colon - addr);
    }
    if (hn == 0 || hn >= hostcap)
        return -1;
    memcpy(host, h, hn);
    host[hn] = '\0';
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || errno || p < 0 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}

int config_resolve_addrs(config_t *c, FILE *err)
{
    struct {
        const char *flag;
        char *v;
    } a[] = {{"http", c->http}, {"syslog-udp", c->syslog_udp}, {"syslog-tcp", c->syslog_tcp},
             {"tcp", c->tcp}};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
        char host[CONFIG_ADDR_MAX], num[INET6_ADDRSTRLEN];
        int port;
        unsigned char tmp[16];
        if (strcmp(a[i].v, "off") == 0)
            continue;
        if (config_split_addr(a[i].v, host, sizeof host, &port)) {
            fprintf(err, "logshipd: --%s %s: use ADDR:PORT, [V6ADDR]:PORT or off\n", a[i].flag,
                    a[i].v);
            return -1;
        }
        if (inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1)
            continue;
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                 .ai_flags = AI_ADDRCONFIG};
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

static int apply(config_t *c, const option_def_t *o, const char *v, const char **why)
{
    char *field = (char *)c + o->offset;
    switch (o->type) {
    case OPT_ADDR: {
        char host[CONFIG_ADDR_MAX];
        int port;
        if (strcmp(v, "off") != 0 && config_split_addr(v, host, sizeof host, &port)) {
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
        if (config_parse_duration_ms(v, &ms) || (ms > 0 && ms < 1000)) {
            *why = "expected a duration like 30m, 12h or 7d, or 0 for no limit";
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
    case OPT_NAMES: {
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
    case OPT_AGE:
        return memcmp(fa, fb, sizeof(long)) != 0;
    case OPT_FSYNC:
    case OPT_LOGLEVEL:
        return memcmp(fa, fb, sizeof(int)) != 0;
    case OPT_ROOTS:
        if (a->ntail_roots != b->ntail_roots)
            return 1;
        for (int i = 0; i < a->ntail_roots; i++)
            if (strcmp(a->tail_roots[i], b->tail_roots[i]))
                return 1;
        return 0;
    case OPT_NAMES: {
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

void config_usage(FILE *out)
{
    fprintf(out, "usage: logshipd [--option value]...\n\n"
                 "Collects logs over HTTP, stores them durably, answers queries and\n"
                 "streams them live. Every option is also a config file key.\n\n");
    for (size_t i = 0; i < NOPTIONS; i++) {
        char flag[64];
        snprintf(flag, sizeof flag, "--%s", options[i].name);
        fprintf(out, "  %-20s %s", flag, options[i].help);
        if (options[i].def[0])
            fprintf(out, " (default %s)", options[i].def);
        fputc('\n', out);
    }
    fprintf(out, "  %-20s %s\n  %-20s %s\n", "--help", "show this help and exit", "--version",
            "show the version and exit");
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
        if (!find(name)) {
            fprintf(err, "logshipd: unknown option '--%s' (see --help)\n", name);
            return -1;
        }
        if (eq) {
            val = eq + 1;
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
    return 0;
}
