/* amqp_url.h - parsing an AMQP URL (--amqp-out): bytes in, parts out.
 *
 *   amqp://[USER[:PASS]@]HOST[:PORT][/VHOST]
 *   amqps://...                               TLS (--amqp-ca)
 *
 * as RabbitMQ's URI spec has it: USER, PASS and VHOST are percent-decoded
 * ("%2f" is "/"); HOST is a name or IPv4 address (letters, digits, '-',
 * '.', '_') or an [IPv6] literal, never escaped; PORT defaults to 5672
 * (5671 for amqps), USER and PASS to guest. A missing or empty VHOST is the
 * default vhost "/". No query (?...), fragment or NUL byte is accepted, and
 * each part fits AMQP_URL_PART bytes.
 * Pure: no I/O, no allocation.
 */
#ifndef LOGSHIP_AMQP_URL_H
#define LOGSHIP_AMQP_URL_H

#include <stddef.h>

#define AMQP_URL_PART 256 /* a part with its NUL */

typedef struct amqp_url {
    int tls;
    int port;
    char user[AMQP_URL_PART], pass[AMQP_URL_PART];
    char host[AMQP_URL_PART]; /* without the brackets of an IPv6 literal */
    char vhost[AMQP_URL_PART];
} amqp_url_t;

/* Parses s[0..n) into *u. Returns 0, or -1 with *why set to a static
 * reason. */
int amqp_url_parse(const char *s, size_t n, amqp_url_t *u, const char **why);

/* The URL without its password, for logs: "amqp://guest@127.0.0.1:5672/%2f".
 * Writes at most cap bytes with the NUL. */
void amqp_url_redacted(const amqp_url_t *u, char *out, size_t cap);

#endif
