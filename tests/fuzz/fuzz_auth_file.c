/* fuzz_auth_file.c - the --auth-file parser (src/auth/auth_file.c) and
 * token lookup (src/auth/auth.c) on arbitrary bytes.
 *
 * Input: the file. What must hold, or the driver aborts:
 *   - a refusal comes with a message that names a line ("line N: ...") and
 *     quotes no field of 16 bytes or more from the input (a token, or
 *     anything that might be one);
 *   - an accepted table has one entry per line that is not blank or a
 *     comment, in order; each has a valid name, at least one scope and
 *     none unknown, one to 16 patterns that each match as topic_match
 *     says, and auth_topics() NULL exactly when one pattern is '#';
 *   - looking up each line's own token (its second field) finds that
 *     line's entry, and looking up a token that is not in the file (the
 *     first one with a byte changed) finds nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "route/topic.h"

/* The messages' own words of 16 bytes or more: they may match an input
 * field and are no leak. */
static const char own_words[] = "[TOPIC-PATTERNS],";

/* Splits p[0..n) at spaces and tabs into at most max fields; the count. */
static size_t fields(const char *p, size_t n, slice_t *f, size_t max)
{
    size_t nf = 0, i = 0;
    while (i < n && nf < max) {
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i == n)
            break;
        size_t s = i;
        while (i < n && p[i] != ' ' && p[i] != '\t')
            i++;
        f[nf++] = slice_make(p + s, i - s);
    }
    return nf;
}

static int mentions(const char *err, slice_t f)
{
    size_t en = strlen(err);
    for (size_t i = 0; i + f.n <= en; i++)
        if (memcmp(err + i, f.p, f.n) == 0)
            return 1;
    return 0;
}

/* No field of 16 bytes or more anywhere in the input is quoted. */
static void check_message(const char *s, size_t size, const char *err)
{
    if (strncmp(err, "line ", 5) != 0 || err[5] < '1' || err[5] > '9')
        abort();
    size_t i = 0;
    while (i < size) {
        while (i < size && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
            i++;
        size_t b = i;
        while (i < size && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            i++;
        slice_t f = slice_make(s + b, i - b);
        if (f.n >= AUTH_TOKEN_MIN && mentions(err, f) && !mentions(own_words, f))
            abort();
    }
}

static void check_entry(const auth_entry_t *e)
{
    size_t nn = strlen(e->name);
    if (nn < 1 || nn > AUTH_NAME_MAX)
        abort();
    if (!e->scopes || (e->scopes & ~(unsigned)AUTH_SCOPES))
        abort();
    if (e->topics.n < 1 || e->topics.n > TOPIC_SET_MAX)
        abort();
    int all = 0;
    for (size_t i = 0; i < e->topics.n; i++) {
        slice_t t = e->topics.texts[i];
        const char *why;
        if (topic_pattern_check(t.p, t.n, &why))
            abort();
        if (topic_match(t.p, t.n, "a.b", 3) && !topic_set_match(&e->topics, "a.b", 3))
            abort();
        all |= t.n == 1 && t.p[0] == '#';
    }
    if (all && auth_topics(e))
        abort();
    if (!auth_topics(e) && !topic_set_all(&e->topics))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char err[AUTH_ERR_MAX];
    err[0] = '\0';
    auth_table_t *t = auth_table_parse(s, size, err, sizeof err);
    if (!t) {
        if (strlen(err) >= sizeof err)
            abort();
        check_message(s, size, err);
        return 0;
    }
    size_t k = 0, pos = 0, tn = 0;
    char tok[AUTH_TOKEN_MAX];
    while (pos < size) {
        const char *nl = memchr(s + pos, '\n', size - pos);
        size_t end = nl ? (size_t)(nl - s) : size, len = end - pos;
        const char *p = s + pos;
        pos = nl ? end + 1 : size;
        if (len && p[len - 1] == '\r')
            len--;
        slice_t f[2];
        size_t nf = fields(p, len, f, 2);
        if (!nf || f[0].p[0] == '#')
            continue;
        const auth_entry_t *e = auth_table_entry(t, k++);
        if (!e || nf < 2 || f[1].n > sizeof tok)
            abort();
        check_entry(e);
        if (strlen(e->name) != f[0].n || memcmp(e->name, f[0].p, f[0].n) != 0)
            abort();
        if (auth_lookup(t, f[1].p, f[1].n) != e)
            abort();
        if (k == 1) {
            memcpy(tok, f[1].p, f[1].n);
            tn = f[1].n;
        }
    }
    if (k != auth_table_count(t))
        abort();
    if (tn) {
        /* the first token with a byte changed is no token of its line (it
         * may be another line's) */
        tok[0] ^= 0x01;
        if (auth_lookup(t, tok, tn) == auth_table_entry(t, 0))
            abort();
    }
    auth_table_unref(t);
    return 0;
}
