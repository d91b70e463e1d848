/* csv.c - records as CSV rows: see csv.h. */
#include "csv.h"

#include "../common/level.h"
#include "../common/timeutil.h"

void csv_header(buf_t *out)
{
    buf_puts(out, "seq,ts,level,topic,host,app,pid,msg,fields\r\n");
}

static void cell(buf_t *out, slice_t s)
{
    buf_putc(out, '"');
    if (s.n && (s.p[0] == '=' || s.p[0] == '+' || s.p[0] == '-' || s.p[0] == '@' || s.p[0] == '\t'))
        buf_putc(out, '\'');
    size_t from = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] != '"')
            continue;
        buf_append(out, s.p + from, i + 1 - from);
        buf_putc(out, '"');
        from = i + 1;
    }
    buf_append(out, s.p + from, s.n - from);
    buf_putc(out, '"');
}

void csv_record(buf_t *out, const record_t *r)
{
    char ts[RFC3339_MAX];
    size_t tn = time_format_rfc3339(r->ts, ts);
    buf_reserve(out, 64 + record_frame_size(r));
    buf_append_u64(out, r->seq);
    buf_putc(out, ',');
    buf_append(out, ts, tn);
    buf_putc(out, ',');
    buf_puts(out, level_name(r->level));
    buf_putc(out, ',');
    cell(out, r->topic);
    buf_putc(out, ',');
    cell(out, r->host);
    buf_putc(out, ',');
    cell(out, r->app);
    buf_putc(out, ',');
    cell(out, r->pid);
    buf_putc(out, ',');
    cell(out, r->msg);
    buf_putc(out, ',');
    cell(out, r->fields);
    buf_puts(out, "\r\n");
}
