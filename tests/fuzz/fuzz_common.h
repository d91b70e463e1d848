/* fuzz_common.h - checks every fuzz driver applies to what a parser built:
 * each frame decodes, and each record's JSON form is valid UTF-8. */
#ifndef LOGSHIP_FUZZ_COMMON_H
#define LOGSHIP_FUZZ_COMMON_H

#include <stdlib.h>

#include "common/json_write.h"
#include "common/record.h"
#include "common/utf8.h"

static inline void fuzz_check_batch(const batch_t *b)
{
    if (!b->frames.len) {
        if (b->count)
            abort();
        return;
    }
    const char *p = b->frames.data, *end = p + b->frames.len;
    size_t count = 0;
    buf_t js = BUF_INIT;
    while (p < end) {
        record_t r;
        long n = record_decode(p, (size_t)(end - p), &r);
        if (n <= 0)
            abort(); /* the builder wrote a frame it cannot read back */
        if (utf8_valid_prefix(r.msg.p, r.msg.n) != r.msg.n)
            abort(); /* stored text must be valid UTF-8 */
        buf_reset(&js);
        record_to_json(&js, &r);
        if (utf8_valid_prefix(js.data, js.len) != js.len)
            abort();
        p += n;
        count++;
    }
    if (count != b->count)
        abort();
    buf_free(&js);
}

#endif
