/* logship.h - liblogship, the asynchronous C client library of logship.
 *
 * A log call formats the record and copies it into a bounded in-memory
 * queue, and returns: it makes no system call and takes no lock that the
 * background thread holds across I/O. One background thread per logger
 * drains the queue, batches records (by size and a short linger), sends the
 * batches over one persistent TCP connection (TLS for tls:// URLs) to
 * logshipd's acknowledged raw TCP input (docs/PROTOCOL.md), waits for
 * acknowledgements, resends after a reconnect, and keeps the order. Batches
 * carry a producer id and a batch number, so a batch resent after a lost
 * acknowledgement is stored once.
 *
 *     logship_opts_t o;
 *     logship_opts_init(&o);
 *     o.app = "billing";
 *     logship_t *lg;
 *     if (logship_open("tcp://127.0.0.1:5170", &o, &lg) == 0) {
 *         logship_logf(lg, LOGSHIP_WARNING, "invoice %s overdue", id);
 *         logship_close(lg); // flushes, with a bounded wait
 *     }
 *
 * Threads: every function may be called from any thread, concurrently,
 * except logship_close(), after which the logger must not be used. A logger
 * survives fork(): in the child it starts afresh (new producer id, empty
 * queue, no spool) and delivers what the child logs; what the parent had
 * queued stays the parent's.
 *
 * Errors are negative LOGSHIP_E* values; logship_strerror() names them. The
 * library never aborts the host process and never writes to stdout; it
 * writes to stderr only when asked to echo records (echo_stderr).
 *
 * ABI: logship_opts_t only ever grows at its end. logship_opts_init() and
 * logship_open() are macros passing sizeof(logship_opts_t) as the caller
 * was compiled with, so the library writes and reads that much of it and
 * no more, and gives the members the caller does not know their defaults:
 * a program built against an older logship.h keeps working with a newer
 * library (the plain symbols logship_opts_init and logship_open are the
 * entry points of programs built against 0.1).
 */
#ifndef LOGSHIP_H
#define LOGSHIP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define LOGSHIP_API          __attribute__((visibility("default")))
#define LOGSHIP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define LOGSHIP_API
#define LOGSHIP_PRINTF(f, a)
#endif

#define LOGSHIP_VERSION_MAJOR 0
#define LOGSHIP_VERSION_MINOR 1

typedef struct logship logship_t;

/* Levels: syslog severities, as logshipd stores them. */
enum {
    LOGSHIP_EMERG = 0,
    LOGSHIP_ALERT = 1,
    LOGSHIP_CRIT = 2,
    LOGSHIP_ERROR = 3,
    LOGSHIP_WARNING = 4,
    LOGSHIP_NOTICE = 5,
    LOGSHIP_INFO = 6,
    LOGSHIP_DEBUG = 7,
};

/* Errors (all negative). */
enum {
    LOGSHIP_OK = 0,
    LOGSHIP_EINVAL = -1,    /* a bad argument or option */
    LOGSHIP_ENOMEM = -2,    /* out of memory */
    LOGSHIP_EFULL = -3,     /* the queue was full: the record was dropped */
    LOGSHIP_ETIMEDOUT = -4, /* the wait ended before the work was done */
    LOGSHIP_ESYS = -5,      /* a system call failed (thread, socket, file) */
    LOGSHIP_EBUSY = -6,     /* the spool directory is in use by another logger */
    LOGSHIP_ESPOOL = -7,    /* the spool directory can not be used */
    LOGSHIP_ECLOSED = -8,   /* the logger is closing */
    LOGSHIP_ECONNECT = -9,  /* the server could not be reached (logship_connect_status) */
    LOGSHIP_ETLS = -10,     /* a TLS file (tls_ca_file, tls_cert_file, tls_key_file) can
                               not be used: missing, unreadable, not PEM, key not matching */
};

/* What a log call does when the queue is full. */
typedef enum logship_overflow {
    LOGSHIP_DROP_NEWEST = 0, /* drop the new record (the default): never waits */
    LOGSHIP_DROP_OLDEST = 1, /* drop the oldest records not yet taken by the sender */
    LOGSHIP_BLOCK = 2,       /* wait up to block_timeout_ms for room, then drop it */
} logship_overflow_t;

/* A key/value field. Both strings are copied by the call that takes them. */
typedef struct logship_field {
    const char *key;
    const char *value;
} logship_field_t;

/* Logger options: start from logship_opts_init(). A member left zero (or
 * NULL) also gets its default, except min_level, whose 0 is LOGSHIP_EMERG.
 * Strings are copied by logship_open(). */
typedef struct logship_opts {
    const char *app;               /* "app" of every record; default: the program's name */
    const char *host;              /* "host"; default: gethostname() */
    const char *topic;             /* "topic"; default: the server's <app>.<level> */
    const logship_field_t *fields; /* fields added to every record */
    size_t nfields;

    size_t queue_bytes;          /* memory for queued records; default 8 MiB, min 64 KiB;
                                    mapped and touched by logship_open(), so log calls take
                                    no page faults. The batches in flight (max_inflight x
                                    batch_bytes at most) come on top. */
    logship_overflow_t overflow; /* policy when the queue is full */
    int block_timeout_ms;        /* LOGSHIP_BLOCK: longest wait; default 1000 */
    int min_level;               /* records less severe than it are ignored;
                                    default LOGSHIP_DEBUG (all); -1 also means all */
    size_t max_msg_bytes;        /* longer messages are cut (UTF-8 safe); default 16 KiB */

    int echo_stderr;     /* 1: also write each record to stderr, formatted by pattern,
                            from the background thread */
    const char *pattern; /* echo format; default "[%Y-%m-%d %H:%M:%S] [%L] %m" (see below) */

    int linger_ms;          /* how long a batch waits for more records; default 5 */
    size_t batch_bytes;     /* a batch is sent at this size; default and most 1 MiB (so
                               max_inflight of them cover an ack lag: 8 MiB of records
                               in flight, ~30,000 of the Python handler's, is 130 ms
                               of 225,000 records/s) */
    unsigned batch_records; /* ... or this many records; default 5000 */
    unsigned max_inflight;  /* batches sent and not yet acknowledged; default 8, max 15 */
    int backoff_min_ms;     /* first reconnect delay; default 100 */
    int backoff_max_ms;     /* largest reconnect delay; default 5000 */
    int connect_timeout_ms; /* default 5000 */
    int ack_timeout_ms;     /* no reply for this long with batches in flight: reconnect;
                               default 30000 */
    int close_timeout_ms;   /* longest wait of logship_close() for acknowledgements;
                               default 5000; -1 waits forever */

    const char *spool_dir; /* when set: overflow goes to append-only files here and is
                              sent, in order, when the server is back, also by the next
                              process that opens a logger on the same directory; a full
                              queue then waits (up to block_timeout_ms) for the records
                              to go to disk, and the overflow policy applies only when
                              the spool is full too */
    size_t spool_bytes;    /* most disk space for the spool; default 256 MiB */

    /* Resumable shipping (logship send --file): the caller gives a stable
     * producer id and a position with every record (logship_write(), pos >
     * 0, growing in queue order). Batches are then numbered by the position
     * of their last record, so logship_server_position() tells how far the
     * server got, across restarts of the caller. At most one batch is in
     * flight; no spool. */
    const char *producer_id;

    /* TLS, for "tls://host:port" URLs only (with tcp:// any of them is
     * LOGSHIP_EINVAL). Added after 0.1. The server's certificate must chain
     * to a CA of tls_ca_file, else of the system's trust store, and be for
     * the URL's host: its DNS name, or the IP address it is. A failed
     * verification is a failed connection attempt (logship_connect_status()
     * says why), retried with backoff like any. The files are read by
     * logship_open(); one that can not be used fails it (LOGSHIP_ETLS). */
    const char *tls_ca_file;   /* PEM CA certificates to trust; NULL: the system's */
    const char *tls_cert_file; /* PEM client certificate (chain) to present; NULL: none */
    const char *tls_key_file;  /* its PEM private key; NULL: in tls_cert_file */
} logship_opts_t;

/* A record for logship_write(). Only msg is required. */
typedef struct logship_record {
    int level;                     /* LOGSHIP_EMERG (0)..LOGSHIP_DEBUG */
    const char *msg;               /* the message (UTF-8; invalid bytes become U+FFFD) */
    size_t msg_len;                /* its length; 0: strlen(msg) */
    const logship_field_t *fields; /* per-record fields, after the logger's */
    size_t nfields;
    int64_t ts_ns;     /* time, ns since the epoch; 0: now */
    const char *topic; /* overrides the logger's topic; NULL: keep it */
    uint64_t pos;      /* resumable shipping only (opts.producer_id): the position */
    const char *app;   /* overrides the logger's app (at most 255 bytes); NULL: keep it.
                          The Python handler sets it to each record's logger name. */
} logship_record_t;

/* Counters of one logger (logship_stats()). Monotonic unless noted. */
typedef struct logship_stats {
    uint64_t queued;          /* records the sender took from the queue */
    uint64_t acked;           /* records the server acknowledged (stored) */
    uint64_t dropped;         /* records dropped in total (the three below) */
    uint64_t dropped_newest;  /* by LOGSHIP_DROP_NEWEST (and spool full) */
    uint64_t dropped_oldest;  /* by LOGSHIP_DROP_OLDEST */
    uint64_t dropped_timeout; /* by LOGSHIP_BLOCK after block_timeout_ms */
    uint64_t batches_acked;
    uint64_t batches_duplicate; /* resent batches the server already held */
    uint64_t batches_resent;    /* batches sent again after a reconnect or a nack */
    uint64_t nacks;
    uint64_t connects; /* successful connections (hello answered) */
    uint64_t connect_failures;
    uint64_t spooled_records; /* records written to the spool */
    uint64_t lost;            /* records neither delivered nor spooled at close */
    size_t queue_used;        /* bytes in the queue now */
    size_t queue_capacity;
    size_t spool_used; /* bytes in spool files now */
    int connected;     /* 1 while a connection is up */
} logship_stats_t;

/* Fills o with the defaults. Any thread. (A macro: see ABI at the top;
 * logship_opts_init_size() fills the first size bytes of o.) */
#define logship_opts_init(o) logship_opts_init_size((o), sizeof(logship_opts_t))
LOGSHIP_API void logship_opts_init_size(logship_opts_t *o, size_t size);

/* Creates a logger that sends to url ("tcp://host:port", "tls://host:port"
 * over TLS, or "host:port") and starts its background thread. opts may be
 * NULL; it and its strings are only read during the call. Does not wait for
 * the server: a server that is down is retried in the background. With
 * spool_dir, spool files left by an earlier process are sent first. On
 * success stores the logger in *out (owned by the caller until
 * logship_close()) and returns 0; otherwise a LOGSHIP_E* error (EINVAL for
 * a bad URL or option, EBUSY when another logger holds spool_dir, ETLS for
 * a TLS file that can not be used). Any thread. (A macro: see ABI at the
 * top; logship_open_size() reads opts_size bytes of opts, and refuses
 * with EINVAL members it does not know that are not zero.) */
#define logship_open(url, opts, out) logship_open_size((url), (opts), sizeof(logship_opts_t), (out))
LOGSHIP_API int logship_open_size(const char *url, const logship_opts_t *opts, size_t opts_size,
                                  logship_t **out);

/* The same for programs built against logship.h 0.1, whose logship_opts_t
 * ends at producer_id. */
LOGSHIP_API void(logship_opts_init)(logship_opts_t *o);
LOGSHIP_API int(logship_open)(const char *url, const logship_opts_t *opts, logship_t **out);

/* The log calls. Each copies what it needs into the queue and returns; the
 * caller keeps ownership of its arguments. They return 0 when the record was
 * queued or is below the minimum level, LOGSHIP_EFULL when it was dropped
 * because the queue was full (LOGSHIP_DROP_NEWEST, or a full spool),
 * LOGSHIP_ETIMEDOUT when LOGSHIP_BLOCK waited in vain, LOGSHIP_EINVAL for a
 * bad level or a missing message. Any thread, concurrently. */
LOGSHIP_API int logship_log(logship_t *lg, int level, const char *msg);
LOGSHIP_API int logship_logf(logship_t *lg, int level, const char *fmt, ...) LOGSHIP_PRINTF(3, 4);
LOGSHIP_API int logship_vlogf(logship_t *lg, int level, const char *fmt, va_list ap)
    LOGSHIP_PRINTF(3, 0);
/* With key/value fields (copied). */
LOGSHIP_API int logship_log_fields(logship_t *lg, int level, const char *msg,
                                   const logship_field_t *fields, size_t nfields);
/* The general form: every member of logship_record_t. */
LOGSHIP_API int logship_write(logship_t *lg, const logship_record_t *rec);

/* Waits until every record queued before the call is acknowledged by the
 * server (or dropped by the overflow policy), or timeout_ms passes (-1:
 * forever). Returns 0, or LOGSHIP_ETIMEDOUT. Any thread. */
LOGSHIP_API int logship_flush(logship_t *lg, int timeout_ms);

/* Flushes with opts.close_timeout_ms, stops the background thread and frees
 * the logger. What is still unacknowledged then goes to the spool when there
 * is one (and is sent by the next process), else it is lost and counted.
 * Returns 0 when everything was delivered or spooled, LOGSHIP_ETIMEDOUT
 * otherwise. lg may be NULL. Call it once, when no other thread uses lg. */
LOGSHIP_API int logship_close(logship_t *lg);

/* Copies the counters into *st. Any thread. */
LOGSHIP_API void logship_stats(logship_t *lg, logship_stats_t *st);

/* Resumable shipping: waits up to timeout_ms (-1: forever) for the server's
 * hello and stores in *pos the highest position it holds for
 * opts.producer_id (0 when none). Returns 0, LOGSHIP_ETIMEDOUT, or
 * LOGSHIP_EINVAL without a producer_id. Any thread. */
LOGSHIP_API int logship_server_position(logship_t *lg, uint64_t *pos, int timeout_ms);

/* How the logger's latest connection attempt went, for a caller that must
 * not wait for a server that is not there (`logship send` fails at once
 * rather than at its timeout). Waits up to timeout_ms (0: not at all, -1:
 * forever) until an attempt has ended, when none has yet since
 * logship_open(); it does not wait for a later one. An attempt tries every
 * address the host name resolves to and ends when the server answers the
 * hello or when all of them failed. Returns 0 when the latest attempt
 * connected (and the connection has not failed since), LOGSHIP_ECONNECT
 * when it failed, LOGSHIP_ETIMEDOUT when none ended in time. With
 * LOGSHIP_ECONNECT, why (when not NULL) gets cap bytes at most of the
 * reason: "cannot connect to 127.0.0.1:5170: Connection refused", "cannot
 * resolve 'logs.example': Name or service not known", "127.0.0.1:5170
 * closed the connection before answering the hello", "127.0.0.1:5171: TLS
 * handshake failed: certificate verify failed: hostname mismatch"... The
 * logger goes on
 * retrying in the background whatever this says, and records keep being
 * queued: this only reports. Any thread. */
LOGSHIP_API int logship_connect_status(logship_t *lg, int timeout_ms, char *why, size_t cap);

/* A static string for an error code ("queue full"). Any thread. */
LOGSHIP_API const char *logship_strerror(int err);
/* Parses a level name ("warning", "warn", "WARNING", "4", Python's "30");
 * returns 0..7, or LOGSHIP_EINVAL. Any thread. */
LOGSHIP_API int logship_level_parse(const char *name);
/* The canonical lower-case name of a level ("warning"), or "unknown". */
LOGSHIP_API const char *logship_level_name(int level);

/* Echo pattern directives: %Y %m %d %H %M %S (local time), %e milliseconds,
 * %f microseconds, %L level upper-case (WARNING), %l lower-case, %a app,
 * %h host, %P pid, %t topic, %v the message, %% a percent sign. %m is the
 * month next to a date separator (-, /, .) and the message elsewhere, so
 * "[%Y-%m-%d %H:%M:%S] [%L] %m" reads as it looks. */

#ifdef __cplusplus
}
#endif

#endif
