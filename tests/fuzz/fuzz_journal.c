/* fuzz_journal.c - the journal export format as a streamed body: records
 * decode, and the same bytes fed whole or in two parts cut anywhere give
 * the same entries and the same outcome. */
#include <stdint.h>

#include "fuzz_common.h"
#include "ingest/journal/journal_parse.h"

static int run(const char *p, size_t n, size_t cut, batch_t *b, uint64_t *entries)
{
    journal_session_t s;
    rec_defaults_t d = {.level = -1, .now = 1};
    journal_session_init(&s, 4096, 1 << 16);
    int rc = journal_feed(&s, p, cut, b, &d);
    if (!rc)
        rc = journal_feed(&s, p + cut, n - cut, b, &d);
    if (!rc)
        rc = journal_finish(&s, b, &d);
    *entries = s.entries;
    journal_session_free(&s);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    batch_t one = {0}, two = {0};
    uint64_t e1, e2;
    int r1 = run(p, size, size, &one, &e1);
    int r2 = run(p, size, size / 3, &two, &e2);
    fuzz_check_batch(&one);
    fuzz_check_batch(&two);
    if (r1 != r2 || e1 != e2 || one.count != two.count || one.count != e1 ||
        one.frames.len != two.frames.len ||
        (one.frames.len && memcmp(one.frames.data, two.frames.data, one.frames.len)))
        abort();
    batch_free(&one);
    batch_free(&two);
    return 0;
}
