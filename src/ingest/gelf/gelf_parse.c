/* gelf_parse.c - GELF messages: see gelf_parse.h. */
#include "gelf_parse.h"

#include <stdio.h>
#include <zlib.h>

static const jmap_key_t gelf_keys[] = {
    {"short_message", JM_MSG, 2},
    {"message", JM_MSG, 1},
    {"timestamp", JM_TS, 1},
    {"level", JM_LEVEL, 1},
    {"host", JM_HOST, 1},
    {"_app", JM_APP, 5},
    {"_application_name", JM_APP, 4},
    {"_service", JM_APP, 3},
    {"facility", JM_APP, 2},
    {"_facility", JM_APP, 1}, /* gelf-pro's, an additional field */
    {"_pid", JM_PID, 2},
    {"_process_id", JM_PID, 1},
    {"_topic", JM_TOPIC, 1},
    {"version", JM_DROP, 1},
};
static const jmap_t gelf_map = {gelf_keys, sizeof gelf_keys / sizeof gelf_keys[0], "_"};

void gelf_parser_init(gelf_parser_t *gp, size_t max_msg, size_t max_inflated)
{
    memset(gp, 0, sizeof *gp);
    jdom_init(&gp->dom);
    recbuild_init(&gp->rb, max_msg);
    gp->max_inflated = max_inflated;
}

void gelf_parser_free(gelf_parser_t *gp)
{
    jdom_free(&gp->dom);
    recbuild_free(&gp->rb);
    buf_free(&gp->sc.path);
    buf_free(&gp->sc.value);
    buf_free(&gp->sc.keys);
    buf_free(&gp->sc.prev);
    buf_free(&gp->inflated);
}

/* zlib (0x78 then a valid check) or gzip (0x1f 0x8b) */
static int compressed(const unsigned char *p, size_t n)
{
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
        return 1;
    return n >= 2 && (p[0] & 0x0f) == 8 && ((p[0] << 8) | p[1]) % 31 == 0;
}

/* Inflates into gp->inflated (as far as it goes). 0 when whole. */
static int inflate_all(gelf_parser_t *gp, const char *p, size_t n, const char **why)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    buf_reset(&gp->inflated);
    if (inflateInit2(&z, 32 + MAX_WBITS) != Z_OK) {
        *why = "cannot decompress";
        return -1;
    }
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    int rc = Z_OK;
    *why = NULL;
    while (rc == Z_OK) {
        if (gp->inflated.len >= gp->max_inflated) {
            *why = "GELF message larger than its limit once decompressed";
            break;
        }
        size_t room = gp->max_inflated - gp->inflated.len;
        if (room > 64 * 1024)
            room = 64 * 1024;
        z.next_out = (Bytef *)buf_reserve(&gp->inflated, room);
        z.avail_out = (uInt)room;
        rc = inflate(&z, Z_NO_FLUSH);
        gp->inflated.len += room - z.avail_out;
        if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0)
            rc = Z_BUF_ERROR; /* input ended before the stream did */
    }
    inflateEnd(&z);
    if (rc == Z_STREAM_END)
        return 0;
    if (!*why)
        *why = "compressed GELF message is truncated or corrupt";
    return -1;
}

int gelf_parse(gelf_parser_t *gp, const char *p, size_t n, batch_t *b, const rec_defaults_t *d,
               const char **err)
{
    if (compressed((const unsigned char *)p, n)) {
        if (inflate_all(gp, p, n, err))
            return -1;
        p = gp->inflated.data ? gp->inflated.data : "";
        n = gp->inflated.len;
    }
    if (jdom_parse(&gp->dom, p, n)) {
        snprintf(gp->err, sizeof gp->err, "not a GELF message: %s", gp->dom.err);
        *err = gp->err;
        return -1;
    }
    if (jdom_type(&gp->dom, 0) != J_OBJ) {
        *err = "not a GELF message: expected a JSON object";
        return -1;
    }
    recbuild_t *rb = &gp->rb;
    jmap_result_t res;
    recbuild_reset(rb);
    jmap_object(&gp->dom, 0, &gelf_map, rb, &gp->sc, &res);
    if (!res.has[JM_MSG]) {
        *err = "GELF message has no short_message";
        return -1;
    }
    recbuild_finish(rb, b, d);
    return 0;
}

void gelf_raw(gelf_parser_t *gp, const char *p, size_t n, const char *why, batch_t *b,
              const rec_defaults_t *d)
{
    recbuild_t *rb = &gp->rb;
    const char *w;
    recbuild_reset(rb);
    if (compressed((const unsigned char *)p, n)) {
        inflate_all(gp, p, n, &w); /* what decodes of it */
        p = gp->inflated.data ? gp->inflated.data : "";
        n = gp->inflated.len;
    }
    recbuild_set(rb, RF_MSG, p, n);
    recbuild_field_key(rb, "parse_error", 11);
    recbuild_field_str(rb, why, strlen(why));
    recbuild_finish(rb, b, d);
}
