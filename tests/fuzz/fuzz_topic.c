/* fuzz_topic.c - topic pattern matching (src/route/topic.c) against the
 * plain reference (topic_ref.h) on arbitrary bytes.
 *
 * Input: lines; every line but the last is a pattern (at most 16), the last
 * is the topic (at most 1024 bytes). Each pattern that compiles must match
 * exactly when the reference says so, a pattern topic_pattern_check accepts
 * must compile, and all of them together (topic_match_any) must answer as
 * their OR. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route/topic.h"
#include "topic_ref.h"

#define MAX_PATS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data, *end = s + size;
    topic_pat_t pats[MAX_PATS];
    slice_t texts[MAX_PATS];
    size_t n = 0;
    const char *line = s, *nl;
    while ((nl = memchr(line, '\n', (size_t)(end - line))) && n < MAX_PATS) {
        const char *why;
        size_t len = (size_t)(nl - line);
        int checked = topic_pattern_check(line, len, &why) == 0;
        if (topic_compile(&pats[n], line, len, &why) == 0)
            texts[n++] = slice_make(line, len);
        else if (checked)
            abort(); /* a usable pattern that does not compile */
        line = nl + 1;
    }
    size_t tn = (size_t)(end - line);
    if (tn > 1024)
        tn = 1024;
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        int want = topic_ref_match(texts[i].p, texts[i].n, line, tn);
        if (topic_match_any(&pats[i], &texts[i], 1, line, tn) != want)
            abort();
        any |= want;
    }
    if (topic_match_any(pats, texts, n, line, tn) != any)
        abort();
    return 0;
}
