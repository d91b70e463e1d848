/* utf8_repair.c - utf8_repair_append(): valid UTF-8 into a buf_t, see
 * utf8.h. Apart from utf8.c because it grows a buf_t (buf.c, which aborts
 * when memory runs out): the server links both, liblogship only utf8.c. */
#include "utf8.h"

size_t utf8_repair_append(buf_t *b, const char *s, size_t n)
{
    size_t repaired = 0;
    while (n) {
        size_t ok = utf8_valid_prefix(s, n);
        buf_append(b, s, ok);
        s += ok;
        n -= ok;
        if (!n)
            break;
        size_t bad;
        utf8_next(s, n, &bad); /* ill-formed: bad is its maximal subpart */
        buf_append(b, "\xEF\xBF\xBD", 3);
        repaired++;
        s += bad;
        n -= bad;
    }
    return repaired;
}
