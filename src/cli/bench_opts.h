/* bench_opts.h - the options of `logship bench` and their checks: the
 * command line in, a bench_opts_t or a one-line reason out. Pure code (no
 * I/O but the help text it is given a stream for); the load itself is
 * bench.c's.
 */
#ifndef LOGSHIP_CLI_BENCH_OPTS_H
#define LOGSHIP_CLI_BENCH_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum bench_mode {
    BENCH_HTTP,       /* POST /api/log, one log= form record each */
    BENCH_JSON,       /* POST /api/log, one JSON object each */
    BENCH_NDJSON,     /* POST /api/log, --batch NDJSON records each */
    BENCH_SYSLOG_UDP, /* one datagram per record */
    BENCH_SYSLOG_TCP, /* LF or octet-counted frames */
    BENCH_TCP,        /* raw TCP, one JSON line per record */
    BENCH_TCP_ACK,    /* raw TCP, acknowledged batches */
    BENCH_TAIL,       /* WebSocket subscribers while NDJSON is posted */
};

/* Its name on the command line and in the summary. */
const char *bench_mode_name(enum bench_mode m);
/* 1 for the modes that speak HTTP to --server (the ingest of tail too). */
int bench_mode_is_http(enum bench_mode m);

#define BENCH_MAX_CONNECTIONS 10000
#define BENCH_MAX_THREADS     64
#define BENCH_MAX_SUBSCRIBERS 10000
#define BENCH_MAX_SIZE        (1024 * 1024)
#define BENCH_MAX_UDP_SIZE    60000 /* a datagram's message, leaving room for its header */
#define BENCH_MAX_BATCH       100000
#define BENCH_MAX_INFLIGHT    15 /* below the 16 batches logshipd remembers per producer */

typedef struct bench_opts {
    enum bench_mode mode;
    char server[1024]; /* http://HOST[:PORT][/PREFIX], no trailing '/' */
    char host[256];    /* where the load goes: --target, else --server's host */
    int port;          /* ... and port (a stream mode's logshipd default without --target) */
    unsigned conns;    /* -c: connections (sockets for syslog-udp) */
    unsigned threads;  /* event loops */
    double rate;       /* records/s in all; 0: closed loop */
    double duration_s; /* 0 with -n only */
    uint64_t count;    /* 0: no limit but the duration */
    double warmup_s;   /* before the measured time */
    size_t size;       /* message bytes per record */
    unsigned batch;    /* records per POST (ndjson, tail) or per batch (tcp-ack) */
    unsigned inflight; /* tcp-ack: unanswered batches per connection */
    unsigned subscribers;
    double timeout_s;   /* the longest wait for one answer */
    const char *corpus; /* a file of lines, or NULL */
    int json, verify, rfc5424, octet_count, quiet;
} bench_opts_t;

/* The smallest message: the tag every record carries (bench_rec.h). */
#define BENCH_MIN_SIZE 54

/* Reads argv (argv[0] is "bench") into o. cores is the default thread
 * count's ceiling; env_server is $LOGSHIP_SERVER (may be NULL). Returns 0,
 * 1 for --help (nothing else done), or -1 with a one-line reason in err.
 * Uses getopt_long() (resets optind). */
int bench_opts_parse(bench_opts_t *o, int argc, char **argv, unsigned cores, const char *env_server,
                     char *err, size_t errlen);

/* The help text. */
void bench_opts_usage(FILE *f);

#endif
