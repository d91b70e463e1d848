/* fuzz_gelf_chunk.c - chunk reassembly: the input is a series of
 * datagrams (a 2-byte length, a clock step byte, then the datagram);
 * held bytes stay within the bound (C1), and a completed message is the
 * concatenation of its parts in sequence order. */
#include <stdint.h>
#include <stdlib.h>

#include "ingest/gelf/gelf_chunk.h"

/* The parts seen per message id, to check completed messages against. */
static size_t total_len(const gelf_chunks_t *t)
{
    size_t n = 0;
    for (size_t i = 0; i < GELF_PENDING; i++)
        if (t->slot[i].used)
            n += t->slot[i].data.len;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gelf_chunks_t t;
    gelf_chunks_init(&t);
    buf_t out = BUF_INIT;
    int64_t now = 0;
    size_t i = 0;
    while (i + 3 <= size) {
        size_t n = (size_t)data[i] | (size_t)data[i + 1] << 8;
        now += (int64_t)data[i + 2] * 100000000; /* up to 25 s a step */
        i += 3;
        if (n > size - i)
            n = size - i;
        /* every datagram a chunk: the magic, then the fuzzer's bytes */
        uint8_t dg[2 + 65536];
        dg[0] = 0x1e;
        dg[1] = 0x0f;
        memcpy(dg + 2, data + i, n);
        enum gelf_chunk_result r = gelf_chunks_add(&t, (const char *)dg, n + 2, now, &out);
        if (r == GELF_CHUNK_COMPLETE && n >= 10 && dg[11] == 1 && out.len != n - 10)
            abort(); /* a message of one chunk is that chunk's payload */
        if (t.held != total_len(&t) || t.held > GELF_PENDING_BYTES)
            abort(); /* C1 */
        i += n;
    }
    gelf_chunks_free(&t);
    buf_free(&out);
    return 0;
}
