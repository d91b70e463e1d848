/* fuzz_tail_proto.c - logship tail's reader of server messages
 * (src/cli/tail_proto.c) on arbitrary bytes: items stay inside the message
 * and the parser never crashes or leaks. */
#include <stdint.h>
#include <stdlib.h>

#include "cli/tail_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tail_proto_msg_t m;
    static int ready;
    if (!ready) {
        tail_proto_init(&m);
        ready = 1;
    }
    const char *json = (const char *)data;
    if (tail_proto_parse(&m, json, size) == 0 && m.kind == TAIL_PROTO_BATCH) {
        for (size_t i = 0; i < m.nitems; i++) {
            slice_t t = tail_proto_item_text(&m, json, i);
            if (!m.items[i].is_line && (t.p < json || t.p + t.n > json + size))
                abort(); /* a record's text lies inside the message */
        }
    }
    (void)tail_proto_backoff_ms(size % 64, size ? data[0] * 2654435761u : 0);
    return 0;
}
