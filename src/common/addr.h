/* addr.h - "HOST:PORT" listen addresses as options spell them (pure).
 *
 * Shared by the option table (server/config.c), which checks them, and the
 * listeners (src/http/, src/ingest/), which bind them.
 */
#ifndef LOGSHIP_ADDR_H
#define LOGSHIP_ADDR_H

#include <stddef.h>

#define ADDR_MAX 256 /* an address with its NUL */

/* Splits "HOST:PORT" or "[V6]:PORT" into host (NUL-terminated) and port.
 * Returns 0, or -1 when malformed. "off" is not an address. */
int addr_split(const char *addr, char *host, size_t hostcap, int *port);

#endif
