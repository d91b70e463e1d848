/* fuzz_amqp_state.c - the AMQP output's state file parsers
 * (src/amqp/outstate.c) on arbitrary bytes.
 *
 * Input: "node " and the bytes of a node-id file, or the bytes of an
 * amqp-out.confirmed file. A node id that parses is 32 lowercase hex
 * digits; a confirmed seq that parses is written back the way
 * outstate_save_confirmed() writes it and parses to the same seq. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amqp/outstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *why = NULL;
    if (size >= 5 && memcmp(p, "node ", 5) == 0) {
        char id[NODE_ID_LEN + 1];
        if (outstate_parse_node_id(p + 5, size - 5, id, &why)) {
            if (!why)
                abort();
            return 0;
        }
        if (strlen(id) != NODE_ID_LEN || strspn(id, "0123456789abcdef") != NODE_ID_LEN)
            abort();
        return 0;
    }
    uint64_t seq, again;
    if (outstate_parse_confirmed(p, size, &seq, &why)) {
        if (!why)
            abort();
        return 0;
    }
    char text[64];
    int n = snprintf(text, sizeof text, "confirmed %" PRIu64 "\n", seq);
    if (outstate_parse_confirmed(text, (size_t)n, &again, &why) || again != seq)
        abort();
    return 0;
}
