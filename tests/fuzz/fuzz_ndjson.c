/* fuzz_ndjson.c - the NDJSON batch decoder: every line either becomes its
 * records or is listed as rejected, and one bad line never hides another. */
#include <stdint.h>

#include "fuzz_common.h"
#include "ingest/json/json_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_parser_t *jp;
    if (!jp)
        jp = json_parser_create(4096);
    batch_t b = {0};
    ingest_report_t rep = {0};
    rec_defaults_t d = {.level = -1, .now = 1};
    json_parse_lines(jp, (const char *)data, size, &b, &d, &rep);
    fuzz_check_batch(&b);
    /* each line yields records or a rejection: never more lines rejected
     * than there are lines */
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (rep.rejected > lines && !memchr(data, '[', size))
        abort();
    batch_free(&b);
    ingest_report_free(&rep);
    return 0;
}
