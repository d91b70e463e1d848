/* confirm.c - the window of unconfirmed messages: see confirm.h. */
#include "confirm.h"

#include <stdlib.h>

#include "../common/buf.h"
#include "../common/check.h"

void confirm_init(confirm_t *w, size_t cap, uint64_t confirmed)
{
    w->cap = cap ? cap : 1;
    w->v = xcalloc(w->cap, sizeof *w->v);
    w->head = w->n = 0;
    w->base_tag = 1;
    w->published = w->confirmed = confirmed;
}

void confirm_free(confirm_t *w)
{
    free(w->v);
    w->v = NULL;
    w->n = 0;
}

void confirm_reset(confirm_t *w)
{
    w->head = w->n = 0;
    w->base_tag = 1;
    w->published = w->confirmed;
}

static confirm_entry_t *at(confirm_t *w, size_t i)
{
    return &w->v[(w->head + i) % w->cap];
}

uint64_t confirm_push(confirm_t *w, uint64_t first)
{
    CHECK(w->n < w->cap, "confirm.h: a message is pushed only while the window has room");
    CHECK(first > w->published && (w->n == 0 || first > at(w, w->n - 1)->first),
          "confirm.h invariant 1: entries are pushed in order of their first record");
    confirm_entry_t *e = at(w, w->n);
    e->first = first;
    e->acked = 0;
    w->n++;
    return w->base_tag + w->n - 1;
}

/* Drops the acked entries at the head and moves confirmed (invariant 2). */
static void advance(confirm_t *w)
{
    while (w->n && at(w, 0)->acked) {
        w->head = (w->head + 1) % w->cap;
        w->n--;
        w->base_tag++;
    }
    uint64_t c = w->n ? at(w, 0)->first - 1 : w->published;
    CHECK(c >= w->confirmed, "confirm.h invariant 2: confirmed only moves forward");
    w->confirmed = c;
}

void confirm_scanned(confirm_t *w, uint64_t seq)
{
    CHECK(seq >= w->published, "confirm.h: published only moves forward");
    w->published = seq;
    advance(w);
}

long confirm_ack(confirm_t *w, uint64_t tag, int multiple)
{
    if (tag < w->base_tag || tag - w->base_tag >= w->n)
        return -1;
    size_t i = (size_t)(tag - w->base_tag);
    if (!multiple && at(w, i)->acked)
        return -1;
    long newly = 0;
    for (size_t j = multiple ? 0 : i; j <= i; j++) {
        if (!at(w, j)->acked) {
            at(w, j)->acked = 1;
            newly++;
        }
    }
    advance(w);
    return newly;
}
