/* fuzz_bfilter.c - the per-block filter reader (bfilter.h) on any bytes:
 * bfilter_parse must refuse a blob that does not add up and never read
 * past it; a parsed one is then asked about a few filters (every path of
 * bfilter_may_match: levels, topic patterns, the token limit, app and host
 * globs, words, q and qi), which must not read past it either. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/bfilter.h"

static void ask(const bfilter_t *bf, const char *key, const char *v)
{
    filter_t f;
    const char *err;
    filter_init(&f);
    if (filter_set(&f, slice_cstr(key), slice_cstr(v), &err) < 0)
        abort();
    int m = bfilter_may_match(bf, &f);
    if (m != 0 && m != 1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy of exactly size bytes: ASan sees any read past it */
    char *p = malloc(size ? size : 1);
    if (size)
        memcpy(p, data, size);
    bfilter_t bf;
    if (bfilter_parse(p, size, &bf) == 0) {
        ask(&bf, "level", "error");
        ask(&bf, "topic", "web.*");
        ask(&bf, "topic", "#");
        ask(&bf, "app", "w?b*");
        ask(&bf, "host", "h1");
        ask(&bf, "word", "timeout blk_1");
        ask(&bf, "q", "a connection timeout to");
        ask(&bf, "qi", "GET /Index HTTP");
        filter_t f;
        topic_set_t lim = {0};
        const char *why;
        filter_init(&f);
        if (topic_set_add(&lim, "db.#", 4, &why))
            abort();
        filter_limit(&f, &lim);
        (void)bfilter_may_match(&bf, &f);
    }
    free(p);
    return 0;
}
