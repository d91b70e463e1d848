/* client_symbols_bad.c - what check_client_symbols.sh must refuse, for its
 * self-test: a library that can end its host process, the ways liblogship
 * must not (abort, exit, assert) and with the server's aborting allocation
 * helpers of src/common/buf.c (built into the same library: oom(),
 * buf_grow()). Built, never run. */
#include <assert.h>
#include <stdlib.h>

#include "common/buf.h"

int bad_give_up(int why)
{
    if (why == 1)
        abort();
    if (why == 2)
        exit(3);
    assert(why != 3);
    char *p = xmalloc((size_t)why);
    buf_t b = BUF_INIT;
    buf_append(&b, p, 1);
    free(p);
    buf_free(&b);
    return why;
}
