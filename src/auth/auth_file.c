/* auth_file.c - the --auth-file parser: bytes in, a token table or the
 * first error out (see auth.h for the format). Pure: no I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "auth_int.h"

#define FIELDS_MAX 4

static int name_ok(const char *p, size_t n)
{
    if (n < 1 || n > AUTH_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '@'))
            return 0;
    }
    return 1;
}

/* Splits a line at spaces and tabs; returns the field count (at most
 * FIELDS_MAX + 1: "too many"). */
static size_t split(const char *p, size_t n, slice_t *f)
{
    size_t nf = 0, i = 0;
    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i == n)
            break;
        size_t s = i;
        while (i < n && p[i] != ' ' && p[i] != '\t')
            i++;
        if (nf == FIELDS_MAX)
            return FIELDS_MAX + 1;
        f[nf++] = slice_make(p + s, i - s);
    }
    return nf;
}

/* The scopes of a comma list; 0 with a message in err when one is bad. */
static unsigned scopes_of(slice_t v, char *err, size_t cap)
{
    unsigned scopes = 0;
    size_t i = 0;
    for (;;) {
        const char *c = memchr(v.p + i, ',', v.n - i);
        size_t end = c ? (size_t)(c - v.p) : v.n;
        slice_t w = slice_make(v.p + i, end - i);
        unsigned s = auth_scope_parse(w.p, w.n);
        if (!s) {
            if (!w.n)
                snprintf(err, cap, "an empty scope in the list (use " AUTH_SCOPE_LIST ")");
            else if (w.n < AUTH_TOKEN_MIN) /* too short to be a misplaced token */
                snprintf(err, cap, "unknown scope '%.*s' (use " AUTH_SCOPE_LIST ")", (int)w.n, w.p);
            else
                snprintf(err, cap, "unknown scope (use " AUTH_SCOPE_LIST ")");
            return 0;
        }
        scopes |= s;
        if (!c)
            return scopes;
        i = end + 1;
    }
}

/* Adds the patterns of a comma list to e; -1 with a message when one is
 * bad. The texts are copied to strings, which has room (never moves). */
static int topics_of(auth_entry_t *e, slice_t v, buf_t *strings, char *err, size_t cap)
{
    size_t i = 0, k = 1;
    for (;; k++) {
        const char *c = memchr(v.p + i, ',', v.n - i);
        size_t end = c ? (size_t)(c - v.p) : v.n;
        const char *why;
        if (strings->cap - strings->len < end - i) {
            snprintf(err, cap, "internal: no room for the patterns");
            return -1; /* never: see auth_table_parse */
        }
        char *dst = strings->data + strings->len;
        memcpy(dst, v.p + i, end - i);
        strings->len += end - i;
        if (e->topics.n == TOPIC_SET_MAX) {
            snprintf(err, cap, "too many topic patterns (at most %d)", TOPIC_SET_MAX);
            return -1;
        }
        if (topic_set_add(&e->topics, dst, end - i, &why)) {
            snprintf(err, cap, "topic pattern %zu: %s", k, end == i ? "empty" : why);
            return -1;
        }
        if (!c)
            break;
        i = end + 1;
    }
    e->all_topics = topic_set_all(&e->topics);
    return 0;
}

/* One line that is not blank or a comment, into e. 0, or -1 with a
 * message. */
static int parse_line(auth_table_t *t, auth_entry_t *e, const char *p, size_t n, char *err,
                      size_t cap)
{
    slice_t f[FIELDS_MAX];
    size_t nf = split(p, n, f);
    if (nf < 3 || nf > FIELDS_MAX) {
        snprintf(err, cap, "expected NAME TOKEN SCOPES [TOPIC-PATTERNS], got %s fields",
                 nf > FIELDS_MAX ? "more than 4"
                 : nf == 2       ? "2"
                                 : "1");
        return -1;
    }
    if (!name_ok(f[0].p, f[0].n)) {
        snprintf(err, cap, "bad name: 1 to %d of A-Z a-z 0-9 . _ - @", AUTH_NAME_MAX);
        return -1;
    }
    memcpy(e->name, f[0].p, f[0].n);
    e->name[f[0].n] = '\0';
    slice_t tok = f[1];
    if (tok.n < AUTH_TOKEN_MIN) {
        snprintf(err, cap, "token too short: at least %d characters", AUTH_TOKEN_MIN);
        return -1;
    }
    if (tok.n > AUTH_TOKEN_MAX) {
        snprintf(err, cap, "token too long: at most %d characters", AUTH_TOKEN_MAX);
        return -1;
    }
    for (size_t i = 0; i < tok.n; i++) {
        unsigned char c = (unsigned char)tok.p[i];
        if (c < 0x21 || c > 0x7e) {
            snprintf(err, cap, "token: only printable ASCII characters");
            return -1;
        }
    }
    auth_digest(tok.p, tok.n, e->digest);
    e->scopes = scopes_of(f[2], err, cap);
    if (!e->scopes)
        return -1;
    slice_t topics = nf == 4 ? f[3] : SLICE_LIT("#");
    if (topics_of(e, topics, &t->strings, err, cap))
        return -1;
    /* duplicates: against every earlier entry (a bounded, small table) */
    for (size_t i = 0; i < t->n; i++) {
        const auth_entry_t *o = &t->entries[i];
        if (strcmp(o->name, e->name) == 0) {
            snprintf(err, cap, "duplicate name (the same as line %zu's)", o->line);
            return -1;
        }
        if (CRYPTO_memcmp(o->digest, e->digest, AUTH_DIGEST_LEN) == 0) {
            snprintf(err, cap, "duplicate token (the same as line %zu's)", o->line);
            return -1;
        }
    }
    return 0;
}

auth_table_t *auth_table_parse(const char *text, size_t n, char *err, size_t cap)
{
    auth_table_t *t = xcalloc(1, sizeof *t);
    char why[AUTH_ERR_MAX];
    size_t line = 0, pos = 0;
    t->refs = 1;
    /* pattern texts are copied here, and it must never move: at most the
     * input's bytes (a line's own patterns, or a default '#' where its
     * name alone took more) */
    buf_reserve(&t->strings, n + 1);
    while (pos < n) {
        const char *nl = memchr(text + pos, '\n', n - pos);
        size_t end = nl ? (size_t)(nl - text) : n, len = end - pos;
        const char *p = text + pos;
        line++;
        pos = nl ? end + 1 : n;
        if (len && p[len - 1] == '\r')
            len--;
        if (len > AUTH_LINE_MAX) {
            snprintf(err, cap, "line %zu: longer than %d bytes", line, AUTH_LINE_MAX);
            goto fail;
        }
        if (memchr(p, '\0', len)) {
            snprintf(err, cap, "line %zu: a NUL byte", line);
            goto fail;
        }
        size_t i = 0;
        while (i < len && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i == len || p[i] == '#')
            continue;
        if (t->n == AUTH_MAX_ENTRIES) {
            snprintf(err, cap, "line %zu: too many tokens (at most %d)", line, AUTH_MAX_ENTRIES);
            goto fail;
        }
        if (t->n == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 16;
            t->entries = xrealloc(t->entries, t->cap * sizeof *t->entries);
        }
        auth_entry_t *e = &t->entries[t->n];
        memset(e, 0, sizeof *e);
        e->line = line;
        if (parse_line(t, e, p, len, why, sizeof why)) {
            snprintf(err, cap, "line %zu: %s", line, why);
            goto fail;
        }
        t->n++;
    }
    /* entries moved while the array grew: point them at the table now */
    for (size_t i = 0; i < t->n; i++)
        t->entries[i].table = t;
    return t;
fail:
    auth_table_unref(t);
    return NULL;
}
