/* url.h - the server URLs the logship command takes: http:// or ws://
 * HOST[:PORT][/PATH][?QUERY], shared by its HTTP and WebSocket clients. */
#ifndef LOGSHIP_CLI_URL_H
#define LOGSHIP_CLI_URL_H

#include <stddef.h>

typedef struct url {
    char host[256];      /* name or address, IPv6 without brackets */
    char authority[256]; /* for the Host header: as given */
    int port;
    const char *path; /* borrowed from the URL; "" means "/" */
} url_t;

/* Splits s into u. Returns 0, or -1 with err set (https:// and wss:// are
 * refused, as are user names and characters that need encoding). */
int url_parse(const char *s, url_t *u, char *err, size_t errlen);

#endif
