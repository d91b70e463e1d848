/* fuzz_otlp_pb.c - OTLP logs protobuf to JSON: what is written for a
 * well-formed message is JSON, and the JSON mapping takes it. */
#include <stdint.h>

#include "fuzz_common.h"
#include "ingest/json/jdom.h"
#include "ingest/otlp/otlp_parse.h"
#include "ingest/otlp/otlp_pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static otlp_parser_t op;
    static jdom_t d;
    static int ready;
    if (!ready) {
        otlp_parser_init(&op, 4096);
        jdom_init(&d);
        ready = 1;
    }
    buf_t js = BUF_INIT;
    const char *err = NULL;
    if (otlp_pb_to_json((const char *)data, size, &js, &err)) {
        if (!err)
            abort();
        buf_free(&js);
        return 0;
    }
    if (jdom_parse(&d, js.data, js.len))
        abort(); /* the transcoder must write JSON */
    batch_t b = {0};
    ingest_report_t rep = {0};
    rec_defaults_t dd = {.level = -1, .now = 1};
    if (otlp_parse_json(&op, js.data, js.len, &b, &dd, &rep, &err))
        abort(); /* and an object with resourceLogs, if any, as an array */
    fuzz_check_batch(&b);
    batch_free(&b);
    ingest_report_free(&rep);
    buf_free(&js);
    return 0;
}
