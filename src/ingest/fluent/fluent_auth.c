/* fluent_auth.c - the forward protocol's shared-key handshake: see
 * fluent_auth.h. */
#include "fluent_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "msgpack.h"

/* ---- the file ------------------------------------------------------------ */

static int blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* The next field of line[*at..n): 0 when there is none. */
static slice_t field(const char *line, size_t n, size_t *at)
{
    while (*at < n && blank(line[*at]))
        (*at)++;
    size_t start = *at;
    while (*at < n && !blank(line[*at]))
        (*at)++;
    return slice_make(line + start, *at - start);
}

/* 1 when s is 1 to FLUENT_SECRET_MAX printable ASCII characters. */
static int printable(slice_t s)
{
    if (!s.n || s.n > FLUENT_SECRET_MAX)
        return 0;
    for (size_t i = 0; i < s.n; i++)
        if ((unsigned char)s.p[i] <= 0x20 || (unsigned char)s.p[i] >= 0x7f)
            return 0;
    return 1;
}

int fluent_auth_parse(fluent_auth_t *a, const char *text, size_t n, char *err, size_t cap)
{
    size_t lineno = 0, at = 0, cap_users = 0;
    fluent_user_t *users = NULL;
    size_t nusers = 0;
    int have_key = 0;
    char key[FLUENT_SECRET_MAX + 1];
    while (at < n) {
        const char *nl = memchr(text + at, '\n', n - at);
        size_t end = nl ? (size_t)(nl - text) : n;
        const char *line = text + at;
        size_t len = end - at;
        at = end + 1;
        lineno++;
        if (len && line[len - 1] == '\r')
            len--;
        size_t i = 0;
        slice_t kw = field(line, len, &i);
        if (!kw.n || kw.p[0] == '#')
            continue;
        slice_t f1 = field(line, len, &i), f2 = field(line, len, &i), f3 = field(line, len, &i);
        if (slice_eq(kw, "shared_key")) {
            if (have_key) {
                snprintf(err, cap, "line %zu: a second shared_key", lineno);
                goto fail;
            }
            if (!printable(f1) || f2.n) {
                snprintf(err, cap,
                         "line %zu: use shared_key KEY (1 to %d printable characters, no space)",
                         lineno, FLUENT_SECRET_MAX);
                goto fail;
            }
            memcpy(key, f1.p, f1.n);
            key[f1.n] = '\0';
            have_key = 1;
        } else if (slice_eq(kw, "user")) {
            if (!printable(f1) || !printable(f2) || f3.n) {
                snprintf(err, cap,
                         "line %zu: use user NAME PASSWORD (each 1 to %d printable "
                         "characters, no space)",
                         lineno, FLUENT_SECRET_MAX);
                goto fail;
            }
            for (size_t k = 0; k < nusers; k++) {
                if (strlen(users[k].name) == f1.n && memcmp(users[k].name, f1.p, f1.n) == 0) {
                    snprintf(err, cap, "line %zu: a second user of that name", lineno);
                    goto fail;
                }
            }
            if (nusers == FLUENT_USERS_MAX) {
                snprintf(err, cap, "line %zu: more than %d users", lineno, FLUENT_USERS_MAX);
                goto fail;
            }
            if (nusers == cap_users) {
                cap_users = cap_users ? cap_users * 2 : 4;
                users = realloc(users, cap_users * sizeof *users);
                if (!users)
                    abort();
            }
            fluent_user_t *u = &users[nusers++];
            memset(u, 0, sizeof *u);
            memcpy(u->name, f1.p, f1.n);
            memcpy(u->password, f2.p, f2.n);
        } else {
            /* the keyword only: it is never a secret in the right place */
            snprintf(err, cap,
                     "line %zu: unknown setting: use shared_key KEY or user NAME PASSWORD", lineno);
            goto fail;
        }
    }
    if (!have_key) {
        snprintf(err, cap, "no shared_key line");
        goto fail;
    }
    memcpy(a->shared_key, key, sizeof key);
    OPENSSL_cleanse(key, sizeof key);
    a->users = users;
    a->nusers = nusers;
    return 0;
fail:
    OPENSSL_cleanse(key, sizeof key);
    if (users)
        OPENSSL_cleanse(users, cap_users * sizeof *users);
    free(users);
    return -1;
}

void fluent_auth_free(fluent_auth_t *a)
{
    if (a->users)
        OPENSSL_cleanse(a->users, a->nusers * sizeof *a->users);
    free(a->users);
    a->users = NULL;
    a->nusers = 0;
    OPENSSL_cleanse(a->shared_key, sizeof a->shared_key);
}

/* ---- MessagePack out ----------------------------------------------------- */

static void put_str(buf_t *out, const char *p, size_t n)
{
    if (n < 32) {
        buf_putc(out, (char)(0xa0 | n));
    } else if (n < 256) {
        buf_putc(out, (char)0xd9);
        buf_putc(out, (char)n);
    } else {
        if (n > 0xffff)
            n = 0xffff; /* never longer than its header says */
        buf_putc(out, (char)0xda);
        buf_putc(out, (char)(n >> 8));
        buf_putc(out, (char)n);
    }
    buf_append(out, p, n);
}

static void put_cstr(buf_t *out, const char *s)
{
    put_str(out, s, strlen(s));
}

void fluent_helo(buf_t *out, const fluent_auth_t *a, const char *nonce, const char *salt)
{
    buf_reset(out);
    buf_putc(out, (char)0x92); /* [ "HELO", {3 pairs} ] */
    put_cstr(out, "HELO");
    buf_putc(out, (char)0x83);
    put_cstr(out, "nonce");
    put_str(out, nonce, FLUENT_NONCE_LEN);
    put_cstr(out, "auth");
    put_str(out, salt, a->nusers ? FLUENT_NONCE_LEN : 0);
    put_cstr(out, "keepalive");
    buf_putc(out, (char)0xc3); /* true */
}

/* ---- PING in ------------------------------------------------------------- */

long fluent_ping_read(const char *p, size_t n, fluent_ping_t *ping, const char **why)
{
    size_t need = 0;
    long size = mp_value_size(p, n, &need);
    if (size == 0) {
        if (need > FLUENT_PING_MAX || n > FLUENT_PING_MAX) {
            *why = "handshake message too long";
            return -1;
        }
        return 0;
    }
    if (size < 0) {
        *why = "the handshake is not MessagePack";
        return -1;
    }
    if ((size_t)size > FLUENT_PING_MAX) {
        *why = "handshake message too long";
        return -1;
    }
    mp_cur_t c = {p, p + size};
    mp_obj_t o;
    if (mp_next(&c, &o) || o.type != MP_ARR || o.n != 6) {
        *why = "expected PING: an array of 6 (\"PING\", hostname, salt, digest, user, "
               "password digest)";
        return -1;
    }
    slice_t f[6];
    for (int i = 0; i < 6; i++) {
        if (mp_next(&c, &o) || (o.type != MP_STR && o.type != MP_BIN)) {
            *why = "expected PING: its fields are strings";
            return -1;
        }
        f[i] = slice_make(o.p, o.n);
    }
    if (!slice_eq(f[0], "PING")) {
        *why = "expected PING (the shared-key handshake) before any message";
        return -1;
    }
    ping->hostname = f[1];
    ping->salt = f[2];
    ping->digest = f[3];
    ping->user = f[4];
    ping->password_digest = f[5];
    return size;
}

void fluent_sha512_hex(const slice_t *parts, size_t n, char hex[129])
{
    unsigned char md[64];
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) != 1)
        abort();
    for (size_t i = 0; i < n; i++)
        EVP_DigestUpdate(ctx, parts[i].p ? parts[i].p : "", parts[i].n);
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < 64; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[128] = '\0';
}

/* 1 when the hex digest d (as sent) equals want, in constant time for
 * digests of the right length. */
static int same_digest(slice_t d, const char want[129])
{
    char low[128];
    if (d.n != 128)
        return 0;
    for (size_t i = 0; i < 128; i++) {
        char ch = d.p[i];
        low[i] = ch >= 'A' && ch <= 'F' ? (char)(ch - 'A' + 'a') : ch;
    }
    return CRYPTO_memcmp(low, want, 128) == 0;
}

int fluent_ping_check(const fluent_auth_t *a, const fluent_ping_t *ping, const char *nonce,
                      const char *salt, buf_t *out, const char **reason)
{
    char want[129];
    slice_t key = slice_cstr(a->shared_key), n = slice_make(nonce, FLUENT_NONCE_LEN);
    slice_t parts[4] = {ping->salt, ping->hostname, n, key};
    fluent_sha512_hex(parts, 4, want);
    int ok = same_digest(ping->digest, want);
    *reason = ok ? "" : "shared_key mismatch";
    if (ok && a->nusers) {
        /* every user is tried, so the time says nothing of which exists */
        int found = 0;
        slice_t s = slice_make(salt, FLUENT_NONCE_LEN);
        for (size_t i = 0; i < a->nusers; i++) {
            char w[129];
            slice_t up[3] = {s, slice_cstr(a->users[i].name), slice_cstr(a->users[i].password)};
            fluent_sha512_hex(up, 3, w);
            int name = ping->user.n == strlen(a->users[i].name) &&
                       CRYPTO_memcmp(ping->user.p, a->users[i].name, ping->user.n) == 0;
            found |= name & same_digest(ping->password_digest, w);
        }
        ok = found;
        if (!ok)
            *reason = "username/password mismatch";
    }
    buf_reset(out);
    buf_putc(out, (char)0x95); /* ["PONG", ok, reason, hostname, digest] */
    put_cstr(out, "PONG");
    buf_putc(out, ok ? (char)0xc3 : (char)0xc2);
    put_cstr(out, *reason);
    put_cstr(out, a->hostname);
    slice_t pp[4] = {ping->salt, slice_cstr(a->hostname), n, key};
    fluent_sha512_hex(pp, 4, want);
    put_str(out, ok ? want : "", ok ? 128 : 0);
    OPENSSL_cleanse(want, sizeof want);
    return ok;
}
