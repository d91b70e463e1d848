/* fuzz_otlp.c - OTLP/HTTP JSON logs: every record decodes, and a request
 * either adds nothing (refused whole) or accounts for each log record
 * once, stored or refused. */
#include <stdint.h>

#include "fuzz_common.h"
#include "ingest/otlp/otlp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static otlp_parser_t op;
    static int ready;
    if (!ready) {
        otlp_parser_init(&op, 4096);
        ready = 1;
    }
    batch_t b = {0};
    ingest_report_t rep = {0};
    rec_defaults_t d = {.level = -1, .now = 1};
    const char *err = NULL;
    int rc = otlp_parse_json(&op, (const char *)data, size, &b, &d, &rep, &err);
    fuzz_check_batch(&b);
    if (rc < 0 && (b.count || !err || !err[0]))
        abort();
    if (rc == 0 && b.count + rep.rejected != op.records)
        abort();
    batch_free(&b);
    ingest_report_free(&rep);
    return 0;
}
