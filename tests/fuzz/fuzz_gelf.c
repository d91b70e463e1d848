/* fuzz_gelf.c - GELF messages, plain or compressed: one record or a
 * reason, never both; and the raw fallback always keeps the message. */
#include <stdint.h>

#include "fuzz_common.h"
#include "ingest/gelf/gelf_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gelf_parser_t gp;
    static int ready;
    if (!ready) {
        gelf_parser_init(&gp, 4096, 1 << 20);
        ready = 1;
    }
    batch_t b = {0};
    rec_defaults_t d = {.level = -1, .now = 1};
    const char *err = NULL;
    int rc = gelf_parse(&gp, (const char *)data, size, &b, &d, &err);
    if (rc == 0 ? b.count != 1 : b.count != 0 || !err || !err[0])
        abort();
    if (rc)
        gelf_raw(&gp, (const char *)data, size, err, &b, &d);
    if (b.count != 1)
        abort();
    fuzz_check_batch(&b);
    batch_free(&b);
    return 0;
}
