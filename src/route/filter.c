/* filter.c - record filters for queries and tails: see filter.h. */
#define _GNU_SOURCE /* memmem */
#include "filter.h"

#include <string.h>

#include "../common/level.h"
#include "../common/timeutil.h"

void filter_init(filter_t *f)
{
    memset(f, 0, sizeof *f);
    f->min_level = 7;
    f->since = INT64_MIN;
    f->until = INT64_MAX;
}

int filter_match(const filter_t *f, const record_t *r)
{
    if ((f->after && r->seq <= f->after) || (f->before && r->seq >= f->before))
        return 0;
    if (r->level > f->min_level || r->ts < f->since || r->ts > f->until)
        return 0;
    if (f->ntopics && !topic_match_any(f->pats, f->topics, f->ntopics, r->topic.p, r->topic.n))
        return 0;
    if (f->q.n && !memmem(r->msg.p, r->msg.n, f->q.p, f->q.n))
        return 0;
    return 1;
}

int filter_set(filter_t *f, slice_t key, slice_t v, const char **err)
{
    if (slice_eq(key, "topic")) {
        if (topic_pattern_check(v.p, v.n, err))
            return -1;
        if (f->ntopics == FILTER_MAX_TOPICS) {
            *err = "too many topic patterns (at most 16)";
            return -1;
        }
        if (topic_compile(&f->pats[f->ntopics], v.p, v.n, err))
            return -1; /* never once checked */
        f->topics[f->ntopics++] = v;
        return 0;
    }
    if (slice_eq(key, "level")) {
        int lv = level_parse(v.p, v.n);
        if (lv < 0) {
            *err = "unknown level (use emerg, alert, crit, error, warning, notice, info, debug)";
            return -1;
        }
        f->min_level = lv;
        return 0;
    }
    if (slice_eq(key, "q")) {
        f->q = v;
        return 0;
    }
    if (slice_eq(key, "since") || slice_eq(key, "until")) {
        int64_t ns;
        if (time_parse_when(v.p, v.n, time_now_ns(), &ns)) {
            *err = key.p[0] == 's' ? "bad since: use " TIME_FORMS : "bad until: use " TIME_FORMS;
            return -1;
        }
        if (key.p[0] == 's')
            f->since = ns;
        else
            f->until = ns;
        return 0;
    }
    if (slice_eq(key, "after") || slice_eq(key, "before")) {
        uint64_t a = 0;
        int after = key.p[0] == 'a';
        const char *bad = after ? "bad after: expected a seq number"
                                : "bad before: expected a seq number";
        if (!v.n || v.n > 19) {
            *err = bad;
            return -1;
        }
        for (size_t i = 0; i < v.n; i++) {
            if (v.p[i] < '0' || v.p[i] > '9') {
                *err = bad;
                return -1;
            }
            a = a * 10 + (uint64_t)(v.p[i] - '0');
        }
        if (after)
            f->after = a;
        else if (a == 0) {
            /* no seq is below 1; before=0 would otherwise mean "no bound" */
            *err = "bad before: seqs start at 1, so before must be at least 1";
            return -1;
        } else
            f->before = a;
        return 0;
    }
    return 1;
}
