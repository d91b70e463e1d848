/* fuzz_syslog.c - the syslog message parser (RFC 5424, RFC 3164, bare
 * <PRI>text) on arbitrary bytes: exactly one well-formed record per message,
 * its topic agrees with its level, its fields are one valid JSON object. */
#include <stdint.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "common/level.h"
#include "common/timeutil.h"
#include "fuzz_common.h"
#include "ingest/syslog/syslog_parse.h"

static void check_record(const batch_t *b, size_t off, enum syslog_result res, size_t max_msg)
{
    record_t r;
    if (record_decode(b->frames.data + off, b->frames.len - off, &r) <= 0)
        abort();
    if (r.msg.n > max_msg)
        abort();
    const char *ln = level_name(r.level);
    size_t lnn = strlen(ln);
    if (res == SYSLOG_RAW) {
        if (r.level != LEVEL_NOTICE || !slice_eq(r.topic, "user.notice") || r.fields.n < 16 ||
            memcmp(r.fields.p, "{\"parse_error\":\"", 16) != 0)
            abort();
    } else {
        /* "<facility>.<level>" */
        if (r.topic.n < lnn + 2 || r.topic.p[r.topic.n - lnn - 1] != '.' ||
            memcmp(r.topic.p + r.topic.n - lnn, ln, lnn) != 0)
            abort();
        int found = 0;
        for (int f = 0; f < 24; f++) {
            const char *fn = syslog_facility_name(f);
            if (strlen(fn) == r.topic.n - lnn - 1 && memcmp(fn, r.topic.p, strlen(fn)) == 0)
                found = 1;
        }
        if (!found)
            abort();
    }
    if (r.fields.n) {
        char *js = malloc(r.fields.n + 1);
        memcpy(js, r.fields.p, r.fields.n);
        js[r.fields.n] = '\0';
        yajl_val v = yajl_tree_parse(js, NULL, 0);
        if (!v || !YAJL_IS_OBJECT(v))
            abort();
        yajl_tree_free(v);
        free(js);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static recbuild_t rb;
    static int ready;
    const size_t max_msg = 256;
    if (!ready) {
        recbuild_init(&rb, max_msg);
        ready = 1;
    }
    batch_t b = {0};
    /* mid-November and just after New Year (the previous-year rule) */
    static const int64_t nows[2] = {1763722800LL * NS_PER_SEC, 1767226500LL * NS_PER_SEC};
    for (int k = 0; k < 2; k++) {
        rec_defaults_t d = {.host = SLICE_LIT("192.0.2.7"), .level = -1, .now = nows[k]};
        size_t off = b.frames.len;
        enum syslog_result res = syslog_parse((const char *)data, size, &rb, &b, &d);
        if (res != SYSLOG_OK && res != SYSLOG_RAW)
            abort();
        if (b.count != (size_t)k + 1)
            abort(); /* exactly one record per message, never dropped */
        check_record(&b, off, res, max_msg);
    }
    fuzz_check_batch(&b);
    batch_free(&b);
    return 0;
}
