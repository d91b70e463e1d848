/* test_config.c - logshipd's option table (src/server/config.c): --help fits
 * 80 columns, names every option with its value placeholder, and has the
 * groups, signals, exit codes and examples; and values parse as documented. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        assert_true(value[0] >= 'A' && value[0] <= 'Z'); /* ADDR:PORT, SIZE, N... */
        char want[128];
        snprintf(want, sizeof want, "  --%s %s ", name, value);
        char alone[128]; /* a long one has its text on the next line */
        snprintf(alone, sizeof alone, "  --%s %s\n", name, value);
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
        "Inputs: ",
        "Store:\n",
        "Read side: ",
        "HTTP limits and browsers:\n",
        "Logging and configuration:\n",
        "Signals:\n",
        "Exit codes:\n",
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
    assert_true(line_starting(text, "  --log-level ") >
                line_starting(text, "Logging and configuration:"));
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
