/* test_config.c - logshipd's option table (src/server/config.c): --help fits
 * 80 columns, names every option with its value placeholder, and has the
 * groups, signals, exit codes and examples; and values parse as documented:
 * every option type (sizes, durations, counts, addresses, modes, levels,
 * repeatable names and roots), flags in both spellings, repeated flags,
 * the config file and its precedence, and each refusal's message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/config.h"

static char *usage_text(void)
{
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    assert_non_null(f);
    config_usage(f);
    fclose(f);
    assert_non_null(text);
    return text;
}

/* The line of text that starts with prefix, or NULL. */
static const char *line_starting(const char *text, const char *prefix)
{
    size_t pn = strlen(prefix);
    for (const char *p = text; *p;) {
        if (strncmp(p, prefix, pn) == 0)
            return p;
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return NULL;
}

/* 1 when needle occurs in [from, before). */
static int within(const char *from, const char *needle, const char *before)
{
    const char *at = from ? strstr(from, needle) : NULL;
    return at && at < before;
}

static void test_usage_fits_80_columns(void **state)
{
    (void)state;
    char *text = usage_text();
    size_t lineno = 1, col = 0;
    for (const char *p = text; *p; p++) {
        if ((unsigned char)*p >= 0x80 || *p == '\t')
            fail_msg("line %zu: not plain ASCII without tabs", lineno);
        if (*p == '\n') {
            lineno++;
            col = 0;
            continue;
        }
        if (++col > 80)
            fail_msg("line %zu is longer than 80 columns", lineno);
    }
    assert_true(lineno > 40);
    assert_int_equal(text[strlen(text) - 1], '\n');
    free(text);
}

static void test_usage_names_every_option_with_its_placeholder(void **state)
{
    (void)state;
    char *text = usage_text();
    size_t n = config_option_count();
    assert_true(n >= 28);
    for (size_t i = 0; i < n; i++) {
        const char *name, *value;
        assert_int_equal(config_option_info(i, &name, &value), 0);
        assert_non_null(value);
        /* ADDR:PORT, SIZE, N...; nothing for a flag (--insecure) */
        assert_true(!value[0] || (value[0] >= 'A' && value[0] <= 'Z'));
        char want[128];
        snprintf(want, sizeof want, value[0] ? "  --%s %s " : "  --%s%s ", name, value);
        char alone[128]; /* a long one has its text on the next line */
        snprintf(alone, sizeof alone, value[0] ? "  --%s %s\n" : "  --%s%s\n", name, value);
        if (!line_starting(text, want) && !line_starting(text, alone))
            fail_msg("--help has no line for \"--%s %s\"", name, value);
    }
    const char *name, *value;
    assert_int_equal(config_option_info(n, &name, &value), -1);
    /* the placeholders the README's flags table uses */
    assert_non_null(line_starting(text, "  --http ADDR:PORT "));
    assert_non_null(line_starting(text, "  --max-body SIZE "));
    assert_non_null(line_starting(text, "  --retain-age DURATION "));
    assert_non_null(line_starting(text, "  --tail-root DIR "));
    assert_non_null(line_starting(text, "  --help "));
    assert_non_null(line_starting(text, "  --version "));
    free(text);
}

static void test_usage_sections(void **state)
{
    (void)state;
    char *text = usage_text();
    assert_non_null(line_starting(text, "usage: logshipd "));
    /* how logs come in */
    assert_non_null(strstr(text, "HTTP, syslog (UDP and TCP) and raw TCP"));
    static const char *const groups[] = {
        "Inputs: ",    "Store:\n",
        "Read side: ", "HTTP limits and browsers:\n",
        "Security: ",  "Logging and configuration:\n",
        "Signals:\n",  "Exit codes:\n",
        "Examples:\n",
    };
    const char *prev = text;
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        const char *at = line_starting(text, groups[i]);
        if (!at)
            fail_msg("no section \"%s\"", groups[i]);
        assert_true(at > prev); /* in this order */
        prev = at;
    }
    /* options sit in their groups */
    assert_true(line_starting(text, "  --syslog-tcp ") < line_starting(text, "Store:"));
    assert_true(line_starting(text, "  --fsync ") > line_starting(text, "Store:"));
    assert_true(line_starting(text, "  --tail-root ") > line_starting(text, "Read side: "));
    assert_true(line_starting(text, "  --allowed-origin ") >
                line_starting(text, "HTTP limits and browsers:"));
    assert_true(line_starting(text, "  --auth-file ") > line_starting(text, "Security: "));
    assert_true(line_starting(text, "  --insecure ") > line_starting(text, "Security: "));
    assert_true(line_starting(text, "  --log-level ") >
                line_starting(text, "Logging and configuration:"));
    /* a hidden option is in no group */
    assert_null(strstr(text, "--ticket-lifetime"));
    const char *sig = line_starting(text, "Signals:\n");
    const char *codes = line_starting(text, "Exit codes:\n");
    const char *ex = line_starting(text, "Examples:\n");
    /* signals: TERM/INT drain and exit 0 within 5 s, HUP reloads and
     * reopens the log file, USR1 logs a status, USR2 is ignored */
    const char *term = line_starting(sig, "  TERM, INT ");
    assert_true(term && term < codes);
    assert_true(within(term, "exit 0 within 5 s", codes));
    const char *hup = line_starting(sig, "  HUP ");
    assert_true(within(hup, "reload", codes) && within(hup, "--log-file", codes));
    const char *usr1 = line_starting(sig, "  USR1 ");
    assert_true(within(usr1, "status", codes));
    const char *usr2 = line_starting(sig, "  USR2 ");
    assert_true(within(usr2, "ignored", codes));
    /* exit codes 0, 1, 2 */
    const char *c0 = line_starting(codes, "  0 "), *c1 = line_starting(codes, "  1 "),
               *c2 = line_starting(codes, "  2 ");
    assert_true(c0 && c1 && c2 && c0 < c1 && c1 < c2 && c2 < ex);
    assert_true(within(c0, "--help", c1));
    assert_true(within(c1, "cannot start", c2));
    assert_true(within(c2, "bad option", ex));
    /* two examples */
    const char *e1 = line_starting(ex, "  logshipd ");
    assert_non_null(e1);
    assert_non_null(line_starting(e1 + 1, "  logshipd "));
    free(text);
}

static void test_values(void **state)
{
    (void)state;
    config_t *c = malloc(sizeof *c);
    const char *why;
    config_defaults(c);
    assert_int_equal(c->max_line, 64 * 1024);
    assert_int_equal(config_set(c, "max-line", "1K", &why), 0);
    assert_int_equal(c->max_line, 1024);
    assert_int_equal(config_set(c, "retain-age", "7d", &why), 0);
    assert_int_equal(c->retain_age_s, 7 * 86400);
    assert_int_equal(config_set(c, "fsync", "sometimes", &why), -1);
    assert_int_equal(config_set(c, "no-such", "1", &why), -1);
    assert_int_equal(config_set(c, "allowed-origin", "https://a.example", &why), 0);
    assert_int_equal(c->allowed_origins.n, 1);
    assert_string_equal(c->allowed_origins.ptr[0], "https://a.example");
    /* --cors-origin takes origins as browsers send them, and '*' */
    static const char *const good[] = {"*",
                                       "null",
                                       "http://localhost:3000",
                                       "https://app.example",
                                       "http://127.0.0.1:8080",
                                       "http://[::1]:9000",
                                       "https://a-b.example.org"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (config_set(c, "cors-origin", good[i], &why))
            fail_msg("cors-origin %s refused: %s", good[i], why);
    assert_int_equal(c->cors_origins.n, 7);
    assert_string_equal(c->cors_origins.ptr[2], "http://localhost:3000");
    static const char *const bad[] = {
        "app.example",  "http://app.example/", "http://a.example/x",      "ftp://a.example",
        "http://",      "http://a.example:",   "http://a.example:123456", "http://a b",
        "https://[::1", "http://a.example?x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (config_set(c, "cors-origin", bad[i], &why) == 0)
            fail_msg("cors-origin %s accepted", bad[i]);
    assert_int_equal(c->cors_origins.n, 7);
    free(c);
}

/* ---- values, one option type at a time ------------------------------------ */

static config_t *fresh(void)
{
    static config_t *c;
    if (!c)
        c = malloc(sizeof *c);
    config_defaults(c);
    return c;
}

/* config_set must refuse key=value with exactly the message want. */
static void refused(config_t *c, const char *key, const char *value, const char *want)
{
    const char *why = NULL;
    if (config_set(c, key, value, &why) != -1)
        fail_msg("%s=%s accepted", key, value);
    assert_non_null(why);
    assert_string_equal(why, want);
}

static void test_sizes(void **state)
{
    static const struct {
        const char *s;
        size_t v;
    } good[] = {
        {"100", 100},
        {"64K", 64u << 10},
        {"64k", 64u << 10},
        {"64KiB", 64u << 10},
        {"64KB", 64u << 10},
        {"64kb", 64u << 10},
        {"8M", 8u << 20},
        {"8MiB", 8u << 20},
        {"1g", 1u << 30},
        {"1G", 1u << 30},
        {"2T", 2ull << 40},
        {"512 K", 512u << 10},
        {"0", 0},
        {"007", 7},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        size_t v = 1234;
        if (config_parse_size(good[i].s, &v))
            fail_msg("size '%s' refused", good[i].s);
        assert_int_equal(v, good[i].v);
    }
    static const char *const bad[] = {
        "",
        "K",
        "-1",
        " -1",
        "+8M",
        "\t8",
        "1.5M",
        "8X",
        "8MiBs",
        "8 M B",
        "8iB",
        "8Bi",
        "8K8",
        "0x10",
        "18446744073709551616",
        "17179869184G",
        "99999999T",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t v = 1234;
        if (config_parse_size(bad[i], &v) == 0)
            fail_msg("size '%s' accepted as %zu", bad[i], v);
        assert_int_equal(v, 1234); /* untouched */
    }

    /* a SIZE option: at least one byte */
    config_t *c = fresh();
    const char *why;
    assert_int_equal(config_set(c, "max-body", "512K", &why), 0);
    assert_int_equal(c->max_body, 512u << 10);
    assert_int_equal(config_set(c, "segment-size", "1G", &why), 0);
    assert_int_equal(c->segment_size, 1u << 30);
    assert_int_equal(config_set(c, "max-batch-bytes", "100", &why), 0);
    assert_int_equal(c->max_batch_bytes, 100);
    refused(c, "max-body", "0", "expected a size like 8M, 512K or 1G");
    refused(c, "max-body", "lots", "expected a size like 8M, 512K or 1G");
    refused(c, "memory-bytes", "-1", "expected a size like 8M, 512K or 1G");
    assert_int_equal(c->max_body, 512u << 10); /* a refusal changes nothing */
    /* a SIZE0 option: 0 is "no limit" */
    assert_int_equal(config_set(c, "retain-bytes", "20G", &why), 0);
    assert_int_equal(c->retain_bytes, 20ull << 30);
    assert_int_equal(config_set(c, "retain-bytes", "0", &why), 0);
    assert_int_equal(c->retain_bytes, 0);
    refused(c, "retain-bytes", "0K", "expected a size like 10G or 0 for no limit");
    refused(c, "retain-bytes", "some", "expected a size like 10G or 0 for no limit");
}

static void test_durations(void **state)
{
    static const struct {
        const char *s;
        long ms;
    } good[] = {
        {"0", 0},       {"90", 90000},     {"30s", 30000},    {"500ms", 500},
        {"5m", 300000}, {"12h", 43200000}, {"7d", 604800000}, {"5000ms", 5000},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        long ms = -1;
        if (config_parse_duration_ms(good[i].s, &ms))
            fail_msg("duration '%s' refused", good[i].s);
        assert_int_equal(ms, good[i].ms);
    }
    static const char *const bad[] = {"",
                                      "s",
                                      "-1s",
                                      "1.5h",
                                      "10 s",
                                      "3w",
                                      "5sec",
                                      "1h30m",
                                      "99999999999999999999",
                                      "106751991167301d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long ms = -1;
        if (config_parse_duration_ms(bad[i], &ms) == 0)
            fail_msg("duration '%s' accepted as %ld ms", bad[i], ms);
    }

    /* the DURATION options keep whole seconds */
    config_t *c = fresh();
    const char *why;
    assert_int_equal(c->idle_timeout_s, 300); /* the defaults are as --help says */
    assert_int_equal(c->ws_ping_s, 30);
    assert_int_equal(c->request_timeout_s, 10);
    assert_int_equal(c->keepalive_timeout_s, 60);
    assert_int_equal(c->retain_age_s, 0);
    assert_int_equal(config_set(c, "idle-timeout", "0", &why), 0);
    assert_int_equal(c->idle_timeout_s, 0);
    assert_int_equal(config_set(c, "ws-timeout", "2m", &why), 0);
    assert_int_equal(c->ws_timeout_s, 120);
    assert_int_equal(config_set(c, "request-timeout", "5000ms", &why), 0);
    assert_int_equal(c->request_timeout_s, 5);
    assert_int_equal(config_set(c, "keepalive-timeout", "1", &why), 0);
    assert_int_equal(c->keepalive_timeout_s, 1);
    refused(c, "retain-age", "forever",
            "expected a duration like 30m, 12h or 7d, or 0 for no limit");
    refused(c, "retain-age", "1.5h", "expected a duration like 30m, 12h or 7d, or 0 for no limit");
    /* less than a second, or not a whole number of them, does not round */
    refused(c, "request-timeout", "500ms",
            "expected whole seconds (5s, or 5000ms), or 0: this option counts seconds");
    refused(c, "ws-ping", "1500ms",
            "expected whole seconds (5s, or 5000ms), or 0: this option counts seconds");
    assert_int_equal(c->request_timeout_s, 5);
    assert_int_equal(c->ws_ping_s, 30);
}

static void test_counts_modes_levels_addrs(void **state)
{
    config_t *c = fresh();
    const char *why;
    /* N: a positive integer */
    assert_int_equal(config_set(c, "max-connections", "1", &why), 0);
    assert_int_equal(c->max_connections, 1);
    assert_int_equal(config_set(c, "memory-records", "250000", &why), 0);
    assert_int_equal(c->memory_records, 250000);
    static const char *const bad_n[] = {"0", "-3", "12x", "", "1K", " ", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_n / sizeof bad_n[0]; i++)
        refused(c, "max-subscribers", bad_n[i], "expected a positive integer");
    assert_int_equal(c->max_subscribers, 10000);
    /* MODE */
    assert_int_equal(c->fsync, 1); /* interval */
    assert_int_equal(config_set(c, "fsync", "always", &why), 0);
    assert_int_equal(c->fsync, 0);
    assert_int_equal(config_set(c, "fsync", "never", &why), 0);
    assert_int_equal(c->fsync, 2);
    refused(c, "fsync", "Always", "expected always, interval or never");
    refused(c, "fsync", "", "expected always, interval or never");
    /* LEVEL: logshipd's own four, aliases taken */
    assert_int_equal(config_set(c, "log-level", "debug", &why), 0);
    assert_int_equal(c->log_level, 7);
    assert_int_equal(config_set(c, "log-level", "warn", &why), 0);
    assert_int_equal(c->log_level, 4);
    assert_int_equal(config_set(c, "log-level", "ERROR", &why), 0);
    assert_int_equal(c->log_level, 3);
    refused(c, "log-level", "notice", "expected error, warning, info or debug");
    refused(c, "log-level", "emerg", "expected error, warning, info or debug");
    refused(c, "log-level", "chatty", "expected error, warning, info or debug");
    /* ADDR:PORT or off */
    assert_int_equal(config_set(c, "http", "0.0.0.0:0", &why), 0);
    assert_string_equal(c->http, "0.0.0.0:0");
    assert_int_equal(config_set(c, "syslog-udp", "off", &why), 0);
    assert_string_equal(c->syslog_udp, "off");
    assert_int_equal(config_set(c, "tcp", "[::1]:5170", &why), 0);
    assert_string_equal(c->tcp, "[::1]:5170");
    static const char *const bad_addr[] = {
        "8080", "localhost", "1.2.3.4:", ":80", "h:99999", "OFF"};
    for (size_t i = 0; i < sizeof bad_addr / sizeof bad_addr[0]; i++)
        refused(c, "syslog-tcp", bad_addr[i], "expected ADDR:PORT (like 127.0.0.1:8080) or off");
    assert_string_equal(c->syslog_tcp, "127.0.0.1:5514");
    /* a path too long for the table */
    static char longpath[CONFIG_PATH_MAX + 1];
    memset(longpath, 'a', CONFIG_PATH_MAX);
    refused(c, "data", longpath, "path too long");
    refused(c, "no-such", "1", "unknown option");
}

static void test_repeatable(void **state)
{
    config_t *c = fresh();
    const char *why;
    char name[64];
    /* names: every use adds one, in order, up to 16 */
    for (int i = 0; i < CONFIG_NAMES_MAX; i++) {
        snprintf(name, sizeof name, "h%d.example", i);
        assert_int_equal(config_set(c, "allowed-host", name, &why), 0);
    }
    assert_int_equal(c->allowed_hosts.n, CONFIG_NAMES_MAX);
    assert_string_equal(c->allowed_hosts.ptr[0], "h0.example");
    assert_string_equal(c->allowed_hosts.ptr[15], "h15.example");
    assert_ptr_equal(c->allowed_hosts.ptr[3], c->allowed_hosts.v[3]);
    refused(c, "allowed-host", "one-more.example", "at most 16 names");
    assert_int_equal(c->allowed_hosts.n, CONFIG_NAMES_MAX);
    /* an empty value adds nothing */
    assert_int_equal(config_set(c, "allowed-origin", "", &why), 0);
    assert_int_equal(c->allowed_origins.n, 0);
    static char longname[CONFIG_ADDR_MAX + 1];
    memset(longname, 'n', CONFIG_ADDR_MAX);
    refused(c, "allowed-origin", longname, "name too long");
    refused(c, "cors-origin", "app.example",
            "expected '*', null or an origin like https://app.example or "
            "http://localhost:3000 (scheme, host, optional port; no path)");

    /* tail roots: directories that exist, up to 16 */
    char dir[] = "/tmp/logship-test-config.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char file[sizeof dir + 8];
    snprintf(file, sizeof file, "%s/f", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(config_set(c, "tail-root", dir, &why), 0);
    assert_int_equal(config_set(c, "tail-root", "/", &why), 0);
    assert_int_equal(c->ntail_roots, 2);
    assert_string_equal(c->tail_roots[0], dir);
    assert_string_equal(c->tail_roots[1], "/");
    refused(c, "tail-root", file, "not a directory");
    refused(c, "tail-root", "/no/such/dir", "not a directory");
    assert_int_equal(config_set(c, "tail-root", "", &why), 0); /* adds nothing */
    for (int i = 2; i < CONFIG_ROOTS_MAX; i++)
        assert_int_equal(config_set(c, "tail-root", dir, &why), 0);
    refused(c, "tail-root", dir, "at most 16 tail roots");
    assert_int_equal(c->ntail_roots, CONFIG_ROOTS_MAX);
    unlink(file);
    rmdir(dir);
}

/* ---- flags and the config file ------------------------------------------- */

typedef struct run {
    int rc;
    char err[512];
} run_t;

static run_t args(config_t *c, const char *const *argv_in)
{
    run_t r;
    char *argv[32];
    int argc = 0;
    argv[argc++] = "logshipd";
    for (; *argv_in; argv_in++)
        argv[argc++] = (char *)*argv_in;
    argv[argc] = NULL;
    char *text = NULL;
    size_t n = 0;
    FILE *err = open_memstream(&text, &n);
    assert_non_null(err);
    r.rc = config_from_args(c, argc, argv, err);
    fclose(err);
    snprintf(r.err, sizeof r.err, "%s", text ? text : "");
    free(text);
    return r;
}

#define ARGS(c, ...) args(c, (const char *const[]){__VA_ARGS__, NULL})

static void test_flags(void **state)
{
    config_t *c = fresh();
    /* both spellings; a repeated scalar: the last one wins; a repeated
     * name: each one is kept */
    run_t r = ARGS(c, "--max-line=2K", "--max-line", "4K", "--fsync", "never",
                   "--allowed-origin=https://a.example", "--allowed-origin", "https://b.example",
                   "--retain-age=12h", "--log-level", "debug");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    assert_int_equal(c->max_line, 4u << 10);
    assert_int_equal(c->fsync, 2);
    assert_int_equal(c->allowed_origins.n, 2);
    assert_string_equal(c->allowed_origins.ptr[1], "https://b.example");
    assert_int_equal(c->retain_age_s, 12 * 3600);
    assert_int_equal(c->log_level, 7);
    /* a value that starts with dashes is a value */
    c = fresh();
    r = ARGS(c, "--log-file", "--odd-name");
    assert_int_equal(r.rc, 0);
    assert_string_equal(c->log_file, "--odd-name");
    /* an empty value with '=' */
    r = ARGS(c, "--log-file=");
    assert_int_equal(r.rc, 0);
    assert_string_equal(c->log_file, "");

    /* refusals: the message names the flag and the value */
    static const struct {
        const char *argv[4];
        const char *err;
    } bad[] = {
        {{"--nope", "1"}, "logshipd: unknown option '--nope' (see --help)\n"},
        {{"--nope=1"}, "logshipd: unknown option '--nope' (see --help)\n"},
        {{"-v"}, "logshipd: unexpected argument '-v' (see --help)\n"},
        {{"data"}, "logshipd: unexpected argument 'data' (see --help)\n"},
        {{"--max-line"}, "logshipd: option '--max-line' needs a value\n"},
        {{"--max-line", "0"},
         "logshipd: bad value '0' for --max-line: expected a size like 8M, 512K or 1G\n"},
        {{"--fsync=sometimes"},
         "logshipd: bad value 'sometimes' for --fsync: expected always, interval or never\n"},
        {{"--http", "8080"},
         "logshipd: bad value '8080' for --http: expected ADDR:PORT (like "
         "127.0.0.1:8080) or off\n"},
        {{"--max-connections", "-1"},
         "logshipd: bad value '-1' for --max-connections: expected a positive integer\n"},
        {{"--idle-timeout", "soon"},
         "logshipd: bad value 'soon' for --idle-timeout: expected a "
         "duration like 30m, 12h or 7d, or 0 for no limit\n"},
        {{"--config", "/no/such/logship.conf"},
         "logshipd: cannot read config /no/such/logship.conf: No such file or directory\n"},
        {{"--an-option-name-far-longer-than-any-option-of-logshipd-has-ever-had=1"},
         "logshipd: unknown option '--an-option-name-far-longer-than-any-option-of-logshipd-has-"
         "ever-had=1' (see --help)\n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = fresh();
        r = args(c, bad[i].argv);
        if (r.rc != -1)
            fail_msg("%s: accepted", bad[i].argv[0]);
        assert_string_equal(r.err, bad[i].err);
    }
    /* a bad value stops the parse: nothing after it is applied */
    c = fresh();
    r = ARGS(c, "--max-line", "1K", "--fsync", "x", "--max-body", "1K");
    assert_int_equal(r.rc, -1);
    assert_int_equal(c->max_line, 1u << 10);
    assert_int_equal(c->max_body, 8u << 20);
}

static char conf_path[64];

static void write_conf(const char *text)
{
    snprintf(conf_path, sizeof conf_path, "/tmp/logship-test-conf.XXXXXX");
    int fd = mkstemp(conf_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void test_config_file(void **state)
{
    config_t *c = fresh();
    write_conf("# logshipd\n"
               "\n"
               "max-line = 1K\n"
               "  fsync=always  \r\n"
               "\tlog-file = \" /var/log/x \"\n"
               "allowed-host = a.example\n"
               "allowed-host = b.example\n"
               "retain-bytes = 10G\n");
    /* the file first, then the flags over it, wherever --config stands */
    run_t r = ARGS(c, "--max-line", "2K", "--config", conf_path);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    assert_int_equal(c->max_line, 2u << 10);          /* the flag */
    assert_int_equal(c->fsync, 0);                    /* the file */
    assert_string_equal(c->log_file, " /var/log/x "); /* quotes keep the spaces */
    assert_int_equal(c->allowed_hosts.n, 2);
    assert_int_equal(c->retain_bytes, 10ull << 30);
    assert_string_equal(c->config_file, conf_path);
    c = fresh();
    char eq[96];
    snprintf(eq, sizeof eq, "--config=%s", conf_path);
    r = ARGS(c, eq);
    assert_int_equal(r.rc, 0);
    assert_int_equal(c->max_line, 1u << 10);
    unlink(conf_path);

    /* refusals name the file and the line; nothing after them applies */
    static const struct {
        const char *text, *err;
    } bad[] = {
        {"fsync = never\nmax-line 1K\n", "%s:2: expected 'key = value', got 'max-line 1K'\n"},
        {"\n\nnope = 1\n", "%s:3: unknown key 'nope'\n"},
        {"fsync = maybe\n", "%s:1: bad value 'maybe' for 'fsync': expected always, interval or "
                            "never\n"},
        {"config = /etc/other.conf\n", "%s:1: 'config' cannot be set inside a config file\n"},
        {"max-body = 0\n", "%s:1: bad value '0' for 'max-body': expected a size like 8M, 512K "
                           "or 1G\n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = fresh();
        write_conf(bad[i].text);
        char want[256], at[160];
        snprintf(at, sizeof at, bad[i].err, conf_path);
        snprintf(want, sizeof want, "logshipd: %s", at);
        r = ARGS(c, "--config", conf_path);
        assert_int_equal(r.rc, -1);
        assert_string_equal(r.err, want);
        unlink(conf_path);
    }
    c = fresh();
    write_conf("fsync = never\nmax-line = x\nmax-body = 1K\n");
    r = ARGS(c, "--config", conf_path);
    assert_int_equal(r.rc, -1);
    assert_int_equal(c->fsync, 2);
    assert_int_equal(c->max_body, 8u << 20);
    unlink(conf_path);
}

static const char *diffs[8];
static size_t ndiffs;

static void on_diff(void *arg, const char *name)
{
    assert_string_equal(arg, "arg");
    assert_true(ndiffs < 8);
    diffs[ndiffs++] = name;
}

static void test_diff(void **state)
{
    config_t *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    const char *why;
    config_defaults(a);
    config_defaults(b);
    ndiffs = 0;
    config_diff(a, b, on_diff, "arg");
    assert_int_equal(ndiffs, 0);
    assert_int_equal(config_set(b, "max-line", "1K", &why), 0);
    assert_int_equal(config_set(b, "allowed-origin", "https://a.example", &why), 0);
    assert_int_equal(config_set(b, "retain-age", "1h", &why), 0);
    assert_int_equal(config_set(b, "tail-root", "/", &why), 0);
    config_diff(a, b, on_diff, "arg");
    assert_int_equal(ndiffs, 4); /* in table order */
    assert_string_equal(diffs[0], "max-line");
    assert_string_equal(diffs[1], "retain-age");
    assert_string_equal(diffs[2], "tail-root");
    assert_string_equal(diffs[3], "allowed-origin");
    free(a);
    free(b);
}

static void test_resolve_addrs(void **state)
{
    config_t *c = fresh();
    const char *why;
    assert_int_equal(config_set(c, "http", "localhost:8080", &why), 0);
    assert_int_equal(config_set(c, "tcp", "off", &why), 0);
    char *text = NULL;
    size_t n = 0;
    FILE *err = open_memstream(&text, &n);
    assert_int_equal(config_resolve_addrs(c, err), 0);
    fclose(err);
    assert_string_equal(text, "");
    free(text);
    assert_string_equal(c->http, "127.0.0.1:8080"); /* IPv4 first */
    assert_string_equal(c->tcp, "off");
    assert_string_equal(c->syslog_udp, "127.0.0.1:5514");
    /* a malformed address set behind config_set's back */
    snprintf(c->syslog_tcp, sizeof c->syslog_tcp, "5514");
    text = NULL;
    err = open_memstream(&text, &n);
    assert_int_equal(config_resolve_addrs(c, err), -1);
    fclose(err);
    assert_string_equal(text, "logshipd: --syslog-tcp 5514: use ADDR:PORT, [V6ADDR]:PORT or off\n");
    free(text);
}

/* --insecure is a flag (on alone, or =true/false; a file's true/false),
 * --allow and its kin take addresses and networks, and a hidden option is
 * an option all the same. */
static void test_security_options(void **state)
{
    (void)state;
    config_t *c = malloc(sizeof *c);
    const char *why;
    char *argv[] = {
        "logshipd",    "--insecure", "--allow",           "10.0.0.0/8", "--allow=2001:db8::/32",
        "--tcp-allow", "192.0.2.7",  "--ticket-lifetime", "5s",         NULL};
    config_defaults(c);
    assert_int_equal(c->insecure, 0);
    assert_int_equal(c->ticket_lifetime_s, 60);
    assert_int_equal(config_from_args(c, 9, argv, stderr), 0);
    assert_int_equal(c->insecure, 1);
    assert_int_equal(c->allow.n, 2);
    assert_string_equal(c->allow.v[1], "2001:db8::/32");
    assert_int_equal(c->tcp_allow.n, 1);
    assert_int_equal(c->syslog_allow.n, 0);
    assert_int_equal(c->ticket_lifetime_s, 5);
    /* a flag takes no value from the next argument */
    char *argv2[] = {"logshipd", "--insecure", "--http", "off", NULL};
    config_defaults(c);
    assert_int_equal(config_from_args(c, 4, argv2, stderr), 0);
    assert_int_equal(c->insecure, 1);
    assert_string_equal(c->http, "off");
    char *argv3[] = {"logshipd", "--insecure=false", NULL};
    assert_int_equal(config_from_args(c, 2, argv3, stderr), 0);
    assert_int_equal(c->insecure, 0);
    assert_int_equal(config_set(c, "insecure", "yes", &why), 0);
    assert_int_equal(c->insecure, 1);
    assert_int_equal(config_set(c, "insecure", "maybe", &why), -1);
    static const char *const bad[] = {"10.1.2.3/8", "10.0.0.0/33", "host.example", "::/129", "/8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (config_set(c, "allow", bad[i], &why) == 0)
            fail_msg("--allow %s accepted", bad[i]);
    assert_int_equal(config_set(c, "syslog-allow", "fe80::/10", &why), 0);
    assert_int_equal(c->syslog_allow.n, 1);
    assert_int_equal(config_set(c, "auth-file", "/etc/logship/tokens", &why), 0);
    assert_string_equal(c->auth_file, "/etc/logship/tokens");
    free(c);
}

/* --syslog-tls takes RFC 5425's port 6514 when none is given; the TLS
 * options need a certificate and a key together. */
static void test_tls_options(void **state)
{
    (void)state;
    config_t *c = malloc(sizeof *c);
    const char *why;
    config_defaults(c);
    assert_string_equal(c->syslog_tls, "off");
    assert_string_equal(c->tcp_tls, "off");
    static const char *const in[][2] = {{"127.0.0.1", "127.0.0.1:6514"},
                                        {"[::1]", "[::1]:6514"},
                                        {"localhost", "localhost:6514"},
                                        {"127.0.0.1:7000", "127.0.0.1:7000"},
                                        {"off", "off"}};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        assert_int_equal(config_set(c, "syslog-tls", in[i][0], &why), 0);
        assert_string_equal(c->syslog_tls, in[i][1]);
    }
    assert_int_equal(config_set(c, "tcp-tls", "127.0.0.1", &why), -1); /* no default port */
    assert_int_equal(config_set(c, "syslog-tls", "127.0.0.1:x", &why), -1);

    char buf[4096];
    FILE *err = fmemopen(buf, sizeof buf, "w");
    char *only_cert[] = {"logshipd", "--tls-cert", "c.pem"};
    char *tls_input[] = {"logshipd", "--tcp-tls", "127.0.0.1:0"};
    char *ca_only[] = {"logshipd", "--tls-client-ca", "ca.pem"};
    char *both[] = {"logshipd", "--tls-cert",   "c.pem",    "--tls-key",
                    "k.pem",    "--syslog-tls", "127.0.0.1"};
    config_defaults(c);
    assert_int_equal(config_from_args(c, 3, only_cert, err), -1);
    config_defaults(c);
    assert_int_equal(config_from_args(c, 3, tls_input, err), -1);
    config_defaults(c);
    assert_int_equal(config_from_args(c, 3, ca_only, err), -1);
    config_defaults(c);
    assert_int_equal(config_from_args(c, 7, both, err), 0);
    assert_string_equal(c->syslog_tls, "127.0.0.1:6514");
    fclose(err);
    assert_non_null(strstr(buf, "--tls-cert needs both --tls-cert FILE and --tls-key FILE"));
    assert_non_null(strstr(buf, "--tcp-tls needs both"));
    assert_non_null(strstr(buf, "--tls-client-ca needs both"));
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_options),
        cmocka_unit_test(test_usage_fits_80_columns),
        cmocka_unit_test(test_usage_names_every_option_with_its_placeholder),
        cmocka_unit_test(test_usage_sections),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_counts_modes_levels_addrs),
        cmocka_unit_test(test_repeatable),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_config_file),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_resolve_addrs),
        cmocka_unit_test(test_security_options),
        cmocka_unit_test(test_tls_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
