/* fuzz_time.c - the time grammar of query and tail parameters and CLI
 * flags (src/common/timeutil.c) on arbitrary bytes.
 *
 * Checks, or the driver aborts:
 *   - an RFC 3339 time that parses formats (time_format_rfc3339) to text
 *     that parses back to the same nanosecond, and time_parse_any() and
 *     time_parse_when() read it alike;
 *   - an epoch number that parses is read alike by time_parse_any() and
 *     time_parse_when();
 *   - an age is never negative, and time_parse_when() reads it as that long
 *     before "now"; "now" is now;
 *   - whatever parses, nothing overflows (UBSan watches the arithmetic). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"

#define NOW 1764770400123456789LL /* 2025-12-03T14:00:00.123456789Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    int64_t a, b, w;
    if (time_parse_rfc3339(s, size, &a) == 0) {
        char text[RFC3339_MAX];
        size_t n = time_format_rfc3339(a, text);
        if (n == 0 || n >= RFC3339_MAX || time_parse_rfc3339(text, n, &b) || a != b)
            abort();
        if (time_parse_any(s, size, &b) || a != b)
            abort();
        if (time_parse_when(s, size, NOW, &w) || w != a)
            abort();
    }
    if (time_parse_epoch(s, size, &a) == 0) {
        if (time_parse_any(s, size, &b) || a != b)
            abort();
        if (time_parse_when(s, size, NOW, &w) || w != a)
            abort();
    }
    if (time_parse_age(s, size, &a) == 0) {
        if (a < 0)
            abort();
        if (time_parse_epoch(s, size, &b) != 0 && time_parse_rfc3339(s, size, &b) != 0 &&
            (time_parse_when(s, size, NOW, &w) || w != NOW - a))
            abort();
    }
    if (size == 3 && memcmp(s, "now", 3) == 0 && (time_parse_when(s, size, NOW, &w) || w != NOW))
        abort();
    return 0;
}
