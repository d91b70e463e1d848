/* fuzz_routes.c - logshipd's own routes, in process: the real route table
 * (src/server/routes.c) with the real handlers, store, tail hub, file
 * roots and libwebsockets, driven the way fuzz_http_conn.c drives the HTTP
 * layer: the input is what one client sends on one connection, written in
 * pieces into one end of a socketpair whose other end the server adopted
 * (http_server_adopt), with the loop run between the pieces.
 *
 * Set up once per process, as src/server/main.c does: the defaults and a
 * few flags through config_from_args (--segment-size 64K, --memory-records
 * 64 and --retain-bytes 1M so that segment rolls, disk reads behind the
 * memory window and retention happen; --fsync never; a --cors-origin and
 * an --allowed-origin for the Origin and CORS paths), a store in a
 * mkdtemp data directory (/dev/shm when it exists), the tail hub, a
 * --tail-root on a small tree (lines, a line longer than one read, no final
 * newline, an empty file, a symlink inside and one out, a fifo, a
 * subdirectory), and routes_create: WebSocket and HTTP on the fuzzer's
 * loop, not listening. The temporary tree is removed at exit (an abort
 * leaves it, with the state of the crash, in /dev/shm or /tmp).
 *
 * Input: byte 0 picks how the rest is cut into writes (bits 0-1: whole,
 * single bytes, or pseudo-random pieces of up to 16 or 512 bytes), how
 * the client leaves (bit 2 clear: it half-closes after the last piece and
 * reads every reply; set: it vanishes, closing its socket), and whether
 * the server has tokens (bit 3: one token, "Bearer " FUZZ_TOKEN, with every
 * scope but limited to the topics web.# and kern.*; clear: no --auth-file).
 *
 * What must hold, or the driver aborts:
 *   - no sanitizer report (ASan, UBSan, LeakSanitizer at exit);
 *   - the connection is gone within a bounded number of loop passes after
 *     the client's half-close or close: the HTTP connection and, when the
 *     socket was handed to lws for a WebSocket, lws's connection too (the
 *     server's end of the socketpair is closed, no WebSocket is open, no
 *     subscriber is left in the tail hub). A WebSocket may wait for lws's
 *     own timers (its closing handshake): when it is still there after half
 *     the bound, the client closes its socket too, and the rest of the bound
 *     must do;
 *   - what came back before the hand-off to lws is a sequence of
 *     well-formed HTTP/1.1 responses, one per request the server parsed
 *     (counted in its stats), the answers to HEAD without bodies, only a
 *     stream (SSE) cut at the end (http_check.h); nothing of a reply is lost
 *     at the hand-off;
 *   - what lws sent is a 101 and then well-formed server frames: unmasked,
 *     no reserved bits, known opcodes, control frames short and whole, text
 *     messages valid UTF-8, a close frame with a valid code and nothing
 *     after it (or, when lws refused the handshake, an HTTP response);
 *   - the store still reads back after each input: the newest records
 *     scan (store_scan, newest first) without error, in seq order, each
 *     with valid UTF-8 text, and the store has no sticky error;
 *   - with the token (bit 3): every record stored by the input is in its
 *     topics, and no record the client got back (a query, a tail over SSE
 *     or a WebSocket: every "topic":"..." in what came back) is outside
 *     them, though earlier inputs stored records on any topic; and once
 *     the connection is gone, the token's table is held by the driver and
 *     the live tickets only (every request and WebSocket gave its
 *     reference back, H5).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/utf8.h"
#include "http/http.h"
#include "http/ws.h"
#include "http_check.h"
#include "server/metrics.h"
#include "server/routes.h"
#include "server/server.h"
#include "tail/files.h"
#include "tail/tail.h"

#define PASSES     4000 /* loop passes a connection has to go, after the client left */
#define WAIT_AFTER 200  /* passes before each one also waits (up to 1 ms) for the loop */
#define SCAN_MAX   64   /* newest records read back after each input */
#define FUZZ_TOKEN "fuzz-token-0123456789"

static auth_table_t *fuzz_tokens; /* the table bit 3 switches on */
static const topic_set_t *fuzz_topics;

static server_t srv;
static file_roots_t roots;
static char tmp[128];

static int adopt(void *arg, int fd, const char *bytes, size_t n, const char *peer,
                 const void *principal);

/* ---- setup --------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || (n && fwrite(text, 1, n, f) != n) || fclose(f))
        abort();
}

/* The --tail-root tree. */
static void make_tree(const char *logs, const char *outside)
{
    char p[512], q[512];
    buf_t b = BUF_INIT;
    for (int i = 0; i < 300; i++)
        buf_printf(&b, "app line %d: GET /x?i=%d \xc3\xa9 200\n", i, i);
    write_file(logs, "app.log", b.data, b.len);
    buf_reset(&b);
    /* a line longer than one read (1 MiB) between two short ones */
    buf_puts(&b, "start\n");
    for (int i = 0; i < (1 << 20) / 64 + 8; i++)
        buf_puts(&b, "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
    buf_puts(&b, "\nend\n");
    write_file(logs, "long.log", b.data, b.len);
    buf_free(&b);
    write_file(logs, "nonl.log", "one\r\ntwo\nno newline", 19);
    write_file(logs, "empty.log", "", 0);
    write_file(logs, "bad.log", "\xff\xfe invalid \xc3 utf-8\n\x00 nul\n", 24);
    snprintf(p, sizeof p, "%s/sub", logs);
    if (mkdir(p, 0755))
        abort();
    write_file(p, "nested.log", "nested 1\nnested 2\n", 18);
    write_file(outside, "secret", "top secret\n", 11);
    snprintf(p, sizeof p, "%s/secret", outside);
    snprintf(q, sizeof q, "%s/escape", logs);
    if (symlink(p, q))
        abort();
    snprintf(q, sizeof q, "%s/alias.log", logs);
    if (symlink("app.log", q))
        abort();
    snprintf(q, sizeof q, "%s/pipe", logs);
    if (mkfifo(q, 0644))
        abort();
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    if (tmp[0])
        nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
    char data[256], logs[256], outside[256];
    struct stat st;
    snprintf(tmp, sizeof tmp, "%s/fuzz_routes.XXXXXX",
             stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(tmp))
        abort();
    atexit(cleanup);
    snprintf(data, sizeof data, "%s/data", tmp);
    snprintf(logs, sizeof logs, "%s/logs", tmp);
    snprintf(outside, sizeof outside, "%s/outside", tmp);
    if (mkdir(logs, 0755) || mkdir(outside, 0755))
        abort();
    make_tree(logs, outside);

    const char *level = getenv("FUZZ_HTTP_DEBUG") ? "debug" : "error";
    char *argv[] = {"logshipd",
                    "--data",
                    data,
                    "--segment-size",
                    "64K",
                    "--memory-records",
                    "64",
                    "--memory-bytes",
                    "1M",
                    "--retain-bytes",
                    "1M",
                    "--fsync",
                    "never",
                    "--tail-root",
                    logs,
                    "--cors-origin",
                    "http://ok.example",
                    "--allowed-origin",
                    "http://app.example",
                    "--max-body",
                    "256K",
                    "--max-connections",
                    "16",
                    "--request-timeout",
                    "10m",
                    "--keepalive-timeout",
                    "10m",
                    "--http",
                    "127.0.0.1:0",
                    "--syslog-udp",
                    "off",
                    "--syslog-tcp",
                    "off",
                    "--tcp",
                    "off",
                    "--log-level",
                    (char *)level,
                    NULL};
    config_defaults(&srv.cfg);
    if (config_from_args(&srv.cfg, (int)(sizeof argv / sizeof argv[0]) - 1, argv, stderr))
        abort();
    /* refusals are expected here, by the thousand */
    log_threshold = srv.cfg.log_level;
    signal(SIGPIPE, SIG_IGN);
    srv.started_ns = time_now_ns();
    if (mkdir(srv.cfg.data, 0755))
        abort();
    uv_loop_init(&srv.loop);
    store_opts_t so = {
        .dir = srv.cfg.data,
        .segment_size = srv.cfg.segment_size,
        .fsync = (enum fsync_policy)srv.cfg.fsync,
        .fsync_interval_ms = (unsigned)srv.cfg.fsync_interval_ms,
        .retain_bytes = srv.cfg.retain_bytes,
        .memory_records = (size_t)srv.cfg.memory_records,
        .memory_bytes = srv.cfg.memory_bytes,
        .max_pending = 256u << 20,
    };
    char err[512];
    srv.store = store_open(&srv.loop, &so, err, sizeof err);
    if (!srv.store) {
        fprintf(stderr, "fuzz_routes: %s\n", err);
        abort();
    }
    srv.tail = tail_create(&srv.loop, srv.store, (size_t)srv.cfg.max_subscribers);
    if (files_roots_init(&roots, (const char(*)[4096])srv.cfg.tail_roots, srv.cfg.ntail_roots, err,
                         sizeof err)) {
        fprintf(stderr, "fuzz_routes: %s\n", err);
        abort();
    }
    srv.roots = &roots;
    if (access_init(&srv.access, &srv.cfg, err, sizeof err) || routes_create(&srv))
        abort();
    http_server_on_upgrade(srv.http, adopt, srv.ws);
    static const char tokens[] = "fuzz " FUZZ_TOKEN " write,read,tail,files,admin web.#,kern.*\n";
    fuzz_tokens = auth_table_parse(tokens, sizeof tokens - 1, err, sizeof err);
    if (!fuzz_tokens)
        abort();
    fuzz_topics = auth_topics(auth_table_entry(fuzz_tokens, 0));
}

/* ---- the hand-off to lws ------------------------------------------------------- */

static int client_fd = -1; /* the client's end, while it reads */
static size_t handoff_at;  /* hc_out's length when lws took over; SIZE_MAX: not */

/* Wraps ws_adopt: everything the HTTP layer sent has been sent by now, so
 * what the client reads from here on is lws's. */
static int adopt(void *arg, int fd, const char *bytes, size_t n, const char *peer,
                 const void *principal)
{
    if (n < 4 || memcmp(bytes, "GET ", 4) != 0)
        abort(); /* the head is replayed as it was parsed */
    if (client_fd >= 0)
        hc_drain(client_fd);
    handoff_at = hc_out.len;
    return ws_adopt(arg, fd, bytes, n, peer, principal);
}

/* ---- what lws sent: a 101, then frames ----------------------------------------- */

static void check_frames(const unsigned char *p, size_t n)
{
    int closed = 0;
    buf_t msg = BUF_INIT; /* a fragmented text message */
    int in_text = 0;
    while (n) {
        if (n < 2)
            break; /* cut at the end: lws gave up the connection */
        unsigned fin = p[0] & 0x80, rsv = p[0] & 0x70, op = p[0] & 0x0f;
        if (closed)
            abort(); /* a frame after the close frame */
        if (rsv || (p[1] & 0x80))
            abort(); /* no extension was agreed; a server does not mask */
        uint64_t len = p[1] & 0x7f;
        size_t h = 2;
        if (len == 126) {
            if (n < 4)
                break;
            len = (uint64_t)p[2] << 8 | p[3];
            h = 4;
        } else if (len == 127) {
            if (n < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = len << 8 | p[2 + i];
            h = 10;
        }
        if (op >= 8 && (!fin || len > 125))
            abort(); /* control frames are short and whole */
        if (op != 0 && op != 1 && op != 2 && op != 8 && op != 9 && op != 10)
            abort();
        if (len > n - h)
            break; /* cut at the end */
        const unsigned char *pl = p + h;
        if (op == 8) {
            if (len == 1)
                abort();
            if (len >= 2) {
                unsigned code = (unsigned)pl[0] << 8 | pl[1];
                if (code < 1000 || code == 1004 || code == 1005 || code == 1006 ||
                    (code > 1014 && code < 3000) || code > 4999)
                    abort();
                if (utf8_valid_prefix((const char *)pl + 2, len - 2) != len - 2)
                    abort();
            }
            closed = 1;
        } else if (op == 1 || (op == 0 && in_text)) {
            buf_append(&msg, pl, len);
            in_text = !fin;
            if (fin) {
                if (utf8_valid_prefix(msg.data ? msg.data : "", msg.len) != msg.len)
                    abort(); /* a text message must be UTF-8 */
                buf_reset(&msg);
            }
        } else if (op == 0 && !in_text) {
            /* a continuation of a binary message: nothing to check */
        }
        p += h + len;
        n -= h + len;
    }
    buf_free(&msg);
}

static void check_lws(const char *p, size_t n)
{
    if (!n)
        return; /* lws closed without a word (a refused handshake) */
    /* its answer to the handshake parses as HTTP: a 101 (the rest is
     * frames) or a refusal */
    size_t keep_n = HC_S.n;
    HC_S.n = HC_R.n; /* past every request: no HEAD rule applies */
    size_t used = hc_check_http(p, n);
    HC_S.n = keep_n;
    if (HC_S.p.upgrade) {
        if (HC_S.p.status_code != 101)
            abort();
        check_frames((const unsigned char *)p + used, n - used);
    }
}

/* ---- the loop ------------------------------------------------------------------- */

/* One loop pass; after the first few in a row, waits up to 1 ms for the
 * loop to have something (the store's writer, the thread pool, a timer). */
static void pass(int fd, int wait)
{
    if (wait) {
        struct pollfd pf[2] = {{uv_backend_fd(&srv.loop), POLLIN, 0}, {fd, POLLIN, 0}};
        int t = uv_backend_timeout(&srv.loop);
        poll(pf, fd >= 0 ? 2 : 1, t >= 0 && t < 1 ? t : 1);
    }
    uv_run(&srv.loop, UV_RUN_NOWAIT);
}

/* The server's end of the socketpair is closed (or is another file now). */
static int server_end_closed(int fd, ino_t ino)
{
    struct stat st;
    return fstat(fd, &st) != 0 || st.st_ino != ino;
}

static int scan_check(void *arg, const record_t *r)
{
    uint64_t *st = arg; /* [0]: records read, [1]: the last seq */
    if (st[0] && r->seq >= st[1])
        abort(); /* newest first: seqs go down */
    if (utf8_valid_prefix(r->msg.p, r->msg.n) != r->msg.n)
        abort();
    st[1] = r->seq;
    return ++st[0] >= SCAN_MAX;
}

/* Runs the loop until nothing waits for the store's writer (bounded). */
static void settle(void)
{
    store_stats_t ss;
    for (int i = 0; i < PASSES; i++) {
        store_get_stats(srv.store, &ss);
        if (!ss.pending_bytes)
            return;
        pass(-1, 1);
    }
}

/* With the token: a record stored by this input outside its topics. */
static int limited_check(void *arg, const record_t *r)
{
    (void)arg;
    if (!topic_set_match(fuzz_topics, r->topic.p, r->topic.n))
        abort();
    return 0;
}

/* With the token: every "topic":"..." in what came back is in its topics
 * (one with an escape is skipped: no topic of the seeds has one). */
static void check_topics_seen(const char *p, size_t n)
{
    static const char key[] = "\"topic\":\"";
    const size_t kn = sizeof key - 1;
    for (size_t i = 0; i + kn <= n; i++) {
        if (memcmp(p + i, key, kn) != 0)
            continue;
        size_t b = i + kn, e = b;
        while (e < n && p[e] != '"' && p[e] != '\\')
            e++;
        if (e < n && p[e] == '"' && !topic_set_match(fuzz_topics, p + b, e - b)) {
            fprintf(stderr, "fuzz_routes: a topic outside the token's: %.*s\n", (int)(e - b),
                    p + b);
            abort();
        }
        i = e;
    }
}

static void check_store(void)
{
    filter_t f;
    filter_init(&f);
    uint64_t st[2] = {0, 0};
    if (store_scan(srv.store, &f, 1, scan_check, st))
        abort(); /* the store no longer reads back */
    if (store_error(srv.store))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        setup();
        ready = 1;
    }
    if (size < 1 || size > 65536)
        return 0;
    unsigned mode = data[0] & 3;
    int vanish = (data[0] & 4) != 0;
    uint32_t seed = 0x9e3779b9u ^ data[0];
    const char *in = (const char *)data + 1;
    size_t n = size - 1;

    hc_reset();
    hc_reqs_parse(in, n);
    handoff_at = SIZE_MAX;
    int limited = (data[0] & 8) != 0;
    srv.access.table = limited ? fuzz_tokens : NULL; /* the driver keeps the reference */
    if (limited)
        settle(); /* what earlier inputs stored is visible: not this one's */
    uint64_t last_before = store_last_seq(srv.store);

    const http_stats_t *st = http_server_stats(srv.http);
    uint64_t before = 0;
    for (int i = 200; i < 600; i++)
        before += st->status[i];

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
        abort();
    struct stat sst;
    if (fstat(sv[0], &sst))
        abort();
    ino_t ino = sst.st_ino;
    client_fd = sv[1];
    if (http_server_adopt(srv.http, sv[0], "127.0.0.1"))
        abort();

    /* send in pieces, running the loop between them */
    size_t off = 0;
    int stuck = 0;
    while (off < n && stuck < PASSES) {
        size_t piece = hc_piece(mode, &seed, n - off);
        ssize_t w = send(sv[1], in + off, piece, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            off += (size_t)w;
            stuck = 0;
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
            break; /* the server closed: it stopped reading for good */
        } else {
            stuck++;
        }
        pass(sv[1], stuck > WAIT_AFTER);
        hc_drain(sv[1]);
    }

    /* the client leaves; the connection must go within PASSES */
    int eof = 0, gone = 0;
    if (vanish) {
        close(sv[1]);
        client_fd = -1;
    } else {
        shutdown(sv[1], SHUT_WR);
    }
    for (int p = 0; p < PASSES && !gone; p++) {
        pass(client_fd, p > WAIT_AFTER);
        if (client_fd >= 0 && hc_drain(client_fd))
            eof = 1;
        gone = (client_fd < 0 || eof) && st->conns_open == 0 && server_end_closed(sv[0], ino) &&
               ws_open_count(srv.ws) == 0 && tail_count(srv.tail) == 0;
        if (!gone && p == PASSES / 2 && handoff_at != SIZE_MAX && client_fd >= 0) {
            /* a WebSocket in lws's closing handshake: the client goes too */
            hc_drain(client_fd);
            close(client_fd);
            client_fd = -1;
        }
    }
    if (!gone) {
        fprintf(stderr, "fuzz_routes: wedged: http %llu open, server end %s, ws %zu, subs %zu\n",
                (unsigned long long)st->conns_open,
                server_end_closed(sv[0], ino) ? "closed" : "open", ws_open_count(srv.ws),
                tail_count(srv.tail));
        abort();
    }
    for (int p = 0; p < 8; p++)
        uv_run(&srv.loop, UV_RUN_NOWAIT); /* the handles' close callbacks */
    if (client_fd >= 0)
        close(client_fd);
    client_fd = -1;

    if (!vanish) {
        if (getenv("FUZZ_HTTP_DEBUG")) /* what came back, to read a crash */
            fprintf(stderr, "requests %zu, handoff at %zd, reply bytes:\n%.*s\n", HC_R.n,
                    handoff_at == SIZE_MAX ? (ssize_t)-1 : (ssize_t)handoff_at, (int)hc_out.len,
                    hc_out.data ? hc_out.data : "");
        size_t http_n = handoff_at == SIZE_MAX ? hc_out.len : handoff_at;
        /* the HTTP layer's part: every reply whole (a stream may be cut at the
         * close, but not at a hand-off: nothing streams before an upgrade) */
        if (hc_check_http(hc_out.data, http_n) != http_n)
            abort(); /* a 101 from the HTTP layer */
        if (handoff_at != SIZE_MAX && HC_S.in_msg)
            abort(); /* a reply cut at the hand-off */
        uint64_t after = 0;
        for (int i = 200; i < 600; i++)
            after += st->status[i];
        uint64_t counted = after - before;
        if (HC_S.n != counted && !(HC_S.in_msg && HC_S.n + 1 == counted))
            abort(); /* a completion counted and never sent, or sent uncounted */
        if (handoff_at != SIZE_MAX)
            check_lws(hc_out.data + handoff_at, hc_out.len - handoff_at);
    }
    if (limited &&
        auth_table_refs(fuzz_tokens) != 1 + (long)ticket_store_count(srv.access.tickets)) {
        fprintf(stderr, "fuzz_routes: %ld references to the tokens, %zu tickets\n",
                auth_table_refs(fuzz_tokens), ticket_store_count(srv.access.tickets));
        abort(); /* a principal kept or given back twice */
    }
    if (limited) {
        /* nothing seen outside the token's topics, nothing stored there */
        check_topics_seen(hc_out.data ? hc_out.data : "", hc_out.len);
        settle();
        filter_t f;
        filter_init(&f);
        f.after = last_before;
        if (store_scan(srv.store, &f, 0, limited_check, NULL))
            abort();
    }
    check_store();
    return 0;
}
