/* hint.h - a hint for an answer that found nothing.
 *
 * A topic pattern without a wildcard ("web") matches that one topic; when
 * a query or a tail's backlog comes back empty, the likely mistake is a
 * missing ".#". These helpers look at a bounded number of recent records
 * (filter.h's filter_hint_*) and write, for each such pattern P that would
 * have found something as "P.#" (every other condition kept):
 *   topic 'P' has no wildcard: did you mean 'P.#'?
 * (several joined by "; ", printable ASCII). /api/logs sends it as a
 * Logship-Hint header, a tail as a {"type":"hint"} message.
 *
 * Cost: nothing unless the answer was empty and a pattern lacks a
 * wildcard; then one scan of at most HINT_SCAN records, the newest within
 * the filter's seq bounds, stopping as soon as every candidate was found.
 */
#ifndef LOGSHIP_HINT_H
#define LOGSHIP_HINT_H

#include "../common/buf.h"
#include "../route/filter.h"
#include "../store/store.h"

#define HINT_SCAN 10000

/* From the store (reads segments): any thread, so a query's or a backlog
 * scan's thread-pool job. Appends the text to out; returns how many hints. */
size_t hint_from_store(store_t *s, const filter_t *f, buf_t *out);
/* From the memory window, newest first: the loop thread. */
size_t hint_from_window(const ring_t *r, const filter_t *f, buf_t *out);

#endif
