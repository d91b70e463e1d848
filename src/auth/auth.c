/* auth.c - token lookup in constant time, the table's references, scope
 * names: see auth.h. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "auth.h"
#include "auth_int.h"

static const struct {
    const char *name;
    unsigned bit;
} scope_names[] = {
    {"write", AUTH_WRITE}, {"read", AUTH_READ},   {"tail", AUTH_TAIL},
    {"files", AUTH_FILES}, {"admin", AUTH_ADMIN},
};

#define NSCOPES (sizeof scope_names / sizeof scope_names[0])

unsigned auth_scope_parse(const char *s, size_t n)
{
    for (size_t i = 0; i < NSCOPES; i++)
        if (strlen(scope_names[i].name) == n && memcmp(scope_names[i].name, s, n) == 0)
            return scope_names[i].bit;
    return 0;
}

void auth_scopes_text(unsigned scopes, char *out, size_t cap)
{
    size_t n = 0;
    if (!cap)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < NSCOPES; i++) {
        size_t w = strlen(scope_names[i].name);
        if (!(scopes & scope_names[i].bit) || n + (n ? 1 : 0) + w + 1 > cap)
            continue;
        if (n)
            out[n++] = ',';
        memcpy(out + n, scope_names[i].name, w + 1);
        n += w;
    }
}

void auth_digest(const char *p, size_t n, uint8_t out[AUTH_DIGEST_LEN])
{
    SHA256((const unsigned char *)p, n, out);
}

const auth_entry_t *auth_lookup(const auth_table_t *t, const char *token, size_t n)
{
    uint8_t d[AUTH_DIGEST_LEN];
    const auth_entry_t *found = NULL;
    if (!t)
        return NULL;
    auth_digest(token, n, d);
    /* every entry, no early exit; the choice below is made without a
     * branch on the comparison's result */
    for (size_t i = 0; i < t->n; i++) {
        uintptr_t same = (uintptr_t)(CRYPTO_memcmp(t->entries[i].digest, d, sizeof d) == 0);
        uintptr_t mask = (uintptr_t)0 - same;
        found =
            (const auth_entry_t *)(((uintptr_t)found & ~mask) | ((uintptr_t)&t->entries[i] & mask));
    }
    OPENSSL_cleanse(d, sizeof d);
    return found;
}

size_t auth_table_count(const auth_table_t *t)
{
    return t ? t->n : 0;
}

const auth_entry_t *auth_table_entry(const auth_table_t *t, size_t i)
{
    return t && i < t->n ? &t->entries[i] : NULL;
}

void auth_table_ref(auth_table_t *t)
{
    if (t)
        t->refs++;
}

long auth_table_refs(const auth_table_t *t)
{
    return t ? t->refs : 0;
}

void auth_table_unref(auth_table_t *t)
{
    if (!t || --t->refs > 0)
        return;
    /* the digests are not the tokens, but leave nothing of them behind */
    if (t->entries)
        OPENSSL_cleanse(t->entries, t->cap * sizeof *t->entries);
    free(t->entries);
    buf_free(&t->strings);
    free(t);
}

const auth_entry_t *auth_ref(const auth_entry_t *e)
{
    if (e)
        auth_table_ref(e->table);
    return e;
}

void auth_unref(const auth_entry_t *e)
{
    if (e)
        auth_table_unref(e->table);
}

const topic_set_t *auth_topics(const auth_entry_t *e)
{
    return e && !e->all_topics ? &e->topics : NULL;
}
