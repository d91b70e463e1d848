/* client_latency.c - how long a liblogship log call takes, as the
 * application sees it: every logship_log() call is timed with the TSC, and
 * the percentiles and the call rate are printed as one JSON line.
 * bench/client_latency.sh runs it with the server up, slow and down, next to
 * Python's QueueHandler + HTTPHandler (bench/client_latency_py.py).
 *
 * Usage: client_latency --url tcp://HOST:PORT [--threads T] [--count N]
 *                       [--size BYTES] [--rate R] [--untimed]
 *                       [--policy drop_newest|drop_oldest|block]
 *                       [--queue-bytes B] [--label L]
 * N calls per thread (default 1000000) of a BYTES-long message (default 100)
 * after 10000 calls of warm-up. --rate paces each thread to R calls/s (it
 * sleeps whenever it is 1 ms ahead); --untimed leaves out the per-call
 * timing, for the calls/s of a tight loop; --flush counts the time until
 * the server acknowledged everything. */
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "logship.h"

static struct {
    const char *url, *label;
    long threads, count, size, rate;
    int untimed, flush;
    logship_opts_t o;
} cfg;

static logship_t *lg;
static pthread_barrier_t start_line;

typedef struct worker {
    pthread_t th;
    int id;
    uint32_t *ticks; /* one per timed call */
    long ok, dropped;
    uint64_t t0, t1;
} worker_t;

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* TSC ticks per ns, against the monotonic clock over 200 ms. */
static double tsc_per_ns(void)
{
    int64_t n0 = mono_ns();
    uint64_t c0 = __rdtsc();
    struct timespec d = {0, 200000000};
    nanosleep(&d, NULL);
    return (double)(__rdtsc() - c0) / (double)(mono_ns() - n0);
}

static void *work(void *arg)
{
    worker_t *w = arg;
    char msg[4096];
    long size = cfg.size < (long)sizeof msg - 1 ? cfg.size : (long)sizeof msg - 1;
    memset(msg, 'x', (size_t)size);
    msg[size] = '\0';
    for (long i = 0; i < 10000; i++) /* warm-up: caches, the page tables of the queue */
        logship_log(lg, LOGSHIP_INFO, msg);
    pthread_barrier_wait(&start_line);
    w->t0 = __rdtsc();
    int64_t start = mono_ns(), period = cfg.rate ? 1000000000 / cfg.rate : 0;
    for (long i = 0; i < cfg.count; i++) {
        if (period && (i & 15) == 0) {
            int64_t ahead = start + i * period - mono_ns();
            if (ahead > 1000000) {
                struct timespec d = {0, (long)ahead};
                nanosleep(&d, NULL);
            }
        }
        int rc;
        if (cfg.untimed) {
            rc = logship_log(lg, LOGSHIP_INFO, msg);
        } else {
            /* a different message each time, written outside the timed part */
            int n = snprintf(msg, 24, "t%d %ld ", w->id, i);
            msg[n] = 'x';
            unsigned aux;
            uint64_t a = __rdtscp(&aux);
            rc = logship_log(lg, LOGSHIP_INFO, msg);
            uint64_t b = __rdtscp(&aux);
            w->ticks[i] = b - a > UINT32_MAX ? UINT32_MAX : (uint32_t)(b - a);
        }
        if (rc == 0)
            w->ok++;
        else
            w->dropped++;
    }
    w->t1 = __rdtsc();
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", 1, 0, 'u'},   {"threads", 1, 0, 't'}, {"count", 1, 0, 'n'},
        {"size", 1, 0, 's'},  {"policy", 1, 0, 'p'},  {"queue-bytes", 1, 0, 'q'},
        {"label", 1, 0, 'l'}, {"rate", 1, 0, 'r'},    {"untimed", 0, 0, 'U'},
        {"flush", 0, 0, 'f'}, {0, 0, 0, 0},
    };
    logship_opts_init(&cfg.o);
    cfg.o.app = "bench";
    cfg.o.close_timeout_ms = 100; /* do not wait for a slow or absent server */
    cfg.threads = 1;
    cfg.count = 1000000;
    cfg.size = 100;
    cfg.label = "";
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            cfg.url = optarg;
            break;
        case 't':
            cfg.threads = atol(optarg);
            break;
        case 'n':
            cfg.count = atol(optarg);
            break;
        case 's':
            cfg.size = atol(optarg);
            break;
        case 'p':
            cfg.o.overflow = strcmp(optarg, "block") == 0         ? LOGSHIP_BLOCK
                             : strcmp(optarg, "drop_oldest") == 0 ? LOGSHIP_DROP_OLDEST
                                                                  : LOGSHIP_DROP_NEWEST;
            break;
        case 'q':
            cfg.o.queue_bytes = (size_t)atol(optarg);
            break;
        case 'l':
            cfg.label = optarg;
            break;
        case 'r':
            cfg.rate = atol(optarg);
            break;
        case 'U':
            cfg.untimed = 1;
            break;
        case 'f':
            cfg.flush = 1;
            break;
        default:
            fprintf(stderr,
                    "usage: client_latency --url tcp://HOST:PORT [--threads T] [--count N] "
                    "[--size B] [--rate R] [--untimed] [--flush] [--policy P] [--queue-bytes B] "
                    "[--label L]\n");
            return 2;
        }
    }
    if (!cfg.url || cfg.threads < 1 || cfg.count < 1)
        return 2;
    double f = tsc_per_ns();
    int rc = logship_open(cfg.url, &cfg.o, &lg);
    if (rc) {
        fprintf(stderr, "client_latency: %s\n", logship_strerror(rc));
        return 1;
    }
    /* the timer's own cost: back-to-back rdtscp */
    uint32_t empty[1001];
    for (int i = 0; i < 1001; i++) {
        unsigned aux;
        uint64_t a = __rdtscp(&aux);
        uint64_t b = __rdtscp(&aux);
        empty[i] = (uint32_t)(b - a);
    }
    qsort(empty, 1001, sizeof *empty, cmp_u32);

    pthread_barrier_init(&start_line, NULL, (unsigned)cfg.threads);
    worker_t *ws = calloc((size_t)cfg.threads, sizeof *ws);
    size_t total = (size_t)cfg.threads * (size_t)cfg.count;
    uint32_t *all = malloc(total * sizeof *all);
    if (!ws || !all)
        return 1;
    for (long t = 0; t < cfg.threads; t++) {
        ws[t].id = (int)t;
        ws[t].ticks = all + (size_t)t * (size_t)cfg.count;
        pthread_create(&ws[t].th, NULL, work, &ws[t]);
    }
    uint64_t t0 = UINT64_MAX, t1 = 0;
    long ok = 0, dropped = 0;
    for (long t = 0; t < cfg.threads; t++) {
        pthread_join(ws[t].th, NULL);
        t0 = ws[t].t0 < t0 ? ws[t].t0 : t0;
        t1 = ws[t].t1 > t1 ? ws[t].t1 : t1;
        ok += ws[t].ok;
        dropped += ws[t].dropped;
    }
    if (cfg.flush) { /* the rate of acknowledged delivery */
        logship_flush(lg, -1);
        t1 = __rdtsc();
    }
    logship_stats_t st;
    logship_stats(lg, &st);
    logship_close(lg);
    double secs = (double)(t1 - t0) / f / 1e9;
    if (cfg.untimed) {
        printf("{\"label\":\"%s\",\"impl\":\"liblogship\",\"threads\":%ld,\"calls\":%zu,"
               "\"calls_per_s\":%.0f,\"queued\":%ld,\"dropped\":%ld}\n",
               cfg.label, cfg.threads, total, (double)total / secs, ok, dropped);
        free(all);
        free(ws);
        return 0;
    }
    qsort(all, total, sizeof *all, cmp_u32);
#define PCT(p) ((double)all[(size_t)((double)(total - 1) * (p))] / f)
    printf("{\"label\":\"%s\",\"impl\":\"liblogship\",\"threads\":%ld,\"calls\":%zu,"
           "\"rate\":%ld,\"p50_ns\":%.0f,\"p99_ns\":%.0f,\"p999_ns\":%.0f,\"max_ns\":%.0f,"
           "\"calls_per_s\":%.0f,\"queued\":%ld,\"dropped\":%ld,\"acked_at_end\":%llu,"
           "\"timer_ns\":%.0f}\n",
           cfg.label, cfg.threads, total, cfg.rate, PCT(0.5), PCT(0.99), PCT(0.999),
           (double)all[total - 1] / f, (double)total / secs, ok, dropped,
           (unsigned long long)st.acked, (double)empty[500] / f);
    free(all);
    free(ws);
    return 0;
}
