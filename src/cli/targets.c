/* targets.c - the servers, TLS context and output template of `logship
 * query` and `logship tail` (targets.h). */
#include "targets.h"

#include "cli.h"

int cli_targets_setup(cli_targets_t *t, const char *cmd, const char *const *given, size_t ngiven,
                      cli_tls_t *tls, const char *format)
{
    t->n = ngiven ? ngiven : 1;
    t->tls = NULL;
    t->tpl = NULL;
    const char *tls_server = NULL;
    for (size_t i = 0; i < t->n; i++) {
        if (!cli_server(ngiven ? given[i] : NULL, t->servers[i], sizeof t->servers[i]))
            return cli_usage_error(cmd, "--server URL too long");
        if (!tls_server && cli_tls_url(t->servers[i]))
            tls_server = t->servers[i];
    }
    /* one TLS context serves every TLS server given */
    int rc = cli_tls_setup(tls, cmd, tls_server ? tls_server : t->servers[0], &t->tls);
    if (rc)
        return rc;
    if (format) {
        char why[1024];
        if (!(t->tpl = format_tpl_compile(format, why, sizeof why))) {
            SSL_CTX_free(t->tls);
            t->tls = NULL;
            return cli_usage_error(cmd, "%s", why);
        }
    }
    return 0;
}

void cli_targets_free(cli_targets_t *t)
{
    format_tpl_free(t->tpl);
    SSL_CTX_free(t->tls);
    t->tpl = NULL;
    t->tls = NULL;
}

void cli_targets_print(buf_t *out, const format_tpl_t *tpl, const char *p, size_t n, int json,
                       int json_safe, int color)
{
    buf_reset(out);
    if (!json) {
        format_record(out, tpl, p, n, color);
        return;
    }
    if (json_safe)
        format_json_safe(out, p, n);
    else
        buf_append(out, p, n);
    buf_putc(out, '\n');
}
