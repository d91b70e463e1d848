/* ingest.c - rejection reports shared by the input parsers: see ingest.h. */
#include "ingest.h"

#include <stdarg.h>
#include <stdio.h>

#include "../common/json_write.h"

void ingest_report_reset(ingest_report_t *r)
{
    r->rejected = r->listed = 0;
    buf_reset(&r->json);
}

void ingest_report_free(ingest_report_t *r)
{
    buf_free(&r->json);
    r->rejected = r->listed = 0;
}

void ingest_reject(ingest_report_t *r, size_t line, const char *fmt, ...)
{
    r->rejected++;
    if (r->listed >= INGEST_REPORT_MAX)
        return;
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof why)
        n = sizeof why - 1;
    if (r->listed)
        buf_putc(&r->json, ',');
    buf_puts(&r->json, "{\"");
    buf_puts(&r->json, r->unit ? r->unit : "line");
    buf_puts(&r->json, "\":");
    buf_append_u64(&r->json, line);
    buf_puts(&r->json, ",\"error\":");
    json_str(&r->json, why, (size_t)n);
    buf_putc(&r->json, '}');
    r->listed++;
}
