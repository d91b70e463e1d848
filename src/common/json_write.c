/* json_write.c - JSON output helpers: see json_write.h. */
#include "json_write.h"

#include "utf8.h"

static const char hex[] = "0123456789abcdef";

static inline int plain(unsigned char c)
{
    return c >= 0x20 && c != '"' && c != '\\' && c < 0x80;
}

void json_str_body(buf_t *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    /* worst case: every byte becomes \u00XX (6 bytes) */
    buf_reserve(b, n + 2);
    while (i < n) {
        size_t start = i;
        while (i < n && plain(u[i]))
            i++;
        buf_append(b, u + start, i - start);
        if (i >= n)
            break;
        unsigned char c = u[i];
        if (c >= 0x80) {
            size_t len;
            if (utf8_next(s + i, n - i, &len))
                buf_append(b, u + i, len);
            else
                buf_append(b, "\xEF\xBF\xBD", 3);
            i += len;
            continue;
        }
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t el = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            el = 6;
        }
        buf_append(b, esc, el);
        i++;
    }
}

void json_str(buf_t *b, const char *s, size_t n)
{
    buf_putc(b, '"');
    json_str_body(b, s, n);
    buf_putc(b, '"');
}

void json_key(buf_t *b, const char *key)
{
    json_str(b, key, strlen(key));
    buf_putc(b, ':');
}
