/* ui_assets.h - the web UI's files (src/ui/index.html, app.js, app.css,
 * ...), embedded in logshipd at build time.
 *
 * cmake/embed_ui.cmake turns each file into a byte array in the build
 * directory (ui_assets_data.c) and fills ui_assets[]; nothing is read from
 * disk or fetched at run time. The HTTP side (src/server/status.c) serves
 * them at / and /ui/<name>. Everything here is constant: any thread.
 */
#ifndef LOGSHIP_UI_ASSETS_H
#define LOGSHIP_UI_ASSETS_H

#include <stddef.h>

typedef struct ui_asset {
    const char *name;  /* file name in src/ui, e.g. "app.js" */
    const char *ctype; /* Content-Type */
    const char *etag;  /* strong ETag, quoted: a prefix of the SHA-256 */
    const unsigned char *data;
    size_t len;
} ui_asset_t;

extern const ui_asset_t ui_assets[];
extern const size_t ui_assets_count;

/* The asset called name (n bytes, no leading slash), or NULL. */
const ui_asset_t *ui_asset_find(const char *name, size_t n);

/* 1 when an HTTP Accept header value asks for the page rather than JSON:
 * text/html is named with a quality above 0 and at least that of
 * application/json. No header, or only wildcards (curl's default): 0. */
int ui_wants_html(const char *accept);

/* 1 when the If-None-Match header value (NULL when absent) names etag. */
int ui_etag_match(const char *if_none_match, const char *etag);

#endif
