/* fuzz_msgpack.c - the MessagePack reader: a value whose size
 * mp_value_size gives is walked in exactly that many bytes by mp_next and
 * mp_skip_rest, and written as JSON that parses. */
#include <stdint.h>
#include <stdlib.h>

#include "ingest/fluent/msgpack.h"
#include "ingest/json/jdom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static jdom_t d;
    static int ready;
    if (!ready) {
        jdom_init(&d);
        ready = 1;
    }
    const char *p = (const char *)data;
    size_t need = 0;
    long sz = mp_value_size(p, size, &need);
    if (sz == 0 && need <= size)
        abort(); /* "more needed" must ask for more than there is */
    if (sz <= 0)
        return 0;
    if ((size_t)sz > size)
        abort();
    mp_cur_t c = {p, p + sz};
    mp_obj_t o;
    if (mp_next(&c, &o) || mp_skip_rest(&c, &o) || c.p != p + sz)
        abort();
    /* a shorter prefix is never whole */
    if (mp_value_size(p, (size_t)sz - 1, NULL) > 0)
        abort();
    buf_t js = BUF_INIT;
    c = (mp_cur_t){p, p + sz};
    if (mp_next(&c, &o) || mp_write_json(&c, &o, &js) || c.p != p + sz)
        abort();
    if (jdom_parse(&d, js.data, js.len))
        abort(); /* what we write must be JSON */
    buf_free(&js);
    return 0;
}
