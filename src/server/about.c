/* about.c - logshipd --version: see about.h. */
#include "about.h"

#include <string.h>

#include <libwebsockets.h>
#include <uv.h>
#include <xxhash.h>
#include <yajl/yajl_version.h>

#include "../common/version.h"

void about_print_version(FILE *out)
{
    fprintf(out, "logshipd %s\n", LOGSHIP_VERSION);
    fprintf(out, "libuv %s\n", uv_version_string());
    /* "4.1.6-<git hash>", or "4.1.6-" when built without one */
    const char *lws = lws_get_library_version();
    size_t n = strcspn(lws, " ");
    while (n > 0 && lws[n - 1] == '-')
        n--;
    fprintf(out, "libwebsockets %.*s\n", (int)n, lws);
    int y = yajl_version();
    fprintf(out, "yajl %d.%d.%d\n", y / 10000, y / 100 % 100, y % 100);
    unsigned x = XXH_versionNumber();
    fprintf(out, "xxhash %u.%u.%u\n", x / 10000, x / 100 % 100, x % 100);
    unsigned long h = about_http_parser_version();
    fprintf(out, "http-parser %lu.%lu.%lu\n", h >> 16 & 255, h >> 8 & 255, h & 255);
}
