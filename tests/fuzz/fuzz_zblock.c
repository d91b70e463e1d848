/* fuzz_zblock.c - the compressed segment's block decoder (zseg.h) on any
 * bytes: it must refuse what does not check out, and what it accepts must
 * be exactly the raw length the header names, readable frame by frame the
 * way readers walk it (damage inside stops the walk, never reads past). */
#include <stdint.h>
#include <stdlib.h>

#include "store/zseg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    buf_t out = BUF_INIT;
    if (zseg_decode_block((const char *)data, size, &out) == 0) {
        if (size < ZSEG_BLOCK_HDR || out.len != rd32((const char *)data + 8))
            abort();
        size_t pos = 0;
        while (pos < out.len) {
            size_t fs;
            record_t r;
            if (!record_verify(out.data + pos, out.len - pos, &fs) ||
                record_decode(out.data + pos, out.len - pos, &r) <= 0)
                break;
            if (fs == 0 || fs > out.len - pos)
                abort();
            pos += fs;
        }
    }
    buf_free(&out);
    return 0;
}
