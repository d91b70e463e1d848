/* pyfmt.c - Python %-formatting from an args repr: see pyfmt.h. */
#include "pyfmt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define PYFMT_MAX_ARGS 64

enum pytype { PV_STR, PV_BYTES, PV_INT, PV_FLOAT, PV_NONE, PV_BOOL };

typedef struct pyval {
    enum pytype t;
    slice_t repr;  /* the literal as written in the repr */
    size_t so, sn; /* PV_STR: decoded text in the scratch buffer */
    slice_t key;   /* dict entries: the key's repr, quotes included */
    size_t ko, kn; /* dict entries: decoded key */
} pyval_t;

typedef struct parser {
    const char *s;
    size_t n, i;
    buf_t *scratch;
} parser_t;

static void skip_ws(parser_t *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\n'))
        p->i++;
}

static int hexdig(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void put_utf8(buf_t *b, unsigned long cp)
{
    char t[4];
    size_t n;
    if (cp >= 0xD800 && cp <= 0xDFFF)
        cp = 0xFFFD;
    if (cp < 0x80) {
        t[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        t[0] = (char)(0xC0 | cp >> 6);
        t[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        t[0] = (char)(0xE0 | cp >> 12);
        t[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        t[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else if (cp <= 0x10FFFF) {
        t[0] = (char)(0xF0 | cp >> 18);
        t[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        t[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        t[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    } else {
        put_utf8(b, 0xFFFD);
        return;
    }
    buf_append(b, t, n);
}

/* Parses a quoted str literal at p->i, decoding it into scratch. */
static int parse_str(parser_t *p, size_t *so, size_t *sn)
{
    char q = p->s[p->i++];
    *so = p->scratch->len;
    while (p->i < p->n) {
        char c = p->s[p->i++];
        if (c == q) {
            *sn = p->scratch->len - *so;
            return 0;
        }
        if (c != '\\') {
            buf_putc(p->scratch, c);
            continue;
        }
        if (p->i >= p->n)
            return -1;
        c = p->s[p->i++];
        int digits = 0;
        switch (c) {
        case 'n':
            buf_putc(p->scratch, '\n');
            break;
        case 'r':
            buf_putc(p->scratch, '\r');
            break;
        case 't':
            buf_putc(p->scratch, '\t');
            break;
        case 'a':
            buf_putc(p->scratch, '\a');
            break;
        case 'b':
            buf_putc(p->scratch, '\b');
            break;
        case 'f':
            buf_putc(p->scratch, '\f');
            break;
        case 'v':
            buf_putc(p->scratch, '\v');
            break;
        case '0':
            buf_putc(p->scratch, '\0');
            break;
        case '\\':
        case '\'':
        case '"':
            buf_putc(p->scratch, c);
            break;
        case 'x':
            digits = 2;
            break;
        case 'u':
            digits = 4;
            break;
        case 'U':
            digits = 8;
            break;
        default:
            return -1;
        }
        if (digits) {
            unsigned long cp = 0;
            for (int k = 0; k < digits; k++) {
                int h = p->i < p->n ? hexdig(p->s[p->i]) : -1;
                if (h < 0)
                    return -1;
                cp = cp << 4 | (unsigned long)h;
                p->i++;
            }
            put_utf8(p->scratch, cp);
        }
    }
    return -1;
}

static int parse_value(parser_t *p, pyval_t *v)
{
    skip_ws(p);
    if (p->i >= p->n)
        return -1;
    size_t start = p->i;
    char c = p->s[p->i];
    if (c == '\'' || c == '"') {
        v->t = PV_STR;
        if (parse_str(p, &v->so, &v->sn))
            return -1;
    } else if (c == 'b' && p->i + 1 < p->n && (p->s[p->i + 1] == '\'' || p->s[p->i + 1] == '"')) {
        size_t so, sn;
        v->t = PV_BYTES;
        p->i++;
        if (parse_str(p, &so, &sn))
            return -1;
        p->scratch->len = so; /* %s of bytes shows the repr */
    } else if (c == '-' || (c >= '0' && c <= '9') || c == 'i' || c == 'n') {
        const char *words[] = {"inf", "-inf", "nan"};
        int word = 0;
        for (size_t k = 0; k < 3; k++) {
            size_t wl = strlen(words[k]);
            if (p->n - p->i >= wl && memcmp(p->s + p->i, words[k], wl) == 0) {
                p->i += wl;
                v->t = PV_FLOAT;
                word = 1;
                break;
            }
        }
        if (!word) {
            v->t = PV_INT;
            if (c == '-')
                p->i++;
            size_t d0 = p->i;
            while (p->i < p->n) {
                char d = p->s[p->i];
                if (d >= '0' && d <= '9') {
                    p->i++;
                } else if (d == '.' || d == 'e' || d == 'E' ||
                           ((d == '+' || d == '-') && v->t == PV_FLOAT &&
                            (p->s[p->i - 1] == 'e' || p->s[p->i - 1] == 'E'))) {
                    v->t = PV_FLOAT;
                    p->i++;
                } else {
                    break;
                }
            }
            if (p->i == d0)
                return -1;
        }
    } else if (p->n - p->i >= 4 && memcmp(p->s + p->i, "None", 4) == 0) {
        v->t = PV_NONE;
        p->i += 4;
    } else if (p->n - p->i >= 4 && memcmp(p->s + p->i, "True", 4) == 0) {
        v->t = PV_BOOL;
        p->i += 4;
    } else if (p->n - p->i >= 5 && memcmp(p->s + p->i, "False", 5) == 0) {
        v->t = PV_BOOL;
        p->i += 5;
    } else {
        return -1; /* objects, lists, ...: not reconstructible */
    }
    v->repr = slice_make(p->s + start, p->i - start);
    return 0;
}

/* Parses "(a, b,)" or "{'k': v}" into vals. Returns the count or -1. */
static int parse_args(parser_t *p, pyval_t *vals, int *is_dict)
{
    skip_ws(p);
    if (p->i >= p->n)
        return -1;
    char open = p->s[p->i], close = open == '(' ? ')' : open == '{' ? '}' : 0;
    if (!close)
        return -1;
    *is_dict = open == '{';
    p->i++;
    int count = 0;
    for (;;) {
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == close) {
            p->i++;
            break;
        }
        if (count == PYFMT_MAX_ARGS)
            return -1;
        pyval_t *v = &vals[count];
        if (*is_dict) {
            pyval_t k;
            if (parse_value(p, &k) || k.t != PV_STR)
                return -1;
            v->ko = k.so;
            v->kn = k.sn;
            v->key = k.repr;
            skip_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':')
                return -1;
            p->i++;
        }
        if (parse_value(p, v))
            return -1;
        count++;
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == close) {
            p->i++;
            break;
        }
        return -1;
    }
    skip_ws(p);
    return p->i == p->n ? count : -1;
}

static const char *str_of(const pyval_t *v, const buf_t *scratch, size_t *len)
{
    switch (v->t) {
    case PV_STR:
        *len = v->sn;
        return scratch->data + v->so;
    case PV_NONE:
        *len = 4;
        return "None";
    default:
        *len = v->repr.n;
        return v->repr.p;
    }
}

static size_t codepoints(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* Byte length of the first max code points of s. */
static size_t cp_prefix(const char *s, size_t n, size_t max)
{
    size_t c = 0, i = 0;
    for (; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (c == max)
                break;
            c++;
        }
    }
    return i;
}

static void pad(buf_t *out, size_t k)
{
    while (k--)
        buf_putc(out, ' ');
}

static int as_double(const pyval_t *v, double *d)
{
    char tmp[64];
    if (v->t == PV_BOOL) {
        *d = v->repr.p[0] == 'T';
        return 0;
    }
    if ((v->t != PV_INT && v->t != PV_FLOAT) || v->repr.n >= sizeof tmp)
        return -1;
    memcpy(tmp, v->repr.p, v->repr.n);
    tmp[v->repr.n] = '\0';
    *d = strtod(tmp, NULL);
    return 0;
}

/* The integer v stands for, for %d %i %u %x %X %o %c. Ints are read exactly
 * (through a double they would be rounded past 2**53); floats only for %d %i
 * %u, truncated, since Python raises for %x or %c of a float. */
static int as_int(const pyval_t *v, char conv, long long *ll)
{
    char tmp[32], *end;
    if (v->t == PV_BOOL) {
        *ll = v->repr.p[0] == 'T';
        return 0;
    }
    if (v->t == PV_FLOAT && (conv == 'd' || conv == 'i' || conv == 'u')) {
        double d;
        if (as_double(v, &d) || !isfinite(d) || d > 9.2e18 || d < -9.2e18)
            return -1;
        *ll = (long long)d;
        return 0;
    }
    if (v->t != PV_INT || v->repr.n >= sizeof tmp)
        return -1;
    memcpy(tmp, v->repr.p, v->repr.n);
    tmp[v->repr.n] = '\0';
    errno = 0;
    *ll = strtoll(tmp, &end, 10);
    return errno || *end ? -1 : 0;
}

/* Formats v the way Python's %d %x %X %o do, which C's printf does not
 * quite: a negative hex or octal number gets a '-' (not two's complement),
 * '#' adds 0x, 0X or 0o after the sign, the precision zero-pads the digits
 * (and "%.0d" of 0 is "0"), and the '0' flag pads even with a precision. */
static void format_int(buf_t *out, const char *flags, long width, long prec, char conv, long long v)
{
    char digits[32], head[4];
    size_t nh = 0;
    unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    const char *fmt = conv == 'x' ? "%llx" : conv == 'X' ? "%llX" : conv == 'o' ? "%llo" : "%llu";
    size_t nd = (size_t)snprintf(digits, sizeof digits, fmt, mag);

    if (v < 0)
        head[nh++] = '-';
    else if (strchr(flags, '+'))
        head[nh++] = '+';
    else if (strchr(flags, ' '))
        head[nh++] = ' ';
    if (strchr(flags, '#') && conv != 'd') {
        head[nh++] = '0';
        head[nh++] = conv;
    }
    size_t zeros = prec > 0 && (size_t)prec > nd ? (size_t)prec - nd : 0;
    size_t len = nh + zeros + nd;
    size_t fill = width > 0 && (size_t)width > len ? (size_t)width - len : 0;
    int left = strchr(flags, '-') != NULL;
    if (!left && !strchr(flags, '0'))
        pad(out, fill);
    buf_append(out, head, nh);
    if (!left && strchr(flags, '0'))
        zeros += fill;
    while (zeros--)
        buf_putc(out, '0');
    buf_append(out, digits, nd);
    if (left)
        pad(out, fill);
}

int pyfmt_format(buf_t *out, const char *tmpl, size_t tn, const char *args, size_t an)
{
    pyval_t vals[PYFMT_MAX_ARGS];
    buf_t scratch = BUF_INIT;
    parser_t p = {args, an, 0, &scratch};
    int is_dict = 0, used = 0;
    size_t mark = out->len;

    /* decoded strings point into scratch, also when all are empty */
    buf_reserve(&scratch, an);
    int count = parse_args(&p, vals, &is_dict);
    if (count < 0)
        goto fail;
    if (count == 0) {
        /* LogRecord.getMessage() formats only when args is truthy */
        buf_append(out, tmpl, tn);
        buf_free(&scratch);
        return 0;
    }
    for (size_t i = 0; i < tn;) {
        const char *pc = memchr(tmpl + i, '%', tn - i);
        size_t end = pc ? (size_t)(pc - tmpl) : tn;
        buf_append(out, tmpl + i, end - i);
        if (!pc)
            break;
        i = end + 1;
        if (i >= tn)
            goto fail;
        if (tmpl[i] == '%') {
            buf_putc(out, '%');
            i++;
            continue;
        }
        const pyval_t *v = NULL;
        if (tmpl[i] == '(') {
            const char *rp = memchr(tmpl + i, ')', tn - i);
            if (!is_dict || !rp)
                goto fail;
            slice_t key = slice_make(tmpl + i + 1, (size_t)(rp - tmpl) - i - 1);
            for (int k = 0; k < count && !v; k++)
                if (vals[k].kn == key.n && memcmp(scratch.data + vals[k].ko, key.p, key.n) == 0)
                    v = &vals[k];
            if (!v)
                goto fail;
            i = (size_t)(rp - tmpl) + 1;
        } else if (is_dict) {
            goto fail;
        }
        char flags[8];
        size_t nf = 0;
        while (i < tn && strchr("-+ #0", tmpl[i]) && tmpl[i] && nf < sizeof flags - 1)
            flags[nf++] = tmpl[i++];
        flags[nf] = '\0';
        long width = -1, prec = -1;
        if (i < tn && tmpl[i] >= '0' && tmpl[i] <= '9') {
            width = 0;
            while (i < tn && tmpl[i] >= '0' && tmpl[i] <= '9' && width < 10000)
                width = width * 10 + (tmpl[i++] - '0');
        }
        if (i < tn && tmpl[i] == '.') {
            i++;
            prec = 0;
            while (i < tn && tmpl[i] >= '0' && tmpl[i] <= '9' && prec < 10000)
                prec = prec * 10 + (tmpl[i++] - '0');
        }
        /* Python skips one length modifier; "%lld" is an error there */
        if (i < tn && (tmpl[i] == 'h' || tmpl[i] == 'l' || tmpl[i] == 'L'))
            i++;
        if (i >= tn)
            goto fail;
        char conv = tmpl[i++];
        if (!v) {
            if (used >= count)
                goto fail;
            v = &vals[used++];
        }
        int left = strchr(flags, '-') != NULL;
        if (conv == 's' || conv == 'r' || conv == 'a') {
            size_t len;
            const char *s = conv == 's' ? str_of(v, &scratch, &len) : v->repr.p;
            if (conv != 's')
                len = v->repr.n;
            if (prec >= 0)
                len = cp_prefix(s, len, (size_t)prec);
            size_t cps = codepoints(s, len);
            size_t fill = width > 0 && (size_t)width > cps ? (size_t)width - cps : 0;
            if (!left)
                pad(out, fill);
            buf_append(out, s, len);
            if (left)
                pad(out, fill);
            continue;
        }
        /* conv may be a NUL byte of the template: strchr would match it */
        if (conv && strchr("diuxXoc", conv)) {
            long long ll;
            if (as_int(v, conv, &ll))
                goto fail;
            if (conv != 'c') {
                format_int(out, flags, width, prec, conv == 'i' || conv == 'u' ? 'd' : conv, ll);
                continue;
            }
            if (ll < 0 || ll > 0x10FFFF)
                goto fail;
            /* one character, padded like a string */
            size_t fill = width > 1 ? (size_t)width - 1 : 0;
            if (!left)
                pad(out, fill);
            put_utf8(out, (unsigned long)ll);
            if (left)
                pad(out, fill);
            continue;
        }
        double d;
        if (as_double(v, &d))
            goto fail;
        char spec[32], num[512];
        int k;
        if (conv && strchr("eEfFgG", conv)) {
            snprintf(spec, sizeof spec, "%%%s*.*%c", flags, conv);
            k = snprintf(num, sizeof num, spec, (int)(width > 0 ? width : 0),
                         (int)(prec >= 0 ? prec : 6), d);
        } else {
            goto fail;
        }
        if (k < 0 || (size_t)k >= sizeof num)
            goto fail;
        buf_append(out, num, (size_t)k);
    }
    /* Python raises "not all arguments converted" for leftovers */
    if (!is_dict && used != count)
        goto fail;
    buf_free(&scratch);
    return 0;
fail:
    out->len = mark;
    buf_free(&scratch);
    return -1;
}
