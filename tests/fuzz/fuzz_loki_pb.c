/* fuzz_loki_pb.c - Loki's protobuf push: the input is the uncompressed
 * PushRequest (compressed here with snappy, so the fuzzer explores the
 * protobuf), and also tried as it is (corrupt snappy); a push read whole
 * becomes JSON that the JSON mapping takes, each entry stored or refused. */
#include <snappy-c.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "ingest/loki/loki_parse.h"
#include "ingest/loki/loki_pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static loki_parser_t lp;
    static int ready;
    if (!ready) {
        loki_parser_init(&lp, 4096);
        ready = 1;
    }
    size_t clen = snappy_max_compressed_length(size);
    char *c = malloc(clen ? clen : 1);
    if (snappy_compress((const char *)data, size, c, &clen) != SNAPPY_OK)
        abort();
    batch_t b = {0};
    ingest_report_t rep = {0};
    rec_defaults_t d = {.level = -1, .now = 1};
    const char *err = NULL;
    int rc = loki_parse_pb(&lp, c, clen, 1 << 20, &b, &d, &rep, &err);
    fuzz_check_batch(&b);
    if (rc < 0 && (b.count || !err))
        abort();
    if (rc == 0 && b.count + rep.rejected != lp.entries)
        abort(); /* every entry stored or refused, once */
    batch_free(&b);
    ingest_report_free(&rep);
    /* the same bytes as if they were compressed: refused, not read past */
    if (loki_parse_pb(&lp, (const char *)data, size, 1 << 20, &b, &d, &rep, &err) == 0)
        fuzz_check_batch(&b);
    batch_free(&b);
    ingest_report_free(&rep);
    free(c);
    return 0;
}
