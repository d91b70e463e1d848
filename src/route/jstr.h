/* jstr.h - reading the body of a JSON string (the bytes between its quotes)
 * one character unit at a time, decoding escapes as it goes.
 *
 * logship writes every stored JSON string with json_str() (json_write.h):
 * only quotes, backslashes and control bytes are escaped, so most bodies
 * hold no backslash at all and can be compared as they are. For the others
 * jstr_unit() yields the decoded UTF-8 bytes of one unit: a plain byte, or
 * one escape ("\n", "\u00e9", a surrogate pair "\ud83d\ude00"). Input that
 * json_str() would not write never reads out of bounds: a malformed escape
 * is its backslash, taken as a byte; a lone surrogate is U+FFFD.
 * Header-only: the glob matcher (glob.c) and the field scanner (jfield.c)
 * use it on their hot paths.
 */
#ifndef LOGSHIP_JSTR_H
#define LOGSHIP_JSTR_H

#include <stddef.h>
#include <stdint.h>

static inline int jstr_hex4(const char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

/* Decodes the unit at *pp (before end) into out, advancing *pp past it.
 * Returns the number of bytes written (1..4), 0 when *pp is at end. */
static inline size_t jstr_unit(const char **pp, const char *end, unsigned char out[4])
{
    const char *p = *pp;
    if (p >= end)
        return 0;
    if (*p != '\\' || end - p < 2) {
        out[0] = (unsigned char)*p;
        *pp = p + 1;
        return 1;
    }
    unsigned char c;
    switch (p[1]) {
    case '"':
        c = '"';
        break;
    case '\\':
        c = '\\';
        break;
    case '/':
        c = '/';
        break;
    case 'b':
        c = '\b';
        break;
    case 'f':
        c = '\f';
        break;
    case 'n':
        c = '\n';
        break;
    case 'r':
        c = '\r';
        break;
    case 't':
        c = '\t';
        break;
    case 'u': {
        uint32_t cp, lo;
        if (end - p < 6 || !jstr_hex4(p + 2, &cp)) {
            out[0] = '\\';
            *pp = p + 1;
            return 1;
        }
        p += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end - p >= 6 && p[0] == '\\' && p[1] == 'u' && jstr_hex4(p + 2, &lo) &&
                lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            } else {
                cp = 0xFFFD;
            }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            cp = 0xFFFD;
        }
        *pp = p;
        if (cp < 0x80) {
            out[0] = (unsigned char)cp;
            return 1;
        }
        if (cp < 0x800) {
            out[0] = (unsigned char)(0xC0 | (cp >> 6));
            out[1] = (unsigned char)(0x80 | (cp & 0x3F));
            return 2;
        }
        if (cp < 0x10000) {
            out[0] = (unsigned char)(0xE0 | (cp >> 12));
            out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
            out[2] = (unsigned char)(0x80 | (cp & 0x3F));
            return 3;
        }
        out[0] = (unsigned char)(0xF0 | (cp >> 18));
        out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (unsigned char)(0x80 | (cp & 0x3F));
        return 4;
    }
    default:
        out[0] = '\\';
        *pp = p + 1;
        return 1;
    }
    out[0] = c;
    *pp = p + 2;
    return 1;
}

#endif
