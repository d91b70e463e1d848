/* client_driver.c - drives liblogship for tests/integration/test_client.py:
 * logs numbered messages from one or more threads (optionally forking), then
 * closes the logger, and prints one JSON line with the timing, the return
 * codes and the logger's counters.
 *
 * Messages are "<prefix> t<thread> <i>" so a test can check, per thread,
 * that every record arrived once and in order. */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "logship.h"

static const char usage[] =
    "usage: client_driver --url tcp://HOST:PORT [options]\n"
    "  --count N --threads T --prefix P --pad BYTES --interval-us U\n"
    "  --policy drop_newest|drop_oldest|block --queue-bytes B --block-timeout MS\n"
    "  --spool DIR --spool-bytes B --linger MS --backoff-max MS --close-timeout MS\n"
    "  --max-inflight N --batch-records N --flush-timeout MS --fork --app A --echo\n"
    "  --pattern P --min-level L --wait-connected MS\n"
    "  --ca FILE --cert FILE --key FILE (tls:// URLs)\n"
    "  --connect-status MS  print how the first connection attempt went (one\n"
    "                       JSON line) before logging\n";

static struct {
    const char *url, *prefix, *app, *pattern;
    long count, threads, pad, interval_us;
    int fork_child, echo;
    long flush_timeout, wait_connected, connect_status;
    logship_opts_t o;
} cfg;

static logship_t *lg;

typedef struct worker {
    pthread_t th;
    int id;
    long ok, full, timeout, other;
    long long ns;
} worker_t;

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void *work(void *arg)
{
    worker_t *w = arg;
    char *msg = malloc((size_t)cfg.pad + 128);
    if (!msg)
        return NULL;
    for (long i = 0; i < cfg.count; i++) {
        int n = snprintf(msg, 128, "%s t%d %ld", cfg.prefix, w->id, i);
        if (cfg.pad > 0) {
            msg[n] = ' ';
            memset(msg + n + 1, 'x', (size_t)cfg.pad);
            msg[n + 1 + cfg.pad] = '\0';
        }
        long long t0 = now_ns();
        int rc = logship_log(lg, LOGSHIP_INFO, msg);
        w->ns += now_ns() - t0;
        if (rc == 0)
            w->ok++;
        else if (rc == LOGSHIP_EFULL)
            w->full++;
        else if (rc == LOGSHIP_ETIMEDOUT)
            w->timeout++;
        else
            w->other++;
        if (cfg.interval_us)
            usleep((useconds_t)cfg.interval_us);
    }
    free(msg);
    return NULL;
}

static int run(const char *who)
{
    worker_t *ws = calloc((size_t)cfg.threads, sizeof *ws);
    if (!ws)
        return 1;
    for (long t = 0; t < cfg.threads; t++) {
        ws[t].id = (int)t;
        pthread_create(&ws[t].th, NULL, work, &ws[t]);
    }
    long ok = 0, full = 0, timeout = 0, other = 0;
    long long ns = 0;
    for (long t = 0; t < cfg.threads; t++) {
        pthread_join(ws[t].th, NULL);
        ok += ws[t].ok;
        full += ws[t].full;
        timeout += ws[t].timeout;
        other += ws[t].other;
        ns += ws[t].ns;
    }
    free(ws);
    fprintf(stderr, "logged %s\n", who); /* tests wait for this before starting a server */
    /* flush first, so the counters below are final */
    int frc =
        logship_flush(lg, cfg.flush_timeout >= 0 ? (int)cfg.flush_timeout : cfg.o.close_timeout_ms);
    logship_stats_t st;
    logship_stats(lg, &st);
    long long t0 = now_ns();
    int crc = logship_close(lg);
    long long close_ns = now_ns() - t0;
    printf("{\"who\":\"%s\",\"log_ns\":%lld,\"close_ns\":%lld,\"ok\":%ld,\"full\":%ld,"
           "\"timeout\":%ld,\"other\":%ld,\"flush_rc\":%d,\"close_rc\":%d,"
           "\"queued\":%llu,\"acked\":%llu,\"dropped\":%llu,\"dropped_newest\":%llu,"
           "\"dropped_oldest\":%llu,\"dropped_timeout\":%llu,\"batches_acked\":%llu,"
           "\"batches_duplicate\":%llu,\"batches_resent\":%llu,\"nacks\":%llu,"
           "\"connects\":%llu,\"connect_failures\":%llu,\"spooled\":%llu,\"queue_capacity\":%zu}\n",
           who, ns, close_ns, ok, full, timeout, other, frc, crc, (unsigned long long)st.queued,
           (unsigned long long)st.acked, (unsigned long long)st.dropped,
           (unsigned long long)st.dropped_newest, (unsigned long long)st.dropped_oldest,
           (unsigned long long)st.dropped_timeout, (unsigned long long)st.batches_acked,
           (unsigned long long)st.batches_duplicate, (unsigned long long)st.batches_resent,
           (unsigned long long)st.nacks, (unsigned long long)st.connects,
           (unsigned long long)st.connect_failures, (unsigned long long)st.spooled_records,
           st.queue_capacity);
    fflush(stdout);
    return crc == 0 ? 0 : 3;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", 1, 0, 'u'},
        {"count", 1, 0, 'n'},
        {"threads", 1, 0, 't'},
        {"prefix", 1, 0, 'p'},
        {"pad", 1, 0, 'P'},
        {"interval-us", 1, 0, 'i'},
        {"policy", 1, 0, 'o'},
        {"queue-bytes", 1, 0, 'q'},
        {"block-timeout", 1, 0, 'b'},
        {"spool", 1, 0, 's'},
        {"spool-bytes", 1, 0, 'S'},
        {"linger", 1, 0, 'l'},
        {"backoff-max", 1, 0, 'B'},
        {"close-timeout", 1, 0, 'c'},
        {"max-inflight", 1, 0, 'm'},
        {"batch-records", 1, 0, 'r'},
        {"flush-timeout", 1, 0, 'f'},
        {"fork", 0, 0, 'F'},
        {"app", 1, 0, 'a'},
        {"echo", 0, 0, 'e'},
        {"pattern", 1, 0, 'x'},
        {"min-level", 1, 0, 'L'},
        {"wait-connected", 1, 0, 'w'},
        {"ca", 1, 0, 'C'},
        {"cert", 1, 0, 'E'},
        {"key", 1, 0, 'K'},
        {"connect-status", 1, 0, 'R'},
        {0, 0, 0, 0},
    };
    logship_opts_init(&cfg.o);
    cfg.prefix = "m";
    cfg.count = 100;
    cfg.threads = 1;
    cfg.flush_timeout = -1; /* default: the close timeout */
    cfg.o.app = "driver";
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            cfg.url = optarg;
            break;
        case 'n':
            cfg.count = atol(optarg);
            break;
        case 't':
            cfg.threads = atol(optarg);
            break;
        case 'p':
            cfg.prefix = optarg;
            break;
        case 'P':
            cfg.pad = atol(optarg);
            break;
        case 'i':
            cfg.interval_us = atol(optarg);
            break;
        case 'o':
            cfg.o.overflow = strcmp(optarg, "block") == 0         ? LOGSHIP_BLOCK
                             : strcmp(optarg, "drop_oldest") == 0 ? LOGSHIP_DROP_OLDEST
                                                                  : LOGSHIP_DROP_NEWEST;
            break;
        case 'q':
            cfg.o.queue_bytes = (size_t)atol(optarg);
            break;
        case 'b':
            cfg.o.block_timeout_ms = atoi(optarg);
            break;
        case 's':
            cfg.o.spool_dir = optarg;
            break;
        case 'S':
            cfg.o.spool_bytes = (size_t)atol(optarg);
            break;
        case 'l':
            cfg.o.linger_ms = atoi(optarg);
            break;
        case 'B':
            cfg.o.backoff_max_ms = atoi(optarg);
            break;
        case 'c':
            cfg.o.close_timeout_ms = atoi(optarg);
            break;
        case 'm':
            cfg.o.max_inflight = (unsigned)atoi(optarg);
            break;
        case 'r':
            cfg.o.batch_records = (unsigned)atoi(optarg);
            break;
        case 'f':
            cfg.flush_timeout = atol(optarg);
            break;
        case 'F':
            cfg.fork_child = 1;
            break;
        case 'a':
            cfg.o.app = optarg;
            break;
        case 'e':
            cfg.o.echo_stderr = 1;
            break;
        case 'x':
            cfg.o.pattern = optarg;
            break;
        case 'L':
            cfg.o.min_level = logship_level_parse(optarg);
            break;
        case 'w':
            cfg.wait_connected = atol(optarg);
            break;
        case 'C':
            cfg.o.tls_ca_file = optarg;
            break;
        case 'E':
            cfg.o.tls_cert_file = optarg;
            break;
        case 'K':
            cfg.o.tls_key_file = optarg;
            break;
        case 'R':
            cfg.connect_status = atol(optarg);
            break;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (!cfg.url) {
        fputs(usage, stderr);
        return 2;
    }
    int rc = logship_open(cfg.url, &cfg.o, &lg);
    if (rc) {
        fprintf(stderr, "client_driver: logship_open: %s\n", logship_strerror(rc));
        return 1;
    }
    if (cfg.connect_status) {
        char why[256];
        int st = logship_connect_status(lg, (int)cfg.connect_status, why, sizeof why);
        printf("{\"connect_rc\":%d,\"why\":\"", st);
        for (const char *p = why; *p; p++) /* as a JSON string: the reasons are ASCII */
            printf(*p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
        printf("\"}\n");
        fflush(stdout);
    }
    for (long waited = 0; waited < cfg.wait_connected; waited += 10) {
        logship_stats_t st;
        logship_stats(lg, &st);
        if (st.connected)
            break;
        usleep(10000);
    }
    if (cfg.fork_child) {
        /* log a first record, so the parent's logger is busy when it forks */
        logship_log(lg, LOGSHIP_INFO, "before fork");
        pid_t pid = fork();
        if (pid < 0)
            return 1;
        if (pid == 0) {
            cfg.prefix = "child";
            exit(run("child"));
        }
        int prc = run("parent");
        int status;
        waitpid(pid, &status, 0);
        return prc ? prc : WIFEXITED(status) ? WEXITSTATUS(status) : 4;
    }
    return run("main");
}
