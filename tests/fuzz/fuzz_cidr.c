/* fuzz_cidr.c - --allow's networks (src/common/cidr.c) on arbitrary bytes.
 *
 * Input: a network's text up to the first newline, then 16 bytes of an
 * address (zeros when short). What must hold, or the driver aborts: a
 * refusal has a reason; an accepted network has no bit set past its
 * prefix, contains its own address, and contains the address from the
 * input exactly when a plain bit by bit comparison of the prefix says so;
 * an IPv4 network is kept in its IPv4-mapped form. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cidr.h"

static int ref_in(const cidr_t *c, const uint8_t a[16])
{
    for (unsigned b = 0; b < c->bits; b++) {
        unsigned m = 0x80u >> (b % 8);
        if ((c->addr[b / 8] & m) != (a[b / 8] & m))
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *nl = memchr(s, '\n', size);
    size_t tn = nl ? (size_t)(nl - s) : size;
    uint8_t a[16] = {0};
    if (nl) {
        size_t rest = size - tn - 1;
        memcpy(a, nl + 1, rest < 16 ? rest : 16);
    }
    cidr_t c;
    const char *why = NULL;
    if (cidr_parse(s, tn, &c, &why)) {
        if (!why || !*why)
            abort();
        return 0;
    }
    if (c.bits > 128)
        abort();
    for (unsigned b = c.bits; b < 128; b++)
        if (c.addr[b / 8] & (0x80 >> (b % 8)))
            abort();
    if (!memchr(s, ':', tn)) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (c.bits < 96 || memcmp(c.addr, mapped, 12) != 0)
            abort();
    }
    cidr_list_t l = {.n = 0};
    if (cidr_list_add(&l, &c) || !cidr_list_match(&l, c.addr))
        abort();
    if (cidr_list_match(&l, a) != ref_in(&c, a))
        abort();
    return 0;
}
