/* fuzz_json.c - the JSON record decoder (object or array) on arbitrary bytes. */
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
    const char *err = NULL;
    if (json_parse_doc(jp, (const char *)data, size, &b, &d, &rep, &err) != 0 && b.count)
        abort(); /* a failed document adds nothing */
    fuzz_check_batch(&b);
    batch_free(&b);
    ingest_report_free(&rep);
    return 0;
}
