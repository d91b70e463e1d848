/* cbatch.c - liblogship's batches: see cbatch.h. */
#include "cbatch.h"

#include <stdlib.h>

cbatch_t *cbatch_new(void)
{
    return calloc(1, sizeof(cbatch_t));
}

void cbatch_free(cbatch_t *b)
{
    if (!b)
        return;
    cbuf_free(&b->data);
    free(b);
}
