/* cidr.h - addresses and networks that may connect (--allow 10.0.0.0/8,
 * 2001:db8::/32, 192.0.2.7), and matching a peer's address against a list
 * of them (pure: bytes in, no sockets).
 *
 * Every network is kept as IPv6: an IPv4 one as its IPv4-mapped form
 * (::ffff:a.b.c.d, the prefix length plus 96), so an IPv4 network also
 * matches an IPv4 peer seen through an IPv6 socket. Matching compares the
 * prefix's whole bytes and one masked byte: no allocation, no call.
 */
#ifndef LOGSHIP_CIDR_H
#define LOGSHIP_CIDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CIDR_LIST_MAX 48 /* --allow and a listener kind's own, 16 each, and room */
#define CIDR_TEXT_MAX 64 /* "ffff:...:ffff/128" and then some */

typedef struct cidr {
    uint8_t addr[16]; /* the network, host bits zero */
    uint8_t bits;     /* prefix length, 0..128, of the IPv6 form */
} cidr_t;

typedef struct cidr_list {
    cidr_t v[CIDR_LIST_MAX];
    size_t n;
} cidr_list_t;

/* Parses "ADDR" or "ADDR/LEN" (IPv4 dotted or IPv6, LEN 0..32 or 0..128)
 * from s[0..n). Host bits set under the prefix (10.1.2.3/8) are refused as
 * a likely typo. Returns 0, or -1 with *why set to a static reason. */
int cidr_parse(const char *s, size_t n, cidr_t *out, const char **why);
/* Adds a network to l; -1 when full. */
int cidr_list_add(cidr_list_t *l, const cidr_t *c);
/* 1 when the 16-byte IPv6 (or IPv4-mapped) address a is in one of l's
 * networks; 0 for an empty list. */
int cidr_list_match(const cidr_list_t *l, const uint8_t a[16]);
/* The 16-byte form of a socket address (AF_INET as IPv4-mapped); 0, or -1
 * for another family. */
int cidr_of_sockaddr(const struct sockaddr *sa, uint8_t out[16]);
/* 1 when the 16-byte address is loopback: 127.0.0.0/8 or ::1. */
int cidr_is_loopback(const uint8_t a[16]);
/* The 16-byte form of a numeric host ("127.0.0.1", "::1"); 0 or -1. */
int cidr_of_host(const char *host, uint8_t out[16]);

#endif
