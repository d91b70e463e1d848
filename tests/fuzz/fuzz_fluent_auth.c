/* fuzz_fluent_auth.c - the forward protocol's handshake
 * (src/ingest/fluent/fluent_auth.c) on arbitrary bytes.
 *
 * Input: a --forward-auth file, a NUL byte, then a client's bytes after
 * our HELO. What must hold, or the driver aborts:
 *   - a refused file's message names a line or says what is missing, and
 *     quotes no field of the file (a key or a password);
 *   - a PING read takes at most the bytes given and at most
 *     FLUENT_PING_MAX; reading the same bytes one short says "more" or
 *     refuses, never reads a PING;
 *   - the check's PONG is one whole MessagePack array of 5, and the client
 *     is let in only when its digest is the one the shared key gives
 *     (recomputed here), and the PONG carries our digest only then.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/fluent/fluent_auth.h"
#include "ingest/fluent/msgpack.h"

static const char nonce[] = "0123456789abcdef0123456789abcdef";
static const char salt[] = "fedcba9876543210fedcba9876543210";

/* 1 when err holds p[0..n). */
static int contains(const char *err, const char *p, size_t n)
{
    size_t en = strlen(err);
    for (size_t i = 0; i + n <= en; i++)
        if (memcmp(err + i, p, n) == 0)
            return 1;
    return 0;
}

/* 1 when the n hex digits at p are want's, whatever their case. */
static int same_hex(const char *p, size_t n, const char *want)
{
    if (n != 128)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i] >= 'A' && p[i] <= 'F' ? (char)(p[i] - 'A' + 'a') : p[i];
        if (ch != want[i])
            return 0;
    }
    return 1;
}

/* The texts of the parser's messages: a field they contain anyway is no
 * leak. */
static const char own_texts[] =
    "a second shared_key; use shared_key KEY (1 to 256 printable characters, no space); "
    "use user NAME PASSWORD (each 1 to 256 printable characters, no space); a second user "
    "of that name; more than 256 users; unknown setting: use shared_key KEY or user NAME "
    "PASSWORD; no shared_key line";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *nul = memchr(p, '\0', size);
    size_t flen = nul ? (size_t)(nul - p) : size;
    const char *in = nul ? nul + 1 : p + size;
    size_t n = nul ? size - flen - 1 : 0;

    fluent_auth_t a;
    memset(&a, 0, sizeof a);
    strcpy(a.hostname, "server.example");
    char err[FLUENT_AUTH_ERR];
    if (fluent_auth_parse(&a, p, flen, err, sizeof err)) {
        if (!err[0])
            abort();
        /* a message may only quote the file's own keywords */
        size_t i = 0;
        while (i < flen) {
            while (i < flen && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
                i++;
            size_t s = i;
            while (i < flen && p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
                i++;
            if (i - s >= 6 && contains(err, p + s, i - s) && !contains(own_texts, p + s, i - s))
                abort();
        }
        strcpy(a.shared_key, "fallback-key");
    }

    buf_t out = BUF_INIT;
    fluent_helo(&out, &a, nonce, salt);
    if (mp_value_size(out.data, out.len, NULL) != (long)out.len)
        abort();

    fluent_ping_t ping;
    const char *why = NULL;
    long used = fluent_ping_read(in, n, &ping, &why);
    if (used < 0 && !why)
        abort();
    if (used > 0) {
        if ((size_t)used > n || used > FLUENT_PING_MAX)
            abort();
        fluent_ping_t again;
        if (fluent_ping_read(in, (size_t)used - 1, &again, &why) > 0)
            abort();
        const char *reason = NULL;
        int ok = fluent_ping_check(&a, &ping, nonce, salt, &out, &reason);
        if (mp_value_size(out.data, out.len, NULL) != (long)out.len)
            abort();
        char want[129];
        slice_t parts[4] = {ping.salt, ping.hostname, slice_make(nonce, FLUENT_NONCE_LEN),
                            slice_cstr(a.shared_key)};
        fluent_sha512_hex(parts, 4, want);
        int key_ok = same_hex(ping.digest.p, ping.digest.n, want);
        if (ok && !key_ok)
            abort();
        if (!a.nusers && ok != key_ok)
            abort();
        if (!ok && !(reason && reason[0]))
            abort();
        /* the PONG's last field, our digest, is empty unless ok */
        mp_cur_t c = {out.data, out.data + out.len};
        mp_obj_t o;
        if (mp_next(&c, &o) || o.type != MP_ARR || o.n != 5)
            abort();
        for (int i = 0; i < 5; i++) {
            if (mp_next(&c, &o))
                abort();
            if (i == 4 && (o.type != MP_STR || (o.n == 128) != ok))
                abort();
        }
    }
    buf_free(&out);
    fluent_auth_free(&a);
    return 0;
}
