/* tls_args.c - the shared TLS options: see tls_args.h. */
#include "tls_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

int cli_tls_opt(cli_tls_t *t, int c, const char *arg)
{
    switch (c) {
    case CLI_O_CA:
        t->ca = arg;
        break;
    case CLI_O_CERT:
        t->cert = arg;
        break;
    case CLI_O_KEY:
        t->key = arg;
        break;
    default:
        return 0;
    }
    t->flags = 1;
    return 1;
}

int cli_tls_url(const char *url)
{
    return strncasecmp(url, "https://", 8) == 0 || strncasecmp(url, "wss://", 6) == 0 ||
           strncasecmp(url, "tls://", 6) == 0;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

tls_client_opts_t cli_tls_client_opts(const cli_tls_t *t)
{
    return (tls_client_opts_t){t->ca, t->cert, t->key};
}

int cli_tls_setup(cli_tls_t *t, const char *cmd, const char *server, SSL_CTX **ctx)
{
    *ctx = NULL;
    if (!cli_tls_url(server)) {
        if (t->flags)
            return cli_usage_error(cmd,
                                   "--ca, --cert and --key are for https://, wss:// and tls:// "
                                   "servers, not '%s'",
                                   server);
        return 0;
    }
    /* each flag wins over its own variable */
    if (!t->ca)
        t->ca = env("LOGSHIP_CA");
    if (!t->cert)
        t->cert = env("LOGSHIP_CERT");
    if (!t->key)
        t->key = env("LOGSHIP_KEY");
    if (t->key && !t->cert)
        return cli_usage_error(cmd, "--key needs --cert (the certificate it is the key of)");
    tls_client_opts_t o = cli_tls_client_opts(t);
    char err[512];
    if (!(*ctx = tls_client_ctx_create(&o, err, sizeof err)))
        return cli_usage_error(cmd, "%s", err);
    return 0;
}
