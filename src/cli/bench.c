/* bench.c - `logship bench MODE`: a load tester for log servers, event
 * driven (one libuv loop per thread, bench_run.c), with latencies from an
 * HdrHistogram-like histogram (bench_hist.h), an open loop that does not
 * hide a stalled server (--rate), a progress line on a terminal, and
 * --verify to check what the server stored. See bench_int.h for how a run
 * goes and bench_opts.c for the options.
 *
 * The main thread sets the run up (the address, one blocking connect to
 * fail early and clearly), starts the loops, says "go" when they all have
 * their connections, then only watches: the progress line, Ctrl-C, the end
 * of tail's drain. The summary and --verify come after the loops ended.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_int.h"
#include "cli.h"
#include "url.h"

#define TICK_MS      100
#define PROGRESS_MS  500
#define READY_MAX_S  30 /* the longest wait for the connections before "go" */
#define VERIFY_WAIT  5  /* s: modes without answers, for the server to store what it read */
#define EXIT_STOPPED 130

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    if (interrupted)
        _exit(EXIT_STOPPED); /* a second Ctrl-C: now */
    interrupted = 1;
}

/* One line on stderr, exit status 2: bad arguments, no server. */
static int refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int refuse(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "logship bench: %s\n", msg);
    return CLI_EXIT_USAGE;
}

static int read_file(const char *path, buf_t *out, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot read --corpus %s: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        char *p = buf_reserve(out, 1 << 16);
        ssize_t n = read(fd, p, 1 << 16);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "cannot read --corpus %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        out->len += (size_t)n;
        if (out->len > ((size_t)256 << 20)) {
            snprintf(err, errlen, "--corpus %s is larger than 256 MiB", path);
            close(fd);
            return -1;
        }
    }
    close(fd);
    return 0;
}

/* Resolves the target and, for TCP, connects once (at most 3 s) so that a
 * server that is not there is one clear line now rather than a run of
 * connect errors. */
static int reach(bench_run_t *r, char *err, size_t errlen)
{
    const bench_opts_t *o = &r->o;
    int udp = o->mode == BENCH_SYSLOG_UDP;
    struct addrinfo hints = {.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM}, *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", o->port);
    int rc = getaddrinfo(o->host, port, &hints, &ai);
    if (rc) {
        snprintf(err, errlen, "cannot resolve '%s': %s", o->host, gai_strerror(rc));
        return -1;
    }
    memcpy(&r->addr, ai->ai_addr, ai->ai_addrlen);
    r->addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    if (udp)
        return 0;
    int fd = socket(r->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    const char *h = o->host;
    int v6 = strchr(h, ':') != NULL;
    if (connect(fd, (struct sockaddr *)&r->addr, r->addrlen) && errno != EINPROGRESS) {
        snprintf(err, errlen, "cannot connect to %s%s%s:%d: %s", v6 ? "[" : "", h, v6 ? "]" : "",
                 o->port, strerror(errno));
        close(fd);
        return -1;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int ready = poll(&p, 1, 3000), soerr = 0;
    socklen_t len = sizeof soerr;
    if (ready > 0)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
    close(fd);
    if (ready <= 0 || soerr) {
        snprintf(err, errlen, "cannot connect to %s%s%s:%d: %s", v6 ? "[" : "", h, v6 ? "]" : "",
                 o->port, ready <= 0 ? "no answer in 3 s" : strerror(soerr));
        return -1;
    }
    return 0;
}

/* ---- numbers for people ----------------------------------------------------- */

/* 1234567 -> "1,234,567" */
static const char *grouped(uint64_t v, char *out, size_t cap)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v), o = 0;
    for (int i = 0; i < n && (size_t)o + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = tmp[i];
    }
    out[o] = '\0';
    return out;
}

/* ns -> "182us", "1.02ms", "3.40s" */
static const char *dur(uint64_t ns, char *out, size_t cap)
{
    double v = (double)ns;
    if (v < 1e3)
        snprintf(out, cap, "%.0fns", v);
    else if (v < 1e6)
        snprintf(out, cap, v < 1e4 ? "%.2fus" : v < 1e5 ? "%.1fus" : "%.0fus", v / 1e3);
    else if (v < 1e9)
        snprintf(out, cap, v < 1e7 ? "%.2fms" : v < 1e8 ? "%.1fms" : "%.0fms", v / 1e6);
    else
        snprintf(out, cap, "%.2fs", v / 1e9);
    return out;
}

/* ---- totals ----------------------------------------------------------------- */

typedef struct totals {
    uint64_t sent, acked, acked_all, bytes, errors, last_ns;
    uint64_t kinds[BE_NKINDS];
    uint64_t status[BENCH_STATUS_MAX];
    int ingest_open;
    bench_hist_t *lat, *e2e;
} totals_t;

static void sum(const bench_run_t *r, totals_t *t, int hists)
{
    bench_hist_t *lat = t->lat, *e2e = t->e2e;
    memset(t, 0, sizeof *t);
    t->lat = lat;
    t->e2e = e2e;
    if (hists) {
        bench_hist_init(t->lat);
        bench_hist_init(t->e2e);
    }
    for (unsigned i = 0; i < r->nworkers; i++) {
        const bench_stats_t *s = &r->workers[i]->st;
        /* first: a loop's connections are done only after their acks are
         * counted, so the counts read after it are whole */
        t->ingest_open += atomic_load(&s->ingest_open);
        t->sent += atomic_load(&s->sent);
        t->acked += atomic_load(&s->acked);
        t->acked_all += atomic_load(&s->acked_all);
        t->bytes += atomic_load(&s->bytes);
        uint64_t l = atomic_load(&s->last_ns);
        if (l > t->last_ns)
            t->last_ns = l;
        for (int k = 0; k < BE_NKINDS; k++) {
            t->kinds[k] += atomic_load(&s->errors[k]);
            t->errors += atomic_load(&s->errors[k]);
        }
        for (int k = 0; k < BENCH_STATUS_MAX; k++)
            t->status[k] += atomic_load(&s->status[k]);
        if (hists) {
            bench_hist_merge(t->lat, &s->lat);
            bench_hist_merge(t->e2e, &s->e2e);
        }
    }
}

/* ---- the progress line ------------------------------------------------------ */

typedef struct progress {
    int on;
    uint64_t last_at, last_acked;
    double rate;
} progress_t;

static void progress_draw(const bench_run_t *r, progress_t *pg, totals_t *t, uint64_t now)
{
    const bench_opts_t *o = &r->o;
    char a[32], b[32], c[32], line[256];
    uint64_t t0 = atomic_load(&r->t0), warm = atomic_load(&r->warm_end);
    if (!t0) {
        snprintf(line, sizeof line, "connecting %u connection(s)...",
                 o->conns + (o->mode == BENCH_TAIL ? o->subscribers : 0));
    } else {
        sum(r, t, 1);
        if (pg->last_at) {
            double dt = (double)(now - pg->last_at) / 1e9;
            pg->rate = dt > 0 ? (double)(t->acked_all - pg->last_acked) / dt : 0;
        }
        pg->last_at = now;
        pg->last_acked = t->acked_all;
        double el = (double)(now - t0) / 1e9, total = o->warmup_s + o->duration_s, eta = -1;
        if (o->duration_s)
            eta = total - el;
        if (o->count && pg->rate > 0) {
            double left =
                (double)(o->count - (t->acked_all < o->count ? t->acked_all : o->count)) / pg->rate;
            if (eta < 0 || left < eta)
                eta = left;
        }
        char etas[32] = "?";
        if (eta >= 0)
            snprintf(etas, sizeof etas, "%.0fs", eta < 0 ? 0 : eta);
        uint64_t p99 = bench_hist_quantile(o->mode == BENCH_TAIL ? t->e2e : t->lat, 0.99);
        int n = snprintf(line, sizeof line, "%s%.1fs", now < warm ? "warmup " : "", el);
        if (o->duration_s)
            n += snprintf(line + n, sizeof line - (size_t)n, "/%.1fs", total);
        snprintf(line + n, sizeof line - (size_t)n,
                 "  eta %s  acked %s  rate %s/s  errors %s  p99 %s", etas,
                 grouped(t->acked_all, a, sizeof a), grouped((uint64_t)pg->rate, b, sizeof b),
                 grouped(t->errors, c, sizeof c), dur(p99, (char[32]){0}, 32));
    }
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
}

static void progress_clear(progress_t *pg)
{
    if (!pg->on)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
}

/* ---- the summary ------------------------------------------------------------ */

typedef struct result {
    double duration_s, records_per_s, mb_per_s;
    double deliver_min, deliver_median; /* tail */
    unsigned subs_connected;
} result_t;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void results(const bench_run_t *r, const totals_t *t, uint64_t stopped_at, result_t *res)
{
    const bench_opts_t *o = &r->o;
    uint64_t warm = atomic_load(&r->warm_end), end = atomic_load(&r->end);
    uint64_t until = stopped_at ? stopped_at : end > t->last_ns ? end : t->last_ns;
    memset(res, 0, sizeof *res);
    res->duration_s = warm && until > warm ? (double)(until - warm) / 1e9 : 0;
    if (res->duration_s > 0) {
        res->records_per_s = (double)t->acked / res->duration_s;
        res->mb_per_s = (double)t->bytes / 1e6 / res->duration_s;
    }
    if (o->mode != BENCH_TAIL)
        return;
    uint64_t *d = xcalloc(o->subscribers, sizeof *d);
    for (unsigned i = 0; i < o->subscribers; i++)
        d[i] = atomic_load(&r->delivered[i]);
    qsort(d, o->subscribers, sizeof *d, cmp_u64);
    if (res->duration_s > 0) {
        res->deliver_min = (double)d[0] / res->duration_s;
        res->deliver_median = (double)d[o->subscribers / 2] / res->duration_s;
    }
    res->subs_connected = atomic_load(&r->subs_open);
    free(d);
}

static void latency_json(buf_t *b, const char *key, const bench_hist_t *h)
{
    buf_printf(
        b,
        "\"%s\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f,"
        "\"count\":%llu}",
        key, (double)bench_hist_quantile(h, 0.5) / 1e3, (double)bench_hist_quantile(h, 0.9) / 1e3,
        (double)bench_hist_quantile(h, 0.99) / 1e3, (double)bench_hist_quantile(h, 0.999) / 1e3,
        (double)bench_hist_max(h) / 1e3, (unsigned long long)bench_hist_count(h));
}

static void latency_text(FILE *f, const char *label, const bench_hist_t *h)
{
    char a[32], b[32], c[32], d[32], e[32];
    if (!bench_hist_count(h)) {
        fprintf(f, "%-12s -\n", label);
        return;
    }
    fprintf(f, "%-12s p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n", label,
            dur(bench_hist_quantile(h, 0.5), a, sizeof a),
            dur(bench_hist_quantile(h, 0.9), b, sizeof b),
            dur(bench_hist_quantile(h, 0.99), c, sizeof c),
            dur(bench_hist_quantile(h, 0.999), d, sizeof d), dur(bench_hist_max(h), e, sizeof e));
}

static const char *target_text(const bench_run_t *r, char *out, size_t cap)
{
    const bench_opts_t *o = &r->o;
    if (bench_mode_is_http(o->mode))
        snprintf(out, cap, "http://%s%s", r->authority, r->log_path);
    else
        snprintf(out, cap, "%s://%s%s%s:%d", o->mode == BENCH_SYSLOG_UDP ? "udp" : "tcp",
                 strchr(o->host, ':') ? "[" : "", o->host, strchr(o->host, ':') ? "]" : "",
                 o->port);
    return out;
}

static void summary_json(const bench_run_t *r, const totals_t *t, const result_t *res, int stopped,
                         int stalled, const bench_verdict_t *v, int verified)
{
    const bench_opts_t *o = &r->o;
    char target[1500];
    buf_t b = BUF_INIT;
    buf_printf(&b,
               "{\"mode\":\"%s\",\"run\":\"%s\",\"target\":\"%s\",\"connections\":%u,"
               "\"threads\":%u,\"rate\":%g,",
               bench_mode_name(o->mode), r->run, target_text(r, target, sizeof target), o->conns,
               o->threads, o->rate);
    buf_printf(&b, "\"sent\":%llu,\"acked\":%llu,\"errors\":%llu,\"error_kinds\":{",
               (unsigned long long)t->sent, (unsigned long long)t->acked,
               (unsigned long long)t->errors);
    int first = 1;
    for (int k = 0; k < BE_NKINDS; k++) {
        if (k == BE_HTTP || !t->kinds[k])
            continue;
        buf_printf(&b, "%s\"%s\":%llu", first ? "" : ",", bench_err_names[k],
                   (unsigned long long)t->kinds[k]);
        first = 0;
    }
    for (int s = 0; s < BENCH_STATUS_MAX; s++) {
        if (!t->status[s])
            continue;
        buf_printf(&b, "%s\"http_%d\":%llu", first ? "" : ",", s, (unsigned long long)t->status[s]);
        first = 0;
    }
    buf_printf(&b, "},\"duration_s\":%.3f,\"records_per_s\":%.1f,\"mb_per_s\":%.3f,",
               res->duration_s, res->records_per_s, res->mb_per_s);
    if (o->mode == BENCH_TAIL) {
        latency_json(&b, "latency_us", t->e2e);
        buf_printf(&b, ",");
        latency_json(&b, "ingest_latency_us", t->lat);
        buf_printf(&b,
                   ",\"subscribers\":%u,\"subscribers_connected\":%u,"
                   "\"delivered_per_s_min\":%.1f,\"delivered_per_s_median\":%.1f",
                   o->subscribers, res->subs_connected, res->deliver_min, res->deliver_median);
    } else {
        latency_json(&b, "latency_us", t->lat);
    }
    buf_printf(&b, ",\"interrupted\":%s,\"stalled\":%s", stopped ? "true" : "false",
               stalled ? "true" : "false");
    if (verified) {
        if (v->error[0]) {
            buf_printf(&b, ",\"verify\":{\"ok\":false,\"error\":\"");
            for (const char *c = v->error; *c; c++) {
                if (*c == '"' || *c == '\\')
                    buf_putc(&b, '\\');
                buf_putc(&b, (unsigned char)*c < 0x20 ? ' ' : *c);
            }
            buf_puts(&b, "\"}");
        } else {
            buf_printf(&b,
                       ",\"verify\":{\"ok\":%s,\"acked\":%llu,\"found\":%llu,\"missing\":%llu,"
                       "\"doubled\":%llu,\"found_unacked\":%llu}",
                       v->missing || v->doubled ? "false" : "true", (unsigned long long)v->acked,
                       (unsigned long long)v->found, (unsigned long long)v->missing,
                       (unsigned long long)v->doubled, (unsigned long long)v->unacked_found);
        }
    }
    buf_puts(&b, "}\n");
    fwrite(b.data, 1, b.len, stdout);
    buf_free(&b);
}

static void summary_text(const bench_run_t *r, const totals_t *t, const result_t *res, int stopped)
{
    const bench_opts_t *o = &r->o;
    char a[32], bb[32], target[1500];
    FILE *f = stdout;
    fprintf(f, "logship bench %s: %u connection(s), %u thread(s), ", bench_mode_name(o->mode),
            o->conns, o->threads);
    if (o->rate)
        fprintf(f, "open loop at %s records/s", grouped((uint64_t)o->rate, a, sizeof a));
    else
        fprintf(f, "closed loop");
    if (o->warmup_s)
        fprintf(f, ", %.1fs warmup", o->warmup_s);
    fprintf(f, "%s\n", stopped ? " (interrupted)" : "");
    fprintf(f, "%-12s %s (run %s)\n", "target", target_text(r, target, sizeof target), r->run);
    fprintf(f, "%-12s %s records, %.1f MB\n", "sent", grouped(t->sent, a, sizeof a),
            (double)t->bytes / 1e6);
    fprintf(f, "%-12s %s\n", "acked", grouped(t->acked, a, sizeof a));
    fprintf(f, "%-12s %s", "errors", grouped(t->errors, a, sizeof a));
    if (t->errors) {
        const char *sep = " (";
        for (int k = 0; k < BE_NKINDS; k++) {
            if (k == BE_HTTP || !t->kinds[k])
                continue;
            fprintf(f, "%s%s %s", sep, bench_err_names[k], grouped(t->kinds[k], a, sizeof a));
            sep = ", ";
        }
        for (int s = 0; s < BENCH_STATUS_MAX; s++) {
            if (!t->status[s])
                continue;
            fprintf(f, "%shttp %d: %s", sep, s, grouped(t->status[s], a, sizeof a));
            sep = ", ";
        }
        fputc(')', f);
    }
    fputc('\n', f);
    fprintf(f, "%-12s %.2fs\n", "duration", res->duration_s);
    fprintf(f, "%-12s %s records/s, %.2f MB/s\n", "throughput",
            grouped((uint64_t)llround(res->records_per_s), a, sizeof a), res->mb_per_s);
    if (o->mode == BENCH_TAIL) {
        fprintf(f, "%-12s %u (%u connected), delivered/s min %s, median %s\n", "subscribers",
                o->subscribers, res->subs_connected,
                grouped((uint64_t)llround(res->deliver_min), a, sizeof a),
                grouped((uint64_t)llround(res->deliver_median), bb, sizeof bb));
        latency_text(f, "delivery", t->e2e);
        latency_text(f, "ingest", t->lat);
    } else {
        latency_text(f, "latency", t->lat);
    }
}

static void verdict_text(const bench_verdict_t *v)
{
    char a[32], b[32];
    FILE *f = stdout;
    if (v->error[0]) {
        fprintf(f, "%-12s failed: %s\n", "verify", v->error);
        return;
    }
    fprintf(f, "%-12s %s acked, %s found: %s\n", "verify", grouped(v->acked, a, sizeof a),
            grouped(v->found, b, sizeof b),
            v->missing || v->doubled ? "NOT every record stored exactly once"
                                     : "every acked record stored exactly once");
    if (v->missing) {
        fprintf(f, "%-12s %s record(s), ids", "missing", grouped(v->missing, a, sizeof a));
        for (uint64_t i = 0; i < v->missing && i < 10; i++)
            fprintf(f, " %llu", (unsigned long long)v->missing_ids[i]);
        fprintf(f, "%s\n", v->missing > 10 ? " ..." : "");
    }
    if (v->doubled) {
        fprintf(f, "%-12s %s record(s) stored more than once, ids", "doubled",
                grouped(v->doubled, a, sizeof a));
        for (uint64_t i = 0; i < v->doubled && i < 10; i++)
            fprintf(f, " %llu", (unsigned long long)v->doubled_ids[i]);
        fprintf(f, "%s\n", v->doubled > 10 ? " ..." : "");
    }
}

/* ---- the command ------------------------------------------------------------ */

static enum bench_enc enc_of(enum bench_mode m)
{
    return m == BENCH_HTTP                                  ? BENCH_ENC_FORM
           : m == BENCH_SYSLOG_UDP || m == BENCH_SYSLOG_TCP ? BENCH_ENC_SYSLOG
                                                            : BENCH_ENC_JSON;
}

static int setup(bench_run_t *r, char *err, size_t errlen)
{
    const bench_opts_t *o = &r->o;
    unsigned char raw[8];
    if (uv_random(NULL, NULL, raw, sizeof raw, 0, NULL)) {
        uint64_t x = uv_hrtime() ^ ((uint64_t)getpid() << 32);
        memcpy(raw, &x, sizeof raw);
    }
    for (int i = 0; i < 8; i++)
        snprintf(r->run + 2 * i, 3, "%02x", raw[i]);

    buf_t corpus = BUF_INIT;
    if (o->corpus && read_file(o->corpus, &corpus, err, errlen))
        return -1;
    int rc = bench_rec_init(&r->rec, enc_of(o->mode), r->run, o->size,
                            o->corpus ? corpus.data : NULL, corpus.len, err, errlen);
    buf_free(&corpus);
    if (rc)
        return -1;
    r->rec.rfc5424 = o->rfc5424;
    r->rec.octet_count = o->octet_count;
    r->rec.lf = o->mode == BENCH_SYSLOG_TCP && !o->octet_count;
    if (gethostname(r->rec.host, sizeof r->rec.host) || !r->rec.host[0])
        snprintf(r->rec.host, sizeof r->rec.host, "localhost");
    r->rec.host[sizeof r->rec.host - 1] = '\0';
    for (char *c = r->rec.host; *c; c++)
        if (*c == ' ')
            *c = '-';
    r->rec.pid = (unsigned)getpid();

    url_t u;
    if (url_parse(o->server, &u, err, errlen))
        return -1;
    snprintf(r->authority, sizeof r->authority, "%s", u.authority);
    size_t plen = strcspn(u.path, "?");
    while (plen && u.path[plen - 1] == '/')
        plen--;
    snprintf(r->log_path, sizeof r->log_path, "%.*s/api/log", (int)plen, u.path);
    snprintf(r->tail_path, sizeof r->tail_path, "%.*s/api/tail?n=0&topic=bench.%%23", (int)plen,
             u.path);
    r->interval_ns = o->rate > 0 ? (double)o->conns * 1e9 / o->rate : 0;
    atomic_init(&r->budget, o->count);
    if (o->verify)
        r->acked = xcalloc(1, sizeof *r->acked);
    if (o->mode == BENCH_TAIL) {
        r->delivered = xcalloc(o->subscribers, sizeof *r->delivered);
        r->delivered_all = xcalloc(o->subscribers, sizeof *r->delivered_all);
    }
    return reach(r, err, errlen);
}

/* tail: once posting is over, the subscribers get until everything acked
 * has reached each of them, or --timeout. 1 when they may stop. */
static int tail_drained(const bench_run_t *r, const totals_t *t, uint64_t since, uint64_t now)
{
    if (now - since > (uint64_t)(r->o.timeout_s * 1e9))
        return 1;
    for (unsigned i = 0; i < r->o.subscribers; i++)
        if (atomic_load(&r->delivered_all[i]) < t->acked_all)
            return 0;
    return 1;
}

static void kick_all(bench_run_t *r)
{
    for (unsigned i = 0; i < r->nworkers; i++)
        bench_worker_kick(r->workers[i]);
}

int cmd_bench(int argc, char **argv)
{
    static bench_run_t run;
    bench_run_t *r = &run;
    char err[1024];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int rc = bench_opts_parse(&r->o, argc, argv, cores > 0 ? (unsigned)cores : 1,
                              getenv("LOGSHIP_SERVER"), err, sizeof err);
    if (rc > 0) {
        bench_opts_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (rc < 0)
        return refuse("%s", err);
    if (setup(r, err, sizeof err))
        return refuse("%s", err);

    const bench_opts_t *o = &r->o;
    signal(SIGPIPE, SIG_IGN);
    /* the loops never see Ctrl-C: this thread does, and tells them */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    r->nworkers = o->threads;
    r->workers = xcalloc(r->nworkers, sizeof *r->workers);
    for (unsigned i = 0; i < r->nworkers; i++)
        r->workers[i] = bench_worker_new(r, i);
    for (unsigned i = 0; i < r->nworkers; i++)
        if (uv_thread_create(&r->workers[i]->thread, bench_worker_main, r->workers[i]))
            return refuse("cannot start a thread");
    struct sigaction sa = {.sa_handler = on_sigint};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    progress_t pg = {.on = !o->quiet && isatty(STDERR_FILENO)};
    totals_t t = {.lat = xcalloc(1, sizeof(bench_hist_t)), .e2e = xcalloc(1, sizeof(bench_hist_t))};
    uint64_t start = bench_now(), last_draw = 0, stopped_at = 0, ingest_over = 0;
    uint64_t last_acked = 0, last_change = 0, errors_then = 0, stalled_at = 0;
    int go = 0, stalled = 0;
    while (atomic_load(&r->finished) < r->nworkers) {
        uint64_t now = bench_now();
        if (interrupted && !stopped_at) {
            stopped_at = now;
            atomic_store(&r->stop, 2);
            kick_all(r);
        }
        if (!go && (atomic_load(&r->ready) == r->nworkers ||
                    now - start > (uint64_t)READY_MAX_S * 1000000000)) {
            go = 1;
            uint64_t t0 = bench_now(), warm = t0 + (uint64_t)(o->warmup_s * 1e9);
            atomic_store(&r->warm_end, warm);
            atomic_store(&r->end, o->duration_s ? warm + (uint64_t)(o->duration_s * 1e9) : 0);
            atomic_store(&r->t0, t0);
            kick_all(r);
            last_change = t0;
        }
        if (go && !stalled && !stopped_at) {
            /* nothing acknowledged for --timeout and more while errors
             * pile up (no server, or one that stopped answering): stop, or
             * a run with -n alone would retry for ever */
            sum(r, &t, 0);
            if (t.acked_all != last_acked) {
                last_acked = t.acked_all;
                last_change = now;
                errors_then = t.errors;
            } else if (t.errors > errors_then && now > last_change &&
                       now - last_change > (uint64_t)((o->timeout_s + 1) * 1e9)) {
                stalled = 1;
                stalled_at = now;
                atomic_store(&r->stop, 1);
                kick_all(r);
            }
        }
        if (o->mode == BENCH_TAIL && go && !atomic_load(&r->subs_stop)) {
            sum(r, &t, 0);
            if (!t.ingest_open && !ingest_over)
                ingest_over = now;
            if (ingest_over && tail_drained(r, &t, ingest_over, now)) {
                atomic_store(&r->subs_stop, 1);
                kick_all(r);
            }
        }
        if (pg.on && now - last_draw >= (uint64_t)PROGRESS_MS * 1000000) {
            last_draw = now;
            progress_draw(r, &pg, &t, now);
        }
        struct timespec ts = {0, TICK_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    for (unsigned i = 0; i < r->nworkers; i++)
        uv_thread_join(&r->workers[i]->thread);
    progress_clear(&pg);
    if (stalled)
        fprintf(stderr,
                "logship bench: stopped: nothing acknowledged for %.0fs while errors grew\n",
                o->timeout_s + 1);

    sum(r, &t, 1);
    result_t res;
    results(r, &t, stopped_at ? stopped_at : stalled_at, &res);
    bench_verdict_t v;
    int verified = 0, failed = 0;
    if (o->verify && !stopped_at) {
        int answers =
            o->mode != BENCH_SYSLOG_UDP && o->mode != BENCH_SYSLOG_TCP && o->mode != BENCH_TCP;
        verified = 1;
        if (bench_verify(r, atomic_load(&r->next_id), answers ? 0 : VERIFY_WAIT, &v) || v.missing ||
            v.doubled)
            failed = 1;
    }
    if (o->json) {
        summary_json(r, &t, &res, stopped_at != 0, stalled, &v, verified);
    } else {
        summary_text(r, &t, &res, stopped_at != 0);
        if (verified)
            verdict_text(&v);
    }
    fflush(stdout);

    for (unsigned i = 0; i < r->nworkers; i++)
        bench_worker_free(r->workers[i]);
    free(r->workers);
    free(t.lat);
    free(t.e2e);
    bench_rec_free(&r->rec);
    if (r->acked) {
        bench_bits_free(r->acked);
        free(r->acked);
    }
    free(r->delivered);
    free(r->delivered_all);
    if (stopped_at)
        return EXIT_STOPPED;
    if (failed || stalled || !t.acked_all)
        return CLI_EXIT_FAIL;
    return CLI_EXIT_OK;
}
