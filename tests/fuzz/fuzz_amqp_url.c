/* fuzz_amqp_url.c - the --amqp-out URL parser (src/amqp/amqp_url.c) on
 * arbitrary bytes.
 *
 * A URL that parses has a host, a port in 1..65535 and a vhost, each part
 * NUL-terminated within its buffer; and its redacted form (what the log
 * shows) parses back to the same scheme, user, host, port and vhost. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amqp/amqp_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    amqp_url_t u, back;
    const char *why = NULL;
    if (amqp_url_parse((const char *)data, size, &u, &why)) {
        if (!why)
            abort(); /* a refusal always says why */
        return 0;
    }
    if (u.port < 1 || u.port > 65535 || !u.host[0] || !u.vhost[0])
        abort();
    if (strnlen(u.user, sizeof u.user) == sizeof u.user ||
        strnlen(u.pass, sizeof u.pass) == sizeof u.pass ||
        strnlen(u.host, sizeof u.host) == sizeof u.host ||
        strnlen(u.vhost, sizeof u.vhost) == sizeof u.vhost)
        abort();
    char red[4 * AMQP_URL_PART + 64];
    amqp_url_redacted(&u, red, sizeof red);
    if (amqp_url_parse(red, strlen(red), &back, &why))
        abort();
    if (back.tls != u.tls || back.port != u.port || strcmp(back.user, u.user) ||
        strcmp(back.host, u.host) || strcmp(back.vhost, u.vhost))
        abort();
    return 0;
}
