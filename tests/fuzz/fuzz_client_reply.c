/* fuzz_client_reply.c - liblogship's reader of logshipd's replies (hello,
 * ack, nack, error lines: src/client/proto.c) on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reply_t r;
    if (proto_parse_reply((const char *)data, size, &r) == 0) {
        /* what it accepted is one of the four kinds, with a terminated error */
        if (r.kind != REPLY_HELLO && r.kind != REPLY_ACK && r.kind != REPLY_NACK &&
            r.kind != REPLY_ERROR)
            abort();
        if (memchr(r.error, '\0', sizeof r.error) == NULL)
            abort();
    }
    return 0;
}
