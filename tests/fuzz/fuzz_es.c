/* fuzz_es.c - Elasticsearch bulk bodies: every record decodes, every
 * action gets one item (a record or an error), and the items make a JSON
 * array. */
#include <stdint.h>

#include "fuzz_common.h"
#include "ingest/es/es_parse.h"
#include "ingest/json/jdom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static es_parser_t ep;
    static jdom_t check;
    static int ready;
    if (!ready) {
        es_parser_init(&ep, 4096);
        jdom_init(&check);
        ready = 1;
    }
    batch_t b = {0};
    ingest_report_t rep = {0};
    rec_defaults_t d = {.level = -1, .now = 1};
    buf_t items = BUF_INIT;
    es_bulk_t out = {.json = &items};
    buf_puts(&items, "[");
    es_parse_bulk(&ep, (const char *)data, size, SLICE_LIT("idx-2026.01.02"), 7, &b, &d, &rep,
                  &out);
    buf_puts(&items, "]");
    fuzz_check_batch(&b);
    if (out.items != b.count + out.errors)
        abort(); /* each action: a record or an error item */
    if (jdom_parse(&check, items.data, items.len) || check.nodes[0].len != out.items)
        abort(); /* the reply's items are JSON, one per action */
    buf_free(&items);
    batch_free(&b);
    ingest_report_free(&rep);
    return 0;
}
