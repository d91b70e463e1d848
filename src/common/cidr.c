/* cidr.c - networks that may connect, and matching peers: see cidr.h. */
#include "cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int cidr_of_host(const char *host, uint8_t out[16])
{
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1) {
        memcpy(out, v4_mapped, 12);
        memcpy(out + 12, &a4, 4);
        return 0;
    }
    return inet_pton(AF_INET6, host, out) == 1 ? 0 : -1;
}

int cidr_parse(const char *s, size_t n, cidr_t *out, const char **why)
{
    char host[CIDR_TEXT_MAX];
    const char *slash = memchr(s, '/', n);
    size_t hn = slash ? (size_t)(slash - s) : n;
    memset(out, 0, sizeof *out);
    if (hn == 0 || hn >= sizeof host) {
        *why = "expected an address or a network: 192.0.2.7, 10.0.0.0/8, 2001:db8::/32";
        return -1;
    }
    memcpy(host, s, hn);
    host[hn] = '\0';
    int v4 = memchr(host, ':', hn) == NULL;
    if (cidr_of_host(host, out->addr)) {
        *why = "expected an address or a network: 192.0.2.7, 10.0.0.0/8, 2001:db8::/32";
        return -1;
    }
    unsigned len = v4 ? 32 : 128;
    if (slash) {
        const char *d = slash + 1;
        size_t dn = n - hn - 1;
        if (dn < 1 || dn > 3) {
            *why = "bad prefix length: /0 to /32 for IPv4, /0 to /128 for IPv6";
            return -1;
        }
        unsigned v = 0;
        for (size_t i = 0; i < dn; i++) {
            if (d[i] < '0' || d[i] > '9') {
                *why = "bad prefix length: /0 to /32 for IPv4, /0 to /128 for IPv6";
                return -1;
            }
            v = v * 10 + (unsigned)(d[i] - '0');
        }
        if (v > len) {
            *why = "bad prefix length: /0 to /32 for IPv4, /0 to /128 for IPv6";
            return -1;
        }
        len = v;
    }
    out->bits = (uint8_t)(v4 ? len + 96 : len);
    for (unsigned b = out->bits; b < 128; b++) {
        if (out->addr[b / 8] & (0x80 >> (b % 8))) {
            *why = "address bits set beyond the prefix length (10.0.0.0/8, not 10.1.2.3/8)";
            return -1;
        }
    }
    return 0;
}

int cidr_list_add(cidr_list_t *l, const cidr_t *c)
{
    if (l->n == CIDR_LIST_MAX)
        return -1;
    l->v[l->n++] = *c;
    return 0;
}

static int in_net(const cidr_t *c, const uint8_t a[16])
{
    unsigned whole = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr, a, whole) != 0)
        return 0;
    if (!rest)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & mask) == c->addr[whole];
}

int cidr_list_match(const cidr_list_t *l, const uint8_t a[16])
{
    for (size_t i = 0; i < l->n; i++)
        if (in_net(&l->v[i], a))
            return 1;
    return 0;
}

int cidr_of_sockaddr(const struct sockaddr *sa, uint8_t out[16])
{
    if (sa->sa_family == AF_INET) {
        memcpy(out, v4_mapped, 12);
        memcpy(out + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        return 0;
    }
    return -1;
}

int cidr_is_loopback(const uint8_t a[16])
{
    static const uint8_t one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (memcmp(a, one, 16) == 0)
        return 1;
    return memcmp(a, v4_mapped, 12) == 0 && a[12] == 127;
}
