/* ui_assets.c - finding embedded UI files, and the small header logic of
 * serving them (content negotiation for "/", ETag revalidation). Pure: no
 * sockets, so the unit tests can drive it. */
#include "ui_assets.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const ui_asset_t *ui_asset_find(const char *name, size_t n)
{
    for (size_t i = 0; i < ui_assets_count; i++)
        if (strlen(ui_assets[i].name) == n && memcmp(ui_assets[i].name, name, n) == 0)
            return &ui_assets[i];
    return NULL;
}

static const char *skip_ows(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* The quality (0..1000) one media range "type/sub;q=0.5" gives. */
static int quality(const char *p, const char *end)
{
    const char *semi = memchr(p, ';', (size_t)(end - p));
    while (semi) {
        const char *s = skip_ows(semi + 1, end);
        const char *next = memchr(s, ';', (size_t)(end - s));
        const char *stop = next ? next : end;
        if (stop - s >= 2 && (s[0] == 'q' || s[0] == 'Q') && s[1] == '=') {
            /* q = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
            int q = 0, scale = 1000;
            const char *d = s + 2;
            if (d < stop && (*d == '0' || *d == '1'))
                q = (*d++ - '0') * 1000;
            else
                return 0;
            if (d < stop && *d == '.')
                for (d++; d < stop && *d >= '0' && *d <= '9' && scale > 1; d++)
                    q += (*d - '0') * (scale /= 10);
            return q > 1000 ? 1000 : q;
        }
        semi = next;
    }
    return 1000;
}

static int range_is(const char *p, const char *end, const char *type)
{
    p = skip_ows(p, end);
    size_t n = strlen(type);
    if ((size_t)(end - p) < n || strncasecmp(p, type, n) != 0)
        return 0;
    p = skip_ows(p + n, end);
    return p == end || *p == ';';
}

int ui_wants_html(const char *accept)
{
    int html = -1, json = -1;
    if (!accept)
        return 0;
    const char *p = accept, *all = accept + strlen(accept);
    while (p < all) {
        const char *comma = memchr(p, ',', (size_t)(all - p));
        const char *end = comma ? comma : all;
        if (range_is(p, end, "text/html"))
            html = quality(p, end);
        else if (range_is(p, end, "application/json"))
            json = quality(p, end);
        p = comma ? comma + 1 : all;
    }
    return html > 0 && html >= json;
}

int ui_etag_match(const char *inm, const char *etag)
{
    if (!inm)
        return 0;
    size_t en = strlen(etag);
    const char *p = inm, *all = inm + strlen(inm);
    while (p < all) {
        const char *comma = memchr(p, ',', (size_t)(all - p));
        const char *end = comma ? comma : all;
        p = skip_ows(p, end);
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (end - p == 1 && *p == '*')
            return 1;
        if (end - p >= 2 && p[0] == 'W' && p[1] == '/')
            p += 2; /* weak comparison is what If-None-Match uses */
        if ((size_t)(end - p) == en && memcmp(p, etag, en) == 0)
            return 1;
        p = comma ? comma + 1 : all;
    }
    return 0;
}
