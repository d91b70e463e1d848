/* fuzz_form.c - the urlencoded form decoder, the HTTPHandler field mapping
 * and Python %-formatting, on arbitrary bytes. */
#include <stdint.h>

#include "fuzz_common.h"
#include "ingest/http/http_parse.h"
#include "ingest/http/pyfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static http_parse_t hp;
    static int ready;
    if (!ready) {
        http_parse_init(&hp, 4096);
        ready = 1;
    }
    batch_t b = {0};
    ingest_report_t rep = {0};
    rec_defaults_t d = {.level = -1, .now = 1};
    const char *err = NULL;
    http_parse_body(&hp, HTTP_BODY_FORM, (const char *)data, size, &b, &d, &rep, &err);
    fuzz_check_batch(&b);

    /* split the input at its first NUL into template and args repr */
    const uint8_t *nul = memchr(data, 0, size);
    if (nul) {
        buf_t out = BUF_INIT;
        size_t tn = (size_t)(nul - data);
        pyfmt_format(&out, (const char *)data, tn, (const char *)nul + 1, size - tn - 1);
        buf_free(&out);
    }
    batch_free(&b);
    ingest_report_free(&rep);
    return 0;
}
