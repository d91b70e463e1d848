/* test_logship.c - liblogship's public API (src/client/logship.c, with the
 * sender thread of src/client/sender.c behind it) against a small in-process
 * server speaking the acknowledged TCP protocol: delivery from threads,
 * flush, stats, nacks and lost acknowledgements (exactly once), overflow
 * with no server, resumable numbering, echo, argument checks, connection
 * status, the options' ABI and the TLS options' checks. Also built
 * with -fsanitize=thread (cmake/client.cmake: unit_client_tsan). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "logship.h"

/* ---- the fake server --------------------------------------------------- */

#define MAX_NUMS 100000

typedef struct fake {
    int lfd, port;
    pthread_t th;
    pthread_mutex_t mu;
    int stop;
    char **lines; /* stored record lines, in store order */
    size_t n, cap;
    char producer[80];
    uint64_t nums[MAX_NUMS]; /* batch numbers stored, in order */
    size_t nn;
    /* behaviour */
    uint64_t nack_once;  /* refuse this batch number the first time */
    uint64_t drop_after; /* store this batch, then close without an ack (once) */
    uint64_t hello_last; /* last_batch to announce in the hello */
    int hellos, nacked, dropped;
} fake_t;

static int fake_has(fake_t *f, uint64_t no)
{
    for (size_t i = 0; i < f->nn; i++)
        if (f->nums[i] == no)
            return 1;
    return 0;
}

static void fake_store(fake_t *f, uint64_t no, char **recs, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        if (f->n == f->cap) {
            f->cap = f->cap ? f->cap * 2 : 1024;
            f->lines = realloc(f->lines, f->cap * sizeof *f->lines);
        }
        f->lines[f->n++] = recs[i];
        recs[i] = NULL;
    }
    if (f->nn < MAX_NUMS)
        f->nums[f->nn++] = no;
}

static void say(int fd, const char *fmt, ...)
{
    char b[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    if (write(fd, b, (size_t)n) != n)
        return;
}

/* One connection: hello, then batches. Returns when it closes. */
static void fake_conn(fake_t *f, int fd)
{
    char *buf = malloc(1 << 20);
    size_t len = 0;
    int hello = 0;
    uint64_t no = 0;
    size_t want = 0, got = 0;
    char **recs = NULL;
    for (;;) {
        ssize_t r = read(fd, buf + len, (1 << 20) - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        size_t start = 0;
        char *nl;
        while ((nl = memchr(buf + start, '\n', len - start))) {
            char *line = buf + start;
            size_t n = (size_t)(nl - line);
            start += n + 1;
            pthread_mutex_lock(&f->mu);
            if (!hello) {
                hello = 1;
                f->hellos++;
                const char *p = strstr(line, "\"producer\":\"");
                if (p)
                    sscanf(p + 12, "%79[^\"]", f->producer);
                say(fd,
                    "{\"logship\":\"hello\",\"version\":1,\"last_seq\":0,\"last_batch\":%llu}\n",
                    (unsigned long long)f->hello_last);
            } else if (want == 0) {
                unsigned long long b, c;
                if (sscanf(line, "{\"logship\":\"batch\",\"batch\":%llu,\"count\":%llu}", &b, &c) !=
                    2) {
                    pthread_mutex_unlock(&f->mu);
                    goto out;
                }
                no = b;
                want = c;
                got = 0;
                recs = calloc(want ? want : 1, sizeof *recs);
            } else {
                recs[got++] = strndup(line, n);
            }
            if (hello && want && got == want) {
                if (no == f->nack_once && !f->nacked) {
                    f->nacked = 1;
                    say(fd, "{\"logship\":\"nack\",\"batch\":%llu,\"error\":\"behind\"}\n",
                        (unsigned long long)no);
                } else if (fake_has(f, no)) {
                    say(fd,
                        "{\"logship\":\"ack\",\"batch\":%llu,\"first_seq\":1,\"last_seq\":1,"
                        "\"duplicate\":true}\n",
                        (unsigned long long)no);
                } else {
                    fake_store(f, no, recs, want);
                    if (no == f->drop_after && !f->dropped) {
                        f->dropped = 1;
                        pthread_mutex_unlock(&f->mu);
                        for (size_t i = 0; i < want; i++)
                            free(recs[i]);
                        free(recs);
                        recs = NULL;
                        goto out;
                    }
                    say(fd,
                        "{\"logship\":\"ack\",\"batch\":%llu,\"first_seq\":1,\"last_seq\":%llu}\n",
                        (unsigned long long)no, (unsigned long long)want);
                }
                for (size_t i = 0; i < want; i++)
                    free(recs[i]);
                free(recs);
                recs = NULL;
                want = 0;
            }
            pthread_mutex_unlock(&f->mu);
        }
        memmove(buf, buf + start, len - start);
        len -= start;
    }
out:
    if (recs) {
        for (size_t i = 0; i < want; i++)
            free(recs[i]);
        free(recs);
    }
    free(buf);
    close(fd);
}

static void *fake_run(void *arg)
{
    fake_t *f = arg;
    for (;;) {
        int fd = accept(f->lfd, NULL, NULL);
        pthread_mutex_lock(&f->mu);
        int stop = f->stop;
        pthread_mutex_unlock(&f->mu);
        if (fd < 0 || stop) {
            if (fd >= 0)
                close(fd);
            return NULL;
        }
        fake_conn(f, fd);
    }
}

static fake_t *fake_start(void)
{
    fake_t *f = calloc(1, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(f->lfd, 8), 0);
    getsockname(f->lfd, (struct sockaddr *)&a, &al);
    f->port = ntohs(a.sin_port);
    pthread_create(&f->th, NULL, fake_run, f);
    return f;
}

static void fake_stop(fake_t *f)
{
    pthread_mutex_lock(&f->mu);
    f->stop = 1;
    pthread_mutex_unlock(&f->mu);
    /* wake accept() */
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)f->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    connect(c, (struct sockaddr *)&a, sizeof a);
    close(c);
    pthread_join(f->th, NULL);
    close(f->lfd);
    for (size_t i = 0; i < f->n; i++)
        free(f->lines[i]);
    free(f->lines);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static const char *url_of(fake_t *f)
{
    static char u[64];
    snprintf(u, sizeof u, "tcp://127.0.0.1:%d", f->port);
    return u;
}

/* The "msg" of a stored line. */
static void msg_of(const char *line, char *out, size_t cap)
{
    const char *p = strstr(line, "\"msg\":\"");
    assert_non_null(p);
    p += 7;
    size_t n = strcspn(p, "\"");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static logship_opts_t opts(void)
{
    logship_opts_t o;
    logship_opts_init(&o);
    o.app = "test";
    o.backoff_min_ms = 10;
    o.backoff_max_ms = 50;
    o.linger_ms = 2;
    return o;
}

/* ---- tests ------------------------------------------------------------- */

#define THREADS    4
#define PER_THREAD 5000

typedef struct targ {
    logship_t *lg;
    int id;
    int fails;
} targ_t;

static void *logger_thread(void *arg)
{
    targ_t *t = arg;
    for (int i = 0; i < PER_THREAD; i++)
        if (logship_logf(t->lg, LOGSHIP_INFO, "t%d %d", t->id, i) != 0)
            t->fails++;
    return NULL;
}

/* Every record from every thread arrives once, each thread's in order. */
static void test_threads_deliver(void **state)
{
    fake_t *f = fake_start();
    logship_opts_t o = opts();
    o.batch_records = 700; /* many batches, pipelined */
    logship_t *lg;
    assert_int_equal(logship_open(url_of(f), &o, &lg), 0);
    pthread_t th[THREADS];
    targ_t args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (targ_t){lg, i, 0};
        pthread_create(&th[i], NULL, logger_thread, &args[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].fails, 0);
    }
    assert_int_equal(logship_flush(lg, 20000), 0);
    logship_stats_t st;
    logship_stats(lg, &st);
    assert_int_equal(st.acked, THREADS * PER_THREAD);
    assert_int_equal(st.queued, THREADS * PER_THREAD);
    assert_int_equal(st.dropped, 0);
    assert_true(st.batches_acked >= THREADS * PER_THREAD / 700);
    assert_int_equal(st.connected, 1);
    assert_int_equal(logship_close(lg), 0);
    pthread_mutex_lock(&f->mu);
    assert_int_equal(f->n, THREADS * PER_THREAD);
    int next[THREADS] = {0};
    for (size_t i = 0; i < f->n; i++) {
        char m[64];
        int t, k;
        msg_of(f->lines[i], m, sizeof m);
        assert_int_equal(sscanf(m, "t%d %d", &t, &k), 2);
        assert_int_equal(k, next[t]);
        next[t]++;
    }
    /* batch numbers grew in store order */
    for (size_t i = 1; i < f->nn; i++)
        assert_true(f->nums[i] > f->nums[i - 1]);
    pthread_mutex_unlock(&f->mu);
    fake_stop(f);
}

static void run_series(fake_t *f, logship_opts_t *o, int n)
{
    logship_t *lg;
    assert_int_equal(logship_open(url_of(f), o, &lg), 0);
    for (int i = 0; i < n; i++) {
        assert_int_equal(logship_logf(lg, LOGSHIP_INFO, "r %d", i), 0);
        if (i % 100 == 99)
            logship_flush(lg, 0); /* seal a batch now and then */
    }
    assert_int_equal(logship_close(lg), 0);
}

static void check_once(fake_t *f, int n, int ordered)
{
    pthread_mutex_lock(&f->mu);
    assert_int_equal(f->n, n);
    char *seen = calloc((size_t)n, 1);
    for (size_t i = 0; i < f->n; i++) {
        char m[64];
        int k;
        msg_of(f->lines[i], m, sizeof m);
        assert_int_equal(sscanf(m, "r %d", &k), 1);
        assert_false(seen[k]);
        seen[k] = 1;
        if (ordered)
            assert_int_equal(k, (int)i);
    }
    free(seen);
    pthread_mutex_unlock(&f->mu);
}

/* A refused batch is sent again under a new number: stored once. */
static void test_nack(void **state)
{
    fake_t *f = fake_start();
    f->nack_once = 2;
    logship_opts_t o = opts();
    o.batch_records = 100;
    o.max_inflight = 1; /* one in flight: the order is kept too */
    run_series(f, &o, 1000);
    assert_int_equal(f->nacked, 1);
    check_once(f, 1000, 1);
    fake_stop(f);

    f = fake_start();
    f->nack_once = 3;
    o.max_inflight = 8; /* pipelined: once, maybe not in order */
    run_series(f, &o, 1000);
    assert_int_equal(f->nacked, 1);
    check_once(f, 1000, 0);
    fake_stop(f);
}

/* The connection dies after the server stored a batch, before its ack:
 * the batch is resent with its number and not stored twice. */
static void test_lost_ack(void **state)
{
    fake_t *f = fake_start();
    f->drop_after = 3;
    logship_opts_t o = opts();
    o.batch_records = 100;
    logship_t *lg;
    assert_int_equal(logship_open(url_of(f), &o, &lg), 0);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(logship_logf(lg, LOGSHIP_INFO, "r %d", i), 0);
        if (i % 100 == 99)
            logship_flush(lg, 0);
    }
    assert_int_equal(logship_flush(lg, 20000), 0);
    logship_stats_t st;
    logship_stats(lg, &st);
    assert_true(st.batches_duplicate >= 1);
    assert_true(st.batches_resent >= 1);
    assert_true(st.connects >= 2);
    assert_int_equal(logship_close(lg), 0);
    assert_int_equal(f->dropped, 1);
    check_once(f, 1000, 1);
    fake_stop(f);
}

/* No server: the queue fills and LOGSHIP_DROP_NEWEST counts every drop. */
static void test_no_server_drops(void **state)
{
    fake_t *f = fake_start();
    int port = f->port;
    fake_stop(f); /* nobody listens there now */
    char url[64];
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", port);
    logship_opts_t o = opts();
    o.queue_bytes = 64 * 1024;
    o.close_timeout_ms = 200;
    logship_t *lg;
    assert_int_equal(logship_open(url, &o, &lg), 0);
    int ok = 0, full = 0;
    for (int i = 0; i < 3000; i++) {
        int rc = logship_logf(lg, LOGSHIP_INFO, "record number %d with some text", i);
        if (rc == 0)
            ok++;
        else if (rc == LOGSHIP_EFULL)
            full++;
        else
            fail_msg("rc %d", rc);
    }
    assert_true(ok > 300 && ok < 1200);
    assert_int_equal(ok + full, 3000);
    logship_stats_t st;
    logship_stats(lg, &st);
    assert_int_equal(st.dropped_newest, (uint64_t)full);
    assert_int_equal(st.dropped, (uint64_t)full);
    assert_int_equal(st.connected, 0);
    assert_true(st.queue_used > 60 * 1024);
    assert_int_equal(logship_flush(lg, 50), LOGSHIP_ETIMEDOUT);
    assert_int_equal(logship_close(lg), LOGSHIP_ETIMEDOUT); /* not delivered */
}

/* Resumable mode: batches are numbered by the records' positions, and the
 * hello's last_batch is the server position. */
static void test_positions(void **state)
{
    fake_t *f = fake_start();
    f->hello_last = 500;
    logship_opts_t o = opts();
    o.producer_id = "file-test-1";
    logship_t *lg;
    assert_int_equal(logship_open(url_of(f), &o, &lg), 0);
    assert_int_equal(logship_log(lg, LOGSHIP_INFO, "plain"), LOGSHIP_EINVAL);
    uint64_t pos = 0;
    assert_int_equal(logship_server_position(lg, &pos, 10000), 0);
    assert_int_equal(pos, 500);
    for (int i = 1; i <= 300; i++) {
        char m[32];
        snprintf(m, sizeof m, "r %d", i - 1);
        logship_record_t r = {.level = LOGSHIP_INFO, .msg = m, .pos = 500 + (uint64_t)i * 10};
        assert_int_equal(logship_write(lg, &r), 0);
        if (i % 100 == 0)
            logship_flush(lg, 10000);
    }
    assert_int_equal(logship_close(lg), 0);
    check_once(f, 300, 1);
    pthread_mutex_lock(&f->mu);
    assert_string_equal(f->producer, "file-test-1");
    assert_int_equal(f->nums[f->nn - 1], 3500); /* the last record's position */
    for (size_t i = 0; i < f->nn; i++)
        assert_true(f->nums[i] % 10 == 0 && f->nums[i] > 500);
    pthread_mutex_unlock(&f->mu);
    fake_stop(f);
}

static void test_content(void **state)
{
    fake_t *f = fake_start();
    logship_opts_t o = opts();
    o.min_level = LOGSHIP_INFO;
    o.topic = "t.default";
    o.max_msg_bytes = 2000;
    logship_field_t common[] = {{"env", "test"}};
    o.fields = common;
    o.nfields = 1;
    logship_t *lg;
    assert_int_equal(logship_open(url_of(f), &o, &lg), 0);
    assert_int_equal(logship_log(lg, LOGSHIP_DEBUG, "filtered"), 0);
    logship_field_t kv[] = {{"user", "42"}};
    assert_int_equal(logship_log_fields(lg, LOGSHIP_ERROR, "with field", kv, 1), 0);
    char big[3000];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(logship_logf(lg, LOGSHIP_INFO, "%s", big), 0); /* past the stack buffer */
    /* a cut never splits a character: "a" + 1500 x U+00E9 is cut to 1999 bytes */
    char utf[3002];
    utf[0] = 'a';
    for (int i = 0; i < 1500; i++)
        memcpy(utf + 1 + 2 * i, "\xc3\xa9", 2);
    utf[3001] = '\0';
    assert_int_equal(logship_log(lg, LOGSHIP_INFO, utf), 0);
    assert_int_equal(logship_logf(lg, LOGSHIP_INFO, "%s", utf), 0);
    logship_record_t r = {.level = LOGSHIP_NOTICE,
                          .msg = "xyz-not-this",
                          .msg_len = 3,
                          .topic = "t.own",
                          .ts_ns = 1000000000000000000LL};
    assert_int_equal(logship_write(lg, &r), 0);
    /* a record's own app, with a topic and fields after it in the slot; an
     * app past 255 bytes is cut there */
    logship_field_t rf[] = {{"k", "v"}};
    char long_app[400];
    memset(long_app, 'a', sizeof long_app - 1);
    long_app[sizeof long_app - 1] = '\0';
    logship_record_t ra = {.level = LOGSHIP_INFO,
                           .msg = "own app",
                           .app = "py.worker",
                           .topic = "t.app",
                           .fields = rf,
                           .nfields = 1};
    assert_int_equal(logship_write(lg, &ra), 0);
    ra.app = long_app;
    assert_int_equal(logship_write(lg, &ra), 0);
    assert_int_equal(logship_close(lg), 0);
    pthread_mutex_lock(&f->mu);
    assert_int_equal(f->n, 7);
    assert_non_null(strstr(f->lines[5], "\"msg\":\"own app\",\"topic\":\"t.app\","
                                        "\"app\":\"py.worker\",\"host\":"));
    assert_non_null(strstr(f->lines[5], "\"fields\":{\"env\":\"test\",\"k\":\"v\"}"));
    char app255[300];
    snprintf(app255, sizeof app255, "\"app\":\"%.*s\",", 255, long_app);
    assert_non_null(strstr(f->lines[6], app255));
    assert_non_null(strstr(f->lines[0], "\"level\":\"error\",\"msg\":\"with field\","
                                        "\"topic\":\"t.default\""));
    assert_non_null(strstr(f->lines[0], "\"fields\":{\"env\":\"test\",\"user\":\"42\"}"));
    char expect[2100];
    snprintf(expect, sizeof expect, "\"msg\":\"%.*s\"", 2000, big);
    assert_non_null(strstr(f->lines[1], expect)); /* cut to max_msg_bytes */
    assert_non_null(strstr(f->lines[1], "\"msg_truncated\":true"));
    for (int i = 2; i <= 3; i++) {
        char m[4000];
        msg_of(f->lines[i], m, sizeof m);
        assert_int_equal(strlen(m), 1999);
        assert_memory_equal(m, utf, 1999);
        assert_non_null(strstr(f->lines[i], "\"msg_truncated\":true"));
    }
    assert_non_null(strstr(f->lines[4], "{\"ts\":1000000000000000000,\"level\":\"notice\","
                                        "\"msg\":\"xyz\",\"topic\":\"t.own\""));
    pthread_mutex_unlock(&f->mu);
    fake_stop(f);
}

static void test_echo(void **state)
{
    fake_t *f = fake_start();
    char path[] = "/tmp/test_client_echo.XXXXXX";
    int fd = mkstemp(path);
    int saved = dup(2);
    dup2(fd, 2);
    logship_opts_t o = opts();
    o.echo_stderr = 1;
    o.pattern = "<%l> %a: %m";
    logship_t *lg;
    assert_int_equal(logship_open(url_of(f), &o, &lg), 0);
    logship_log(lg, LOGSHIP_WARNING, "first");
    logship_log(lg, LOGSHIP_INFO, "second");
    assert_int_equal(logship_close(lg), 0);
    dup2(saved, 2);
    close(saved);
    char buf[256] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    unlink(path);
    assert_true(n > 0);
    assert_string_equal(buf, "<warning> test: first\n<info> test: second\n");
    fake_stop(f);
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* logship_connect_status(): a refused connection is known at once, with
 * its reason; a server that answers is "connected"; one that accepts and
 * stays silent fails at connect_timeout_ms; "localhost" goes through its
 * addresses before it says anything. */
static void test_connect_status(void **state)
{
    fake_t *f = fake_start();
    int port = f->port;
    logship_opts_t o = opts();
    logship_t *lg;
    char why[256];

    assert_int_equal(logship_open(url_of(f), &o, &lg), 0);
    assert_int_equal(logship_connect_status(lg, 10000, why, sizeof why), 0);
    assert_string_equal(why, "");
    assert_int_equal(logship_log(lg, LOGSHIP_INFO, "hi"), 0);
    assert_int_equal(logship_close(lg), 0);

    char url[64];
    snprintf(url, sizeof url, "localhost:%d", port);
    assert_int_equal(logship_open(url, &o, &lg), 0);
    assert_int_equal(logship_connect_status(lg, 10000, NULL, 0), 0);
    assert_int_equal(logship_close(lg), 0);
    fake_stop(f); /* nobody listens there now */

    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", port);
    o.backoff_min_ms = o.backoff_max_ms = 60000; /* one attempt in this test */
    assert_int_equal(logship_open(url, &o, &lg), 0);
    int64_t t0 = now_ms();
    assert_int_equal(logship_connect_status(lg, 10000, why, sizeof why), LOGSHIP_ECONNECT);
    assert_true(now_ms() - t0 < 1000);
    char want[128];
    snprintf(want, sizeof want, "cannot connect to 127.0.0.1:%d: Connection refused", port);
    assert_string_equal(why, want);
    /* later calls report without waiting; a short buffer gets a cut reason */
    char shortbuf[10];
    assert_int_equal(logship_connect_status(lg, 0, shortbuf, sizeof shortbuf), LOGSHIP_ECONNECT);
    assert_string_equal(shortbuf, "cannot co");
    logship_stats_t st;
    logship_stats(lg, &st);
    assert_true(st.connect_failures >= 1);
    assert_int_equal(st.connects, 0);
    logship_close(lg);

    /* a listener nobody accepts on: the kernel completes the handshake, no
     * hello answer comes */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(lfd, 8), 0);
    getsockname(lfd, (struct sockaddr *)&a, &al);
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", ntohs(a.sin_port));
    o.connect_timeout_ms = 200;
    assert_int_equal(logship_open(url, &o, &lg), 0);
    assert_int_equal(logship_connect_status(lg, 0, why, sizeof why), LOGSHIP_ETIMEDOUT);
    assert_int_equal(logship_connect_status(lg, 10000, why, sizeof why), LOGSHIP_ECONNECT);
    assert_non_null(strstr(why, "no answer to the hello in 200 ms"));
    logship_close(lg);
    close(lfd);
    assert_int_equal(logship_connect_status(NULL, 0, NULL, 0), LOGSHIP_EINVAL);
    assert_string_equal(logship_strerror(LOGSHIP_ECONNECT), "cannot connect to the server");
}

static void test_arguments(void **state)
{
    logship_t *lg = NULL;
    logship_opts_t o = opts();
    assert_int_equal(logship_open("http://x:1", &o, &lg), LOGSHIP_EINVAL);
    assert_int_equal(logship_open("nohost", &o, &lg), LOGSHIP_EINVAL);
    assert_int_equal(logship_open("tcp://h:99999", &o, &lg), LOGSHIP_EINVAL);
    assert_int_equal(logship_open("tcp://:80", &o, &lg), LOGSHIP_EINVAL);
    assert_int_equal(logship_open(NULL, &o, &lg), LOGSHIP_EINVAL);
    o.producer_id = "has space";
    assert_int_equal(logship_open("tcp://127.0.0.1:1", &o, &lg), LOGSHIP_EINVAL);
    o = opts();
    o.max_inflight = 16;
    assert_int_equal(logship_open("tcp://127.0.0.1:1", &o, &lg), LOGSHIP_EINVAL);
    o = opts();
    o.overflow = (logship_overflow_t)7;
    assert_int_equal(logship_open("tcp://127.0.0.1:1", &o, &lg), LOGSHIP_EINVAL);
    assert_null(lg);
    /* NULL options are the defaults; [v6]:port and host:port parse */
    assert_int_equal(logship_open("[::1]:1", NULL, &lg), 0);
    assert_int_equal(logship_log(lg, 8, "x"), LOGSHIP_EINVAL);
    assert_int_equal(logship_log(lg, -1, "x"), LOGSHIP_EINVAL);
    assert_int_equal(logship_log(lg, LOGSHIP_INFO, NULL), LOGSHIP_EINVAL);
    assert_int_equal(logship_log_fields(lg, LOGSHIP_INFO, "x", NULL, 1), LOGSHIP_EINVAL);
    logship_field_t nokey[] = {{NULL, "v"}};
    assert_int_equal(logship_log_fields(lg, LOGSHIP_INFO, "x", nokey, 1), LOGSHIP_EINVAL);
    uint64_t pos;
    assert_int_equal(logship_server_position(lg, &pos, 0), LOGSHIP_EINVAL);
    logship_close(lg);
    assert_int_equal(logship_open("localhost:1", NULL, &lg), 0);
    logship_close(lg);
    assert_int_equal(logship_close(NULL), 0);
    assert_string_equal(logship_strerror(LOGSHIP_EFULL), "queue full: record dropped");
    assert_string_equal(logship_strerror(12345), "unknown error");
    assert_int_equal(logship_level_parse("WARN"), LOGSHIP_WARNING);
    assert_int_equal(logship_level_parse("30"), LOGSHIP_WARNING);
    assert_int_equal(logship_level_parse("loud"), LOGSHIP_EINVAL);
    assert_string_equal(logship_level_name(LOGSHIP_CRIT), "crit");
}

/* logship.h's ABI: a program built against 0.1, whose logship_opts_t
 * ends at producer_id, calls the plain symbols, which write and read no
 * more of its struct than that; a newer program's members we do not know
 * must be zero. And the TLS options: files that can not be used, files
 * given for a tcp:// URL. */
static void test_abi_and_tls_options(void **state)
{
    const size_t v01 = offsetof(logship_opts_t, tls_ca_file);
    struct {
        logship_opts_t o;
        unsigned char after[64];
    } w;
    memset(&w, 0xA5, sizeof w);
    (logship_opts_init)(&w.o);
    for (size_t i = v01; i < sizeof w; i++)
        assert_int_equal(((unsigned char *)&w)[i], 0xA5);
    assert_int_equal(w.o.linger_ms, 5);
    assert_null(w.o.producer_id);
    /* what follows producer_id is not read: as TLS files it would be an
     * error with tcp:// */
    logship_t *lg = NULL;
    assert_int_equal((logship_open)("tcp://127.0.0.1:1", &w.o, &lg), 0);
    logship_close(lg);

    logship_opts_t o = opts();
    o.tls_ca_file = "/nonexistent/ca.pem";
    assert_int_equal(logship_open("tcp://127.0.0.1:1", &o, &lg), LOGSHIP_EINVAL);
    assert_int_equal(logship_open("127.0.0.1:1", &o, &lg), LOGSHIP_EINVAL);
    assert_int_equal(logship_open("tls://127.0.0.1:1", &o, &lg), LOGSHIP_ETLS);
    o.tls_ca_file = NULL;
    o.tls_key_file = "/nonexistent/key.pem"; /* a key without a certificate */
    assert_int_equal(logship_open("tls://127.0.0.1:1", &o, &lg), LOGSHIP_ETLS);
    o.tls_key_file = NULL;
    o.tls_cert_file = "/nonexistent/cert.pem";
    assert_int_equal(logship_open("tls://127.0.0.1:1", &o, &lg), LOGSHIP_ETLS);
    assert_null(lg);
    assert_string_equal(logship_strerror(LOGSHIP_ETLS),
                        "TLS file unusable (CA, certificate or key)");
    /* no files: the system's trust store; the server is checked later */
    o.tls_cert_file = NULL;
    assert_int_equal(logship_open("tls://127.0.0.1:1", &o, &lg), 0);
    logship_close(lg);

    /* a newer logship.h: members past ours are zeroed by init and must
     * stay zero */
    struct {
        logship_opts_t o;
        unsigned char newer[16];
    } n;
    memset(&n, 0xA5, sizeof n);
    logship_opts_init_size(&n.o, sizeof n);
    for (size_t i = 0; i < sizeof n.newer; i++)
        assert_int_equal(n.newer[i], 0);
    assert_int_equal(logship_open_size("tcp://127.0.0.1:1", &n.o, sizeof n, &lg), 0);
    logship_close(lg);
    n.newer[3] = 1;
    lg = NULL;
    assert_int_equal(logship_open_size("tcp://127.0.0.1:1", &n.o, sizeof n, &lg), LOGSHIP_EINVAL);
    assert_int_equal(logship_open_size("tcp://127.0.0.1:1", &n.o, v01 - 8, &lg), LOGSHIP_EINVAL);
    assert_null(lg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_deliver),
        cmocka_unit_test(test_nack),
        cmocka_unit_test(test_lost_ack),
        cmocka_unit_test(test_no_server_drops),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_content),
        cmocka_unit_test(test_echo),
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_connect_status),
        cmocka_unit_test(test_abi_and_tls_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
