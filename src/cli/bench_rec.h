/* bench_rec.h - the records `logship bench` sends, and finding them again.
 *
 * Every message starts with the run's tag
 *     lsb_<run>_<id>_<time>
 * run: 16 hex digits, one per run; id: 12 decimal digits, the record's
 * number in the run (from 1); time: 20 decimal digits, the monotonic ns at
 * which the record was meant to be sent (open loop) or was sent. The widths
 * are fixed, so a request's length does not change from one record to the
 * next, and the tag can be found in any text the server gives back (a
 * query's NDJSON, a tail's messages) without a JSON parser: its characters
 * need no escaping in form, JSON or syslog. After the tag come a space and
 * filler text up to --size bytes, or one line of the --corpus file.
 *
 * The encodings: form (log=<msg>&app=bench, URL-encoded), JSON
 * ({"app":"bench","level":"info","msg":"<msg>"}), syslog (RFC 3164
 * "<14>Mmm dd hh:mm:ss HOST bench[PID]: <msg>" or RFC 5424
 * "<14>1 TIMESTAMP HOST bench PID - - <msg>", each framed by LF or by octet
 * counting). The text around the tag is encoded once, at init; a record
 * costs a few copies and 32 digits. Pure: no I/O; a bench_rec_t is shared
 * read-only by the load threads once made.
 */
#ifndef LOGSHIP_CLI_BENCH_REC_H
#define LOGSHIP_CLI_BENCH_REC_H

#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"

#define BENCH_RUN_LEN 16
#define BENCH_TAG_LEN 54 /* "lsb_" 16 "_" 12 "_" 20 */
#define BENCH_ID_MAX  UINT64_C(999999999999)

enum bench_enc {
    BENCH_ENC_FORM,   /* http */
    BENCH_ENC_JSON,   /* json, ndjson, tcp, tcp-ack (one object, no newline) */
    BENCH_ENC_SYSLOG, /* syslog-udp, syslog-tcp (framed) */
};

typedef struct bench_rec {
    enum bench_enc enc;
    char run[BENCH_RUN_LEN + 1];
    int rfc5424, octet_count, lf; /* syslog: format; framing (lf: a newline after each) */
    char host[64];                /* syslog HOST ("localhost"; the caller may set it) */
    unsigned pid;                 /* syslog PID (1; likewise) */
    buf_t text;                   /* the encoded fillers or corpus lines, back to back */
    size_t *off;                  /* line i is text[off[i], off[i+1]) */
    size_t nlines;                /* 1 without a corpus: the filler */
    size_t maxline;               /* the longest encoded line */
} bench_rec_t;

/* Makes the encoder. size is the message length wanted (filler after the
 * tag; ignored with a corpus). corpus is the file's bytes (NULL: none):
 * each non-empty line, a trailing CR dropped, is one message's text after
 * the tag. Returns 0, or -1 with err set (a corpus without one line). */
int bench_rec_init(bench_rec_t *r, enum bench_enc enc, const char *run, size_t size,
                   const char *corpus, size_t corpus_len, char *err, size_t errlen);
void bench_rec_free(bench_rec_t *r);

/* The longest record bench_rec_append() can write, framing included. */
size_t bench_rec_max(const bench_rec_t *r);

/* The syslog timestamp of a second, kept by each caller and brought up to
 * date once per batch (bench_stamp_set() does nothing within the second). */
typedef struct bench_stamp {
    int64_t sec;
    char text[40];
    size_t len;
} bench_stamp_t;
void bench_stamp_set(const bench_rec_t *r, bench_stamp_t *st, int64_t wall_s);

/* Appends record id, meant for time t (ns), to out in r's encoding; stamp
 * is for syslog (NULL otherwise). */
void bench_rec_append(const bench_rec_t *r, buf_t *out, uint64_t id, uint64_t t,
                      const bench_stamp_t *stamp);

/* Writes the tag of (run, id, t) into out (BENCH_TAG_LEN bytes, no NUL). */
void bench_tag(char *out, const char *run, uint64_t id, uint64_t t);

/* Calls fn for every tag of run in p[0..n), in order. Returns how many. */
typedef void (*bench_tag_fn)(void *arg, uint64_t id, uint64_t t);
size_t bench_tags_scan(const char *run, const char *p, size_t n, bench_tag_fn fn, void *arg);

/* The same over a stream cut anywhere: pieces fed in order find the tags
 * of the text they make, one split across pieces included. */
typedef struct bench_tag_stream {
    char carry[BENCH_TAG_LEN];
    size_t ncarry;
} bench_tag_stream_t;
size_t bench_tags_feed(bench_tag_stream_t *st, const char *run, const char *p, size_t n,
                       bench_tag_fn fn, void *arg);

#endif
