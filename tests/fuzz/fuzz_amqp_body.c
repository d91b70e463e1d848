/* fuzz_amqp_body.c - RabbitMQ messages into records (src/amqp/inbody.c)
 * on arbitrary bytes.
 *
 * Input: a flags byte, then content_type, message_id, app_id and
 * routing_key each ended by a NUL byte (missing ones are empty), then the
 * body. Flags bit 0: the body was cut (its size is one more than its
 * bytes); bit 1: a timestamp property. Checks: every frame decodes and
 * its JSON is valid UTF-8; the result counts what the batch got; a
 * message always leaves a trace unless a key said it was taken; and the
 * same message delivered again, with every key it gave now taken, adds
 * only records that have no key (nothing keyed is stored twice). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amqp/dedup.h"
#include "amqp/inbody.h"
#include "fuzz_common.h"

static dedup_t seen;

static int key_new(void *arg, const char *k, size_t n)
{
    (void)arg;
    if (!n || n >= INBODY_KEY_MAX)
        abort(); /* keys are never empty, and fit */
    return dedup_add(&seen, dedup_hash(k, n));
}

static size_t keyed(const batch_t *b)
{
    size_t n = 0;
    char k[INBODY_KEY_MAX];
    if (!b->frames.len)
        return 0;
    for (const char *p = b->frames.data, *end = p + b->frames.len; p < end;) {
        record_t r;
        long sz = record_decode(p, (size_t)(end - p), &r);
        if (sz <= 0)
            abort();
        size_t kn = inbody_record_key(&r, k);
        if (kn != strlen(k))
            abort();
        n += kn > 0;
        p += sz;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static inbody_t *p;
    if (!p) {
        p = inbody_create(4096);
        dedup_init(&seen, 1024);
    }
    if (!size)
        return 0;
    unsigned flags = data[0];
    const char *s = (const char *)data + 1, *end = (const char *)data + size;
    slice_t part[4];
    for (int i = 0; i < 4; i++) {
        const char *z = memchr(s, '\0', (size_t)(end - s));
        part[i] = slice_make(s, z ? (size_t)(z - s) : 0);
        s = z ? z + 1 : s;
    }
    inbody_msg_t m = {
        .body = s,
        .len = (size_t)(end - s),
        .size = (uint64_t)(end - s) + (flags & 1),
        .content_type = part[0],
        .message_id = part[1],
        .app_id = part[2],
        .routing_key = part[3],
        .timestamp_ns = flags & 2 ? 1767225600000000000LL : 0,
    };
    dedup_free(&seen);
    dedup_init(&seen, 1024);
    batch_t b = {0};
    inbody_result_t res;
    inbody_parse(p, &m, 1767225600000000000LL, &b, key_new, NULL, &res);
    fuzz_check_batch(&b);
    if (res.records != b.count)
        abort();
    size_t lead = 0;
    while (lead < m.len && strchr(" \t\r\n", m.body[lead]) && m.body[lead])
        lead++;
    if (!b.count && !res.duplicates && (lead == m.len || m.body[lead] != '['))
        abort(); /* a message that is not an (empty) array always leaves a record */
    if (res.parse_errors > res.records)
        abort();
    /* delivered again: every key it gave is taken now */
    batch_t again = {0};
    inbody_result_t res2;
    inbody_parse(p, &m, 1767225600000000000LL, &again, key_new, NULL, &res2);
    fuzz_check_batch(&again);
    if (keyed(&again))
        abort();
    if (!res2.duplicates && res2.records != res.records)
        abort(); /* nothing was keyed: the same records again */
    batch_free(&b);
    batch_free(&again);
    return 0;
}
