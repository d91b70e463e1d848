/* test_bench_opts.c - the options of logship bench (src/cli/bench_opts.c):
 * defaults per mode, where the load goes, and a one-line reason for every
 * refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/bench_opts.h"

static bench_opts_t o;
static char err[256];

/* Parses the words of line (split on spaces) after "bench". */
static int parse_env(const char *line, const char *env)
{
    static char copy[1024];
    char *argv[64];
    int argc = 0;
    snprintf(copy, sizeof copy, "%s", line);
    argv[argc++] = "bench";
    for (char *t = strtok(copy, " "); t && argc < 63; t = strtok(NULL, " "))
        argv[argc++] = t;
    argv[argc] = NULL;
    err[0] = '\0';
    return bench_opts_parse(&o, argc, argv, 4, env, err, sizeof err);
}

static int parse(const char *line)
{
    return parse_env(line, NULL);
}

static void refused(const char *line, const char *needle)
{
    assert_int_equal(parse(line), -1);
    if (!strstr(err, needle))
        fail_msg("'%s': '%s' does not say '%s'", line, err, needle);
    assert_null(strchr(err, '\n')); /* one line */
}

static void test_defaults(void **state)
{
    (void)state;
    assert_int_equal(parse("http"), 0);
    assert_int_equal(o.mode, BENCH_HTTP);
    assert_string_equal(o.server, "http://127.0.0.1:8080");
    assert_string_equal(o.host, "127.0.0.1");
    assert_int_equal(o.port, 8080);
    assert_int_equal(o.conns, 10);
    assert_int_equal(o.threads, 4); /* the cores */
    assert_true(o.rate == 0);       /* closed loop */
    assert_true(o.duration_s == 10);
    assert_int_equal(o.count, 0);
    assert_int_equal(o.size, 128);
    assert_false(o.json || o.verify || o.quiet);
}

static void test_every_option(void **state)
{
    (void)state;
    assert_int_equal(parse("-c 3 --threads 2 --rate 1500.5 -d 500ms -n 77 --warmup 2s --size 4K "
                           "--batch 50 ndjson --timeout 1m --json --verify -q "
                           "--server http://h:9/p/ --corpus /x"),
                     0);
    assert_int_equal(o.mode, BENCH_NDJSON);
    assert_int_equal(o.conns, 3);
    assert_int_equal(o.threads, 2);
    assert_true(o.rate == 1500.5);
    assert_true(o.duration_s == 0.5);
    assert_int_equal(o.count, 77);
    assert_true(o.warmup_s == 2);
    assert_int_equal(o.size, 4096);
    assert_int_equal(o.batch, 50);
    assert_true(o.timeout_s == 60);
    assert_true(o.json && o.verify && o.quiet);
    assert_string_equal(o.server, "http://h:9/p");
    assert_string_equal(o.host, "h");
    assert_int_equal(o.port, 9);
    assert_string_equal(o.corpus, "/x");
}

static void test_where_the_load_goes(void **state)
{
    (void)state;
    assert_int_equal(parse_env("syslog-tcp", "http://logs.example:8080"), 0);
    assert_string_equal(o.host, "logs.example");
    assert_int_equal(o.port, 5514); /* logshipd's syslog port on the server's host */
    assert_int_equal(parse("tcp-ack --server http://10.0.0.1"), 0);
    assert_int_equal(o.port, 5170);
    assert_int_equal(parse("syslog-udp --target [::1]:514 --rfc5424"), 0);
    assert_string_equal(o.host, "::1");
    assert_int_equal(o.port, 514);
    assert_true(o.rfc5424);
    assert_int_equal(parse("--server http://a:1 syslog-tcp --octet-count --target b:2"), 0);
    assert_string_equal(o.host, "b");
    assert_int_equal(o.port, 2);
    assert_true(o.octet_count);
}

static void test_mode_defaults(void **state)
{
    (void)state;
    assert_int_equal(parse("tail --subscribers 20"), 0);
    assert_int_equal(o.conns, 1); /* one posting connection */
    assert_int_equal(o.subscribers, 20);
    assert_int_equal(o.threads, 4);
    assert_int_equal(parse("json -c 1"), 0);
    assert_int_equal(o.threads, 1); /* not more loops than connections */
    assert_int_equal(parse("-n 1000 tcp"), 0);
    assert_true(o.duration_s == 0); /* -n alone: as long as it takes */
    assert_int_equal(parse("-n 1000 -d 5 tcp"), 0);
    assert_true(o.duration_s == 5);
    assert_int_equal(parse("tcp-ack --inflight 15 --batch 1"), 0);
    assert_int_equal(o.inflight, 15);
    assert_int_equal(parse("--help"), 1);
    assert_int_equal(parse("http -h"), 1);
}

static void test_refusals(void **state)
{
    (void)state;
    refused("", "which mode");
    refused("htttp", "unknown mode 'htttp'");
    refused("http extra", "unexpected argument 'extra'");
    refused("http --rate 0", "bad --rate '0'");
    refused("http --rate -5", "bad --rate");
    refused("http --rate fast", "bad --rate");
    refused("http -c 0", "bad --connections");
    refused("http -c 10001", "bad --connections");
    refused("http -d 0", "bad --duration");
    refused("http -d 10x", "bad --duration");
    refused("http -n 0", "bad --count");
    refused("http --size 10", "bad --size");
    refused("http --threads 0", "bad --threads");
    refused("http --batch 5", "--batch is for ndjson, tcp-ack and tail, not http");
    refused("ndjson --inflight 2", "--inflight is for tcp-ack");
    refused("tcp-ack --inflight 16", "bad --inflight");
    refused("http --subscribers 2", "--subscribers is for tail");
    refused("tcp --rfc5424", "--rfc5424 is for syslog");
    refused("syslog-udp --octet-count", "--octet-count is for syslog-tcp");
    refused("syslog-udp --size 100000", "at most 60000 bytes for syslog-udp");
    refused("http --target a:1", "--target is for the stream modes");
    refused("tcp --target nohost", "bad --target 'nohost'");
    refused("http --server ftp://x", "bad --server");
    refused("http --server https://x", "https:// is not supported");
    refused("http --bogus", "unknown option '--bogus'");
    refused("http --rate", "option '--rate' needs a value");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_option),
        cmocka_unit_test(test_where_the_load_goes),
        cmocka_unit_test(test_mode_defaults),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
