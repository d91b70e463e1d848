/* addr.c - listen address splitting: see addr.h. */
#include "addr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int addr_split(const char *addr, char *host, size_t hostcap, int *port)
{
    const char *colon;
    const char *h = addr;
    size_t hn;
    if (addr[0] == '[') {
        const char *rb = strchr(addr, ']');
        if (!rb || rb[1] != ':')
            return -1;
        h = addr + 1;
        hn = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon)
            return -1;
        hn = (size_t)(colon - addr);
    }
    if (hn == 0 || hn >= hostcap)
        return -1;
    memcpy(host, h, hn);
    host[hn] = '\0';
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || errno || p < 0 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}
