/* merge.c - several servers' records merged by time: see merge.h. */
#include "merge.h"

#include <stdlib.h>
#include <string.h>

#include "../common/timeutil.h"
#include "../route/jfield.h"

void merge_init(merge_t *m, size_t nsrc)
{
    memset(m, 0, sizeof *m);
    m->nsrc = nsrc > MERGE_SOURCES_MAX ? MERGE_SOURCES_MAX : nsrc;
}

void merge_free(merge_t *m)
{
    buf_free(&m->text);
    free(m->items);
    free(m->arr);
    memset(m, 0, sizeof *m);
}

typedef struct ts_find {
    int64_t ts;
    int ok;
} ts_find_t;

static int on_ts(void *arg, const jfield_val_t *v)
{
    ts_find_t *f = arg;
    f->ok = v->is_str ? time_parse_any(v->p, v->n, &f->ts) == 0
                      : time_parse_epoch(v->p, v->n, &f->ts) == 0;
    return 1; /* the first "ts" is the record's */
}

int merge_ts(const char *line, size_t n, int64_t *ts)
{
    ts_find_t f = {0, 0};
    jfield_each(line, n, "ts", 2, on_ts, &f);
    if (!f.ok)
        return -1;
    *ts = f.ts;
    return 0;
}

/* Room for one more item, and the line's bytes copied in. */
static merge_item_t *append(merge_t *m, size_t src, const char *line, size_t n, int64_t ts)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 256;
        m->items = realloc(m->items, m->cap * sizeof *m->items);
        if (!m->items)
            oom(m->cap * sizeof *m->items);
    }
    merge_item_t *it = &m->items[m->n++];
    it->ts = ts;
    it->order = m->next_order++;
    it->at = 0;
    it->off = m->text.len;
    it->len = n;
    it->src = (uint32_t)src;
    buf_append(&m->text, line, n);
    m->live_bytes += n;
    return it;
}

static int before(const merge_item_t *a, const merge_item_t *b)
{
    if (a->ts != b->ts)
        return a->ts < b->ts;
    if (a->src != b->src)
        return a->src < b->src;
    return a->order < b->order;
}

/* ---- query ---------------------------------------------------------------- */

int merge_add(merge_t *m, size_t src, const char *line, size_t n)
{
    int64_t ts;
    if (src >= m->nsrc || merge_ts(line, n, &ts))
        return -1;
    append(m, src, line, n, ts);
    return 0;
}

static int cmp(const void *a, const void *b)
{
    const merge_item_t *x = a, *y = b;
    return before(x, y) ? -1 : before(y, x) ? 1 : 0;
}

void merge_sort(merge_t *m)
{
    if (m->n > 1)
        qsort(m->items, m->n, sizeof *m->items, cmp);
}

void merge_window(const merge_t *m, size_t limit, int oldest, size_t *first, size_t *count)
{
    size_t k = limit && limit < m->n ? limit : m->n;
    *first = oldest ? 0 : m->n - k;
    *count = k;
}

const char *merge_line(const merge_t *m, size_t i, size_t *n)
{
    *n = m->items[i].len;
    return m->text.data + m->items[i].off;
}

/* ---- tail: a min-heap by (ts, src, arrival) ------------------------------------- */

static void swap(merge_item_t *a, merge_item_t *b)
{
    merge_item_t t = *a;
    *a = *b;
    *b = t;
}

static void sift_up(merge_t *m, size_t i)
{
    while (i && before(&m->items[i], &m->items[(i - 1) / 2])) {
        swap(&m->items[i], &m->items[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
}

static void sift_down(merge_t *m, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, s = i;
        if (l < m->n && before(&m->items[l], &m->items[s]))
            s = l;
        if (r < m->n && before(&m->items[r], &m->items[s]))
            s = r;
        if (s == i)
            return;
        swap(&m->items[i], &m->items[s]);
        i = s;
    }
}

/* Moves the lines still held to the front of the buffer. */
static void compact(merge_t *m)
{
    buf_t t = BUF_INIT;
    buf_reserve(&t, m->live_bytes);
    for (size_t i = 0; i < m->n; i++) {
        size_t off = t.len;
        buf_append(&t, m->text.data + m->items[i].off, m->items[i].len);
        m->items[i].off = off;
    }
    buf_free(&m->text);
    m->text = t;
}

/* The oldest arrival among the held items: the heap's top is the oldest
 * by time, but the hold runs from when each came. */
static int64_t first_at(const merge_t *m)
{
    return m->head < m->len ? m->arr[m->head].at : INT64_MAX;
}

static void arrived(merge_t *m, int64_t now)
{
    if (m->len == m->acap) {
        m->acap = m->acap ? m->acap * 2 : 256;
        m->arr = realloc(m->arr, m->acap * sizeof *m->arr);
        if (!m->arr)
            oom(m->acap * sizeof *m->arr);
    }
    m->arr[m->len++] = (merge_arrival_t){now, 0};
}

static void released(merge_t *m, uint64_t order)
{
    m->arr[order - m->base].released = 1;
    while (m->head < m->len && m->arr[m->head].released)
        m->head++;
    if (m->head == m->len) {
        m->head = m->len = 0;
        m->base = m->next_order;
    } else if (m->head > 4096 && m->head > m->len / 2) {
        memmove(m->arr, m->arr + m->head, (m->len - m->head) * sizeof *m->arr);
        m->base += m->head;
        m->len -= m->head;
        m->head = 0;
    }
}

int merge_push(merge_t *m, size_t src, const char *line, size_t n, int64_t now)
{
    int64_t ts;
    if (src >= m->nsrc || merge_ts(line, n, &ts))
        return -1;
    if (!m->len)
        m->base = m->next_order;
    merge_item_t *it = append(m, src, line, n, ts);
    it->at = now;
    arrived(m, now);
    if (!m->seen[src] || ts > m->latest[src])
        m->latest[src] = ts;
    m->seen[src] = 1;
    sift_up(m, m->n - 1);
    return 0;
}

void merge_done(merge_t *m, size_t src)
{
    if (src < m->nsrc)
        m->done[src] = 1;
}

/* Every other source has sent something at least as new as it, or ended. */
static int covered(const merge_t *m, const merge_item_t *it)
{
    for (size_t s = 0; s < m->nsrc; s++) {
        if (s == it->src || m->done[s])
            continue;
        if (!m->seen[s] || m->latest[s] < it->ts)
            return 0;
    }
    return 1;
}

int merge_pop(merge_t *m, int64_t now, int64_t hold_ns, int all, buf_t *out)
{
    if (!m->n)
        return 0;
    merge_item_t *top = &m->items[0];
    /* a record held too long releases everything older than it, too: the
     * top goes once any held record has waited hold_ns */
    if (!all && !covered(m, top) && now - first_at(m) < hold_ns)
        return 0;
    buf_append(out, m->text.data + top->off, top->len);
    m->live_bytes -= top->len;
    released(m, top->order);
    m->items[0] = m->items[--m->n];
    sift_down(m, 0);
    if (!m->n) {
        buf_reset(&m->text);
        m->live_bytes = 0;
    } else if (m->text.len > 65536 && m->live_bytes < m->text.len / 2) {
        compact(m);
    }
    return 1;
}

int64_t merge_due(const merge_t *m, int64_t hold_ns)
{
    if (!m->n)
        return INT64_MAX;
    int64_t at = first_at(m);
    return at > INT64_MAX - hold_ns ? INT64_MAX : at + hold_ns;
}
