/* msgpack.c - the MessagePack reader: see msgpack.h. */
#include "msgpack.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>

#include "../../common/json_write.h"

static uint64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* The head at p: its size in *hdr, the payload bytes that follow in
 * *payload, the items that follow in *items. 0, 1 more needed, -1 bad. */
static int head(const unsigned char *p, size_t n, size_t *hdr, uint64_t *payload, uint64_t *items)
{
    if (!n)
        return 1;
    unsigned b = p[0];
    *payload = 0;
    *items = 0;
    *hdr = 1;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return 0;
    if ((b & 0xe0) == 0xa0) {
        *payload = b & 0x1f;
        return 0;
    }
    if ((b & 0xf0) == 0x90) {
        *items = b & 0x0f;
        return 0;
    }
    if ((b & 0xf0) == 0x80) {
        *items = (uint64_t)(b & 0x0f) * 2;
        return 0;
    }
    static const struct {
        unsigned char len;  /* bytes of length or value after the first */
        unsigned char kind; /* 0 fixed value, 1 payload length, 2 items, 3 pairs, 4 ext */
        unsigned char extra;
    } t[] = {
        [0xc4 - 0xc4] = {1, 1, 0}, [0xc5 - 0xc4] = {2, 1, 0}, [0xc6 - 0xc4] = {4, 1, 0},
        [0xc7 - 0xc4] = {1, 4, 0}, [0xc8 - 0xc4] = {2, 4, 0}, [0xc9 - 0xc4] = {4, 4, 0},
        [0xca - 0xc4] = {4, 0, 0}, [0xcb - 0xc4] = {8, 0, 0}, [0xcc - 0xc4] = {1, 0, 0},
        [0xcd - 0xc4] = {2, 0, 0}, [0xce - 0xc4] = {4, 0, 0}, [0xcf - 0xc4] = {8, 0, 0},
        [0xd0 - 0xc4] = {1, 0, 0}, [0xd1 - 0xc4] = {2, 0, 0}, [0xd2 - 0xc4] = {4, 0, 0},
        [0xd3 - 0xc4] = {8, 0, 0}, [0xd4 - 0xc4] = {1, 0, 1}, [0xd5 - 0xc4] = {1, 0, 2},
        [0xd6 - 0xc4] = {1, 0, 4}, [0xd7 - 0xc4] = {1, 0, 8}, [0xd8 - 0xc4] = {1, 0, 16},
        [0xd9 - 0xc4] = {1, 1, 0}, [0xda - 0xc4] = {2, 1, 0}, [0xdb - 0xc4] = {4, 1, 0},
        [0xdc - 0xc4] = {2, 2, 0}, [0xdd - 0xc4] = {4, 2, 0}, [0xde - 0xc4] = {2, 3, 0},
        [0xdf - 0xc4] = {4, 3, 0},
    };
    if (b < 0xc4 || b > 0xdf)
        return -1; /* 0xc1: never used */
    unsigned len = t[b - 0xc4].len, kind = t[b - 0xc4].kind;
    if (b >= 0xd4 && b <= 0xd8) {
        /* fixext: a type byte, then 1..16 bytes */
        *hdr = 2;
        *payload = t[b - 0xc4].extra;
        return n < 2 ? 1 : 0;
    }
    if (n < 1 + (size_t)len)
        return 1;
    uint64_t v = be(p + 1, (int)len);
    *hdr = 1 + len;
    switch (kind) {
    case 0:
        *hdr = 1;
        *payload = len;
        break;
    case 1:
        *payload = v;
        break;
    case 2:
        *items = v;
        break;
    case 3:
        *items = v * 2;
        break;
    case 4:
        *hdr = 2 + len; /* the type byte after the length */
        *payload = v;
        if (n < *hdr)
            return 1;
        break;
    }
    return 0;
}

long mp_value_size(const char *s, size_t n, size_t *need)
{
    const unsigned char *p = (const unsigned char *)s;
    uint64_t todo[MP_MAX_DEPTH + 1]; /* items still to read at each depth */
    int depth = 0;
    size_t at = 0, dummy;
    if (!need)
        need = &dummy;
    todo[0] = 1;
    while (1) {
        while (depth > 0 && todo[depth] == 0)
            depth--;
        if (depth == 0 && todo[0] == 0)
            return at > (size_t)LONG_MAX ? -1 : (long)at;
        size_t hdr;
        uint64_t payload, items;
        int rc = head(p + at, n - at, &hdr, &payload, &items);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            /* the value is not whole in n bytes: it takes one more at least */
            *need = at + (size_t)todo[depth] > n ? at + (size_t)todo[depth] : n + 1;
            return 0;
        }
        todo[depth]--;
        if (payload > SIZE_MAX / 2 || hdr + payload > n - at) {
            *need = payload > SIZE_MAX / 2 ? SIZE_MAX : at + hdr + (size_t)payload;
            return 0; /* > n: the payload does not fit */
        }
        at += hdr + (size_t)payload;
        if (items) {
            if (depth == MP_MAX_DEPTH)
                return -1;
            if (items > n - at) {
                *need = items > SIZE_MAX / 2 ? SIZE_MAX : at + (size_t)items;
                return 0; /* every item takes a byte at least */
            }
            todo[++depth] = items;
        }
    }
}

int mp_next(mp_cur_t *c, mp_obj_t *o)
{
    const unsigned char *p = (const unsigned char *)c->p;
    size_t n = (size_t)(c->end - c->p), hdr;
    uint64_t payload, items;
    if (head(p, n, &hdr, &payload, &items))
        return -1;
    if (hdr + payload > n)
        return -1;
    unsigned b = p[0];
    memset(o, 0, sizeof *o);
    if (b <= 0x7f) {
        o->type = MP_UINT;
        o->u = b;
        o->i = b;
    } else if (b >= 0xe0) {
        o->type = MP_INT;
        o->i = (int8_t)b;
    } else if (b == 0xc0) {
        o->type = MP_NIL;
    } else if (b == 0xc2 || b == 0xc3) {
        o->type = MP_BOOL;
        o->boolean = b == 0xc3;
    } else if ((b & 0xe0) == 0xa0 || (b >= 0xd9 && b <= 0xdb)) {
        o->type = MP_STR;
    } else if (b >= 0xc4 && b <= 0xc6) {
        o->type = MP_BIN;
    } else if ((b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd) {
        o->type = MP_ARR;
        o->n = (uint32_t)items;
    } else if ((b & 0xf0) == 0x80 || b == 0xde || b == 0xdf) {
        o->type = MP_MAP;
        o->n = (uint32_t)(items / 2);
    } else if ((b >= 0xc7 && b <= 0xc9) || (b >= 0xd4 && b <= 0xd8)) {
        o->type = MP_EXT;
        o->ext = (int8_t)p[hdr - 1];
    } else if (b == 0xca) {
        uint32_t v = (uint32_t)be(p + 1, 4);
        float f;
        memcpy(&f, &v, 4);
        o->type = MP_FLOAT;
        o->f = f;
    } else if (b == 0xcb) {
        uint64_t v = be(p + 1, 8);
        memcpy(&o->f, &v, 8);
        o->type = MP_FLOAT;
    } else if (b >= 0xcc && b <= 0xcf) {
        o->type = MP_UINT;
        o->u = be(p + 1, 1 << (b - 0xcc));
        o->i = (int64_t)o->u;
    } else if (b >= 0xd0 && b <= 0xd3) {
        int len = 1 << (b - 0xd0);
        uint64_t v = be(p + 1, len);
        o->type = MP_INT;
        /* sign-extend from len bytes */
        o->i = len == 8 ? (int64_t)v
                        : (int64_t)(v ^ (1ULL << (len * 8 - 1))) - (int64_t)(1ULL << (len * 8 - 1));
    }
    if (o->type == MP_STR || o->type == MP_BIN || o->type == MP_EXT) {
        o->p = c->p + hdr;
        o->n = (uint32_t)payload;
        c->p += hdr + payload;
    } else if (o->type == MP_FLOAT || ((b >= 0xcc && b <= 0xd3))) {
        c->p += hdr + payload;
    } else {
        c->p += hdr;
    }
    return 0;
}

int mp_skip_rest(mp_cur_t *c, const mp_obj_t *o)
{
    if (o->type != MP_ARR && o->type != MP_MAP)
        return 0;
    uint64_t items = o->type == MP_MAP ? (uint64_t)o->n * 2 : o->n;
    for (uint64_t k = 0; k < items; k++) {
        mp_obj_t x;
        if (mp_next(c, &x) || mp_skip_rest(c, &x))
            return -1;
    }
    return 0;
}

static void base64(buf_t *out, const char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = (const unsigned char *)p;
    buf_putc(out, '"');
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) |
                     (i + 2 < n ? s[i + 2] : 0);
        buf_putc(out, tab[v >> 18 & 63]);
        buf_putc(out, tab[v >> 12 & 63]);
        buf_putc(out, i + 1 < n ? tab[v >> 6 & 63] : '=');
        buf_putc(out, i + 2 < n ? tab[v & 63] : '=');
    }
    buf_putc(out, '"');
}

static int write_json(mp_cur_t *c, const mp_obj_t *o, buf_t *out, int depth)
{
    char num[40];
    if (depth > MP_MAX_DEPTH)
        return -1;
    switch (o->type) {
    case MP_NIL:
        buf_puts(out, "null");
        return 0;
    case MP_BOOL:
        buf_puts(out, o->boolean ? "true" : "false");
        return 0;
    case MP_INT:
        buf_append_i64(out, o->i);
        return 0;
    case MP_UINT:
        buf_append_u64(out, o->u);
        return 0;
    case MP_FLOAT:
        if (!isfinite(o->f)) {
            buf_puts(out, "null");
            return 0;
        }
        snprintf(num, sizeof num, "%.17g", o->f);
        buf_puts(out, num);
        return 0;
    case MP_STR:
        json_str(out, o->p, o->n);
        return 0;
    case MP_BIN:
    case MP_EXT:
        base64(out, o->p, o->n);
        return 0;
    case MP_ARR:
    case MP_MAP: {
        int map = o->type == MP_MAP;
        buf_putc(out, map ? '{' : '[');
        for (uint32_t k = 0; k < o->n; k++) {
            mp_obj_t x;
            if (k)
                buf_putc(out, ',');
            if (mp_next(c, &x))
                return -1;
            if (map) {
                if (x.type == MP_STR) {
                    json_str(out, x.p, x.n);
                } else {
                    buf_t key = BUF_INIT;
                    int rc = write_json(c, &x, &key, depth + 1);
                    json_str(out, key.data ? key.data : "", key.len);
                    buf_free(&key);
                    if (rc)
                        return -1;
                }
                buf_putc(out, ':');
                if (mp_next(c, &x))
                    return -1;
            }
            if (write_json(c, &x, out, depth + 1))
                return -1;
        }
        buf_putc(out, map ? '}' : ']');
        return 0;
    }
    }
    return -1;
}

int mp_write_json(mp_cur_t *c, const mp_obj_t *o, buf_t *out)
{
    return write_json(c, o, out, 0);
}
