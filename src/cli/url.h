/* url.h - the server URLs the logship command takes: http://, ws://, and
 * over TLS https:// or wss://, then HOST[:PORT][/PATH][?QUERY]; shared by
 * its HTTP and WebSocket clients (either scheme pair works for either:
 * `logship tail --server https://...` opens wss://). */
#ifndef LOGSHIP_CLI_URL_H
#define LOGSHIP_CLI_URL_H

#include <stddef.h>

typedef struct url {
    char host[256];      /* name or address, IPv6 without brackets */
    char authority[256]; /* for the Host header: as given */
    int port;            /* default 80, or 443 with TLS */
    int tls;             /* https:// or wss:// */
    const char *path;    /* borrowed from the URL; "" means "/" */
} url_t;

/* Splits s into u. Returns 0, or -1 with err set (user names and
 * characters that need encoding are refused, as are other schemes). */
int url_parse(const char *s, url_t *u, char *err, size_t errlen);

#endif
