/* fuzz_jdom.c - the flat JSON tree: a parsed value obeys D1-D3 (jdom.h),
 * and written back out it parses again to the same shape. */
#include <stdint.h>
#include <stdlib.h>

#include "ingest/json/jdom.h"

static void check_tree(const jdom_t *d)
{
    for (size_t i = 0; i < d->n; i++) {
        const jnode_t *j = &d->nodes[i];
        if (j->end <= i || j->end > d->n)
            abort(); /* D1 */
        if (j->type != J_OBJ && j->type != J_ARR && j->end != i + 1)
            abort(); /* D1 */
        if (j->type == J_OBJ || j->type == J_ARR) {
            size_t count = 0;
            for (size_t c = i + 1; c < j->end; c = d->nodes[c].end) {
                if (j->type == J_OBJ) {
                    if (d->nodes[c].type != J_KEY || c + 1 >= j->end)
                        abort(); /* D2 */
                    c++;
                }
                count++;
            }
            if (count != j->len)
                abort(); /* D2 */
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static jdom_t d, again;
    static int ready;
    if (!ready) {
        jdom_init(&d);
        jdom_init(&again);
        ready = 1;
    }
    if (jdom_parse(&d, (const char *)data, size))
        return 0;
    check_tree(&d);
    buf_t out = BUF_INIT;
    jdom_write(&d, 0, &out);
    if (jdom_parse(&again, out.data, out.len))
        abort(); /* what we write must be JSON */
    if (again.n != d.n)
        abort();
    for (size_t i = 0; i < d.n; i++)
        if (again.nodes[i].type != d.nodes[i].type || again.nodes[i].end != d.nodes[i].end)
            abort();
    buf_free(&out);
    return 0;
}
