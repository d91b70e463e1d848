/* proto.c - the lines of logshipd's acknowledged raw TCP protocol, as the
 * client writes and reads them (docs/PROTOCOL.md, src/ingest/tcp/tcp_parse.h).
 * Replies are flat JSON objects; this reads exactly that much JSON and
 * refuses anything else, since network input must never crash the host. */
#include <stdio.h>
#include <string.h>

#include "client.h"

typedef struct scan {
    const char *p, *end;
} scan_t;

static void ws(scan_t *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r'))
        s->p++;
}

/* Reads a JSON string at s->p into out (cap bytes, NUL-terminated, cut when
 * longer; escapes other than \" \\ \/ kept as they are). Returns 0 or -1. */
static int str(scan_t *s, char *out, size_t cap)
{
    size_t n = 0;
    if (s->p >= s->end || *s->p != '"')
        return -1;
    s->p++;
    while (s->p < s->end && *s->p != '"') {
        char c = *s->p++;
        if (c == '\\') {
            if (s->p >= s->end)
                return -1;
            c = *s->p++;
            if (c != '"' && c != '\\' && c != '/') {
                if (n + 1 < cap)
                    out[n++] = '\\';
            }
        } else if ((unsigned char)c < 0x20) {
            return -1;
        }
        if (n + 1 < cap)
            out[n++] = c;
    }
    if (s->p >= s->end)
        return -1;
    s->p++;
    if (cap)
        out[n] = '\0';
    return 0;
}

/* Reads a non-negative integer; other numbers are skipped (-1 in *ok). */
static int num(scan_t *s, uint64_t *v, int *ok)
{
    const char *start = s->p;
    uint64_t x = 0;
    int good = 1;
    while (s->p < s->end && ((*s->p >= '0' && *s->p <= '9') || *s->p == '-' || *s->p == '+' ||
                             *s->p == '.' || *s->p == 'e' || *s->p == 'E')) {
        char c = *s->p;
        if (c >= '0' && c <= '9') {
            if (x > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
                good = 0;
            else
                x = x * 10 + (uint64_t)(c - '0');
        } else {
            good = 0;
        }
        s->p++;
    }
    if (s->p == start)
        return -1;
    *v = x;
    *ok = good;
    return 0;
}

static int literal(scan_t *s, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return -1;
    s->p += n;
    return 0;
}

enum { HAS_KIND = 1, HAS_BATCH = 2, HAS_FIRST = 4, HAS_LAST = 8, HAS_LAST_BATCH = 16 };

int proto_parse_reply(const char *line, size_t n, reply_t *r)
{
    scan_t s = {line, line + n};
    char key[32], val[128];
    unsigned has = 0;
    memset(r, 0, sizeof *r);
    ws(&s);
    if (s.p >= s.end || *s.p != '{')
        return -1;
    s.p++;
    ws(&s);
    if (s.p < s.end && *s.p == '}') {
        s.p++;
    } else {
        for (;;) {
            ws(&s);
            if (str(&s, key, sizeof key))
                return -1;
            ws(&s);
            if (s.p >= s.end || *s.p != ':')
                return -1;
            s.p++;
            ws(&s);
            if (s.p >= s.end)
                return -1;
            if (*s.p == '"') {
                if (str(&s, val, sizeof val))
                    return -1;
                if (strcmp(key, "logship") == 0) {
                    has |= HAS_KIND;
                    if (strcmp(val, "hello") == 0)
                        r->kind = REPLY_HELLO;
                    else if (strcmp(val, "ack") == 0)
                        r->kind = REPLY_ACK;
                    else if (strcmp(val, "nack") == 0)
                        r->kind = REPLY_NACK;
                    else if (strcmp(val, "error") == 0)
                        r->kind = REPLY_ERROR;
                    else
                        return -1;
                } else if (strcmp(key, "error") == 0) {
                    snprintf(r->error, sizeof r->error, "%s", val);
                }
            } else if (*s.p == 't' || *s.p == 'f' || *s.p == 'n') {
                int t = *s.p == 't';
                if (literal(&s, *s.p == 't' ? "true" : *s.p == 'f' ? "false" : "null"))
                    return -1;
                if (strcmp(key, "duplicate") == 0)
                    r->duplicate = t;
            } else {
                uint64_t v;
                int ok;
                if (num(&s, &v, &ok))
                    return -1;
                if (ok && strcmp(key, "batch") == 0) {
                    r->batch = v;
                    has |= HAS_BATCH;
                } else if (ok && strcmp(key, "first_seq") == 0) {
                    r->first_seq = v;
                    has |= HAS_FIRST;
                } else if (ok && strcmp(key, "last_seq") == 0) {
                    r->last_seq = v;
                    has |= HAS_LAST;
                } else if (ok && strcmp(key, "last_batch") == 0) {
                    r->last_batch = v;
                    has |= HAS_LAST_BATCH;
                }
            }
            ws(&s);
            if (s.p < s.end && *s.p == ',') {
                s.p++;
                continue;
            }
            if (s.p < s.end && *s.p == '}') {
                s.p++;
                break;
            }
            return -1;
        }
    }
    ws(&s);
    if (s.p != s.end || !(has & HAS_KIND))
        return -1;
    switch (r->kind) {
    case REPLY_HELLO:
        return has & HAS_LAST_BATCH ? 0 : -1;
    case REPLY_ACK:
        return (has & (HAS_BATCH | HAS_FIRST | HAS_LAST)) == (HAS_BATCH | HAS_FIRST | HAS_LAST)
                   ? 0
                   : -1;
    case REPLY_NACK:
        return has & HAS_BATCH ? 0 : -1;
    case REPLY_ERROR:
        return 0;
    }
    return -1;
}

int proto_id_check(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > PRODUCER_ID_LEN)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)id[i] <= 0x20 || (unsigned char)id[i] >= 0x7f || id[i] == '"' ||
            id[i] == '\\')
            return -1;
    return 0;
}

size_t proto_hello(char *out, size_t cap, const char *id)
{
    /* ids are checked by proto_id_check(): nothing to escape */
    int n = snprintf(out, cap, "{\"logship\":\"hello\",\"version\":1,\"producer\":\"%s\"}\n", id);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

size_t proto_batch_header(char *out, size_t cap, uint64_t no, uint32_t count)
{
    int n = snprintf(out, cap, "{\"logship\":\"batch\",\"batch\":%llu,\"count\":%u}\n",
                     (unsigned long long)no, (unsigned)count);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}
